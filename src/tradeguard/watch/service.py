"""The embedded watchers of one server: registered runners, run in turn, their lag watched.

A watcher that fails or falls more than ``max_lag`` events behind the trail raises an
operational alert (typology ``watch.failed`` or ``watch.lag``) in the one alert store,
and makes ``/readyz`` fail: a watcher is never skipped in silence.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.store import AlertStore
from tradeguard.core.clock import NS_PER_SECOND, Clock
from tradeguard.db.session import transaction
from tradeguard.logs import get_logger
from tradeguard.watch.cursor import cursor_position, give_way, head_seq
from tradeguard.watch.runner import CursorRunner, WatcherFactory

log = get_logger("tradeguard.watch")
WATCH_SOURCE = "watch"
HOUR_NS = 3600 * NS_PER_SECOND


@dataclass(frozen=True, slots=True)
class WatchPolicy:
    """How much a runner reads at once and how far behind it may fall."""

    batch: int = 1000
    max_lag: int = 10_000


@dataclass(slots=True)
class WatchService:
    """Every embedded watcher of the server."""

    sessions: sessionmaker[Session]
    store: AlertStore
    clock: Clock
    policy: WatchPolicy = field(default_factory=WatchPolicy)
    runners: list[CursorRunner] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    _running: threading.Lock = field(default_factory=threading.Lock)
    _stopped: bool = False
    waker: Callable[[], None] | None = None
    """Wakes the loop that runs the watchers (set by that loop while it runs)."""

    def nudge(self) -> None:
        """New events were committed: run the watchers now rather than at the next poll."""
        waker = self.waker
        if waker is not None:
            waker()

    def register(self, factory: WatcherFactory) -> CursorRunner:
        """Run the watchers ``factory`` makes over the audit table from now on."""
        runner = CursorRunner(
            self.sessions, self.store, factory, self.clock, batch=self.policy.batch
        )
        self.runners.append(runner)
        return runner

    def reload(self) -> None:
        """Rebuild every watcher from its history (after its reference data changed)."""
        for runner in self.runners:
            runner.watcher = None

    def stop(self) -> None:
        """Wait for the batch in progress, then run no more (the server is shutting down)."""
        with self._running:
            self._stopped = True

    def run_once(self) -> int:
        """One batch of every watcher (none once stopped); a failing one is reported."""
        with self._running:
            return 0 if self._stopped else self._run_all()

    def _run_all(self) -> int:
        processed = 0
        for runner in self.runners:
            try:
                processed += runner.run_once().events
                self.failing.discard(runner.name)
            except Exception:  # noqa: BLE001 - reported as an alert; the next poll retries
                self.failing.add(runner.name)
                self._report(runner.name, "watch.failed", {"error": "batch failed"})
        self._report_lag()
        return processed

    def lags(self, db: Session) -> dict[str, int]:
        """How many events each watcher is behind the head of the trail."""
        give_way(db)
        head = head_seq(db)
        return {runner.name: head - cursor_position(db, runner.name) for runner in self.runners}

    def behind(self, db: Session) -> dict[str, int]:
        """The watchers that fail or lag more than the policy allows, with their lag."""
        lags = self.lags(db)
        return {
            name: lag
            for name, lag in lags.items()
            if lag > self.policy.max_lag or name in self.failing
        }

    def _report_lag(self) -> None:
        try:
            with self.sessions() as db:
                lags = self.lags(db)
        except Exception:  # noqa: BLE001 - unreadable now; the next poll tries again
            log.warning("watch.lag_unreadable")
            return
        behind = {name: lag for name, lag in lags.items() if lag > self.policy.max_lag}
        for name, lag in behind.items():
            self._report(name, "watch.lag", {"lag": lag, "max_lag": self.policy.max_lag})

    def _report(self, name: str, typology: str, evidence: dict[str, object]) -> None:
        """One operational alert per watcher, problem and hour."""
        now = self.clock.now_ns()
        hour = now - now % HOUR_NS
        draft = AlertDraft(
            typology,
            1.0,
            Subject(),
            hour,
            now,
            typology,
            f"{name}:{hour}",
            evidence | {"watcher": name},
        )
        try:
            with transaction(self.sessions) as db:
                self.store.raise_alert(db, draft, WATCH_SOURCE)
        except Exception:
            log.exception("watch.report_failed", watcher=name, typology=typology)
