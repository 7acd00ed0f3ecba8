"""Which events an export covers, from its two ends as an auditor writes them.

Each end is a sequence number (that event, included) or a UTC date/time: the start takes
the events at or after it, the end the events strictly before it (half-open, as the audit
search's ``from``/``to``). An omitted start is the first event and an omitted end the
head of the trail, so omitting both exports the whole trail. The two ends may mix kinds.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradeguard.audit.head import head_sequence
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.search import MAX_INT64
from tradeguard.core.clock import datetime_to_ns
from tradeguard.core.errors import TradeGuardError

WHOLE_TRAIL_START = "the first event"
WHOLE_TRAIL_END = "the head of the trail"


class RangeError(TradeGuardError):
    """An export range that names no events, or an end that is neither kind."""


def export_range(session: Session, start: str | None, end: str | None) -> tuple[int, int]:
    """The first and last sequence numbers from ``start`` to ``end`` (either may be omitted).

    Sequence numbers are returned as given: ``export_bundle`` refuses those that name no
    event (below 1, past the head, or an end before the start) and says why.
    """
    first = 1 if start is None else _first_from(session, start)
    last = head_sequence(session) if end is None else _last_to(session, end)
    if first is None or last is None or (first > last and (_is_time(start) or _is_time(end))):
        since, until = start or WHOLE_TRAIL_START, end or WHOLE_TRAIL_END
        raise RangeError(f"no audit events between {since} and {until}")
    return first, last


def _is_time(text: str | None) -> bool:
    return text is not None and not text.isdigit()


def _first_from(session: Session, text: str) -> int | None:
    if text.isdigit():
        return int(text)
    since = _timestamp_ns(text)
    return session.scalar(select(func.min(AuditEventRow.seq)).where(AuditEventRow.ts_ns >= since))


def _last_to(session: Session, text: str) -> int | None:
    if text.isdigit():
        return int(text)
    until = _timestamp_ns(text)
    return session.scalar(select(func.max(AuditEventRow.seq)).where(AuditEventRow.ts_ns < until))


def _timestamp_ns(text: str) -> int:
    """``2026-11-21`` or ``2026-11-21T09:30:00Z`` as nanoseconds (no zone: UTC).

    Times beyond what the trail's 64-bit timestamps hold are brought within them: no event
    is before 1970 or after 2262 anyway.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RangeError(f"{text!r} is neither a sequence number nor a date/time") from None
    ns = datetime_to_ns(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return min(max(ns, 0), MAX_INT64)
