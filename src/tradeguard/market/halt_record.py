"""Halts and volatility pauses the feed put in force, read back from the audit trail.

The desk holds feed halts in memory only; every one was recorded (``market.halt.started``
and ``market.halt.ended``, the symbol as the subject, the venue in the data). After a
restart the feed's side reads the trail back: a symbol whose last such event in the look-
back window started a halt is halted again, and a volatility pause keeps its end time
(its start plus five minutes), so a restart neither lifts a pause early nor keeps it
for ever. Pure but for the one query.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tradeguard.audit.search import AuditEvent, AuditQuery, search
from tradeguard.core.clock import NS_PER_SECOND

HALT_EVENTS = "market.halt.*"
HALT_STARTED = "market.halt.started"
LOOKBACK_NS = 86_400 * NS_PER_SECOND
"""How far back the trail is read: a halt started before that is not brought back."""
PAGE = 1_000


@dataclass(frozen=True, slots=True)
class RecordedHalt:
    """A halt in force as the trail recorded it: the symbol, the venue and its start."""

    symbol: str
    venue: str
    reason: str
    started_ns: int


def halts_in_force(events: Iterable[AuditEvent]) -> dict[str, RecordedHalt]:
    """Per symbol, the halt its last ``market.halt.*`` event (in trail order) left in force."""
    halts: dict[str, RecordedHalt] = {}
    for event in events:
        symbol, venue = event.subject, event.data.get("venue")
        if symbol is None or not isinstance(venue, str):
            continue
        if event.event_type == HALT_STARTED:
            reason = str(event.data.get("reason", ""))
            halts[symbol] = RecordedHalt(symbol, venue, reason, event.ts_ns)
        else:
            halts.pop(symbol, None)
    return halts


def recorded_halts(db: Session, now_ns: int) -> dict[str, RecordedHalt]:
    """The halts in force per the trail's ``market.halt.*`` events of the look-back window."""
    return halts_in_force(_halt_events(db, now_ns - LOOKBACK_NS))


def _halt_events(db: Session, since_ns: int) -> Iterable[AuditEvent]:
    after = 0
    while True:
        query = AuditQuery(event_type=HALT_EVENTS, since_ns=max(since_ns, 0), after_seq=after)
        page = search(db, query.model_copy(update={"limit": PAGE}))
        yield from page.events
        if page.next_after_seq is None:
            return
        after = page.next_after_seq
