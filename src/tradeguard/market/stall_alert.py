"""The operations alert of a market feed that stopped, in the one alert store.

Besides the log line and the gauge (``FeedRunner.check``), a stall raises an alert of
typology ``market.feed.stalled`` that staff see with every other alert: one per hour of
stall (a stall that goes on updates the hour's alert), so a feed that stays down is not
missed and does not flood the queue.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.store import AlertStore
from tradeguard.core.clock import NS_PER_SECOND, Clock
from tradeguard.db.session import transaction
from tradeguard.logs import get_logger

log = get_logger("tradeguard.market")
STALLED = "market.feed.stalled"
SOURCE = "market"
HOUR_NS = 3600 * NS_PER_SECOND


def stall_alert(
    sessions: sessionmaker[Session], store: AlertStore, clock: Clock, source: str
) -> Callable[[], None]:
    """What raises the stall alert of the feed ``source`` (the configured market data)."""

    def raise_stalled() -> None:
        now = clock.now_ns()
        hour = now - now % HOUR_NS
        draft = AlertDraft(
            STALLED, 1.0, Subject(), hour, now, STALLED, f"{source}:{hour}", {"source": source}
        )
        try:
            with transaction(sessions) as db:
                store.raise_alert(db, draft, SOURCE)
        except Exception:
            log.exception("market.feed.stall_alert_failed")

    return raise_stalled
