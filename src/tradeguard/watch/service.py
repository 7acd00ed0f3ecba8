"""The embedded watchers of one server: registered runners, run in turn, their lag watched.

A round reads where things stand once (the head of the trail and every cursor, two
statements), and each runner with events after its cursor runs one batch up to that
head: together, in one transaction that reads and decodes the events once and commits
once (``run_together``), unless a runner is failing or stands far from the others. A
watcher that fails or falls more than ``max_lag`` events behind the trail raises an
operational alert (typology ``watch.failed`` or ``watch.lag``, once per watcher, problem
and hour) in the one alert store, and makes ``/readyz`` fail: a watcher is never skipped
in silence.
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
from tradeguard.watch.cursor import Standing, give_way, standing
from tradeguard.watch.runner import CursorRunner, Progress, WatcherFactory, run_together

log = get_logger("tradeguard.watch")
WATCH_SOURCE = "watch"
HOUR_NS = 3600 * NS_PER_SECOND
MIN_TOGETHER = 2
"""A lone runner with events to read runs on its own, as it always could."""


@dataclass(frozen=True, slots=True)
class WatchPolicy:
    """How much a runner reads at once and how far behind it may fall."""

    batch: int = 1000
    max_lag: int = 10_000


@dataclass(frozen=True, slots=True)
class Round:
    """What one round of every watcher did."""

    events: int
    more: bool
    """Whether a runner stopped at its batch limit: more events are waiting already."""


@dataclass(slots=True)
class WatchService:
    """Every embedded watcher of the server."""

    sessions: sessionmaker[Session]
    store: AlertStore
    clock: Clock
    policy: WatchPolicy = field(default_factory=WatchPolicy)
    runners: list[CursorRunner] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    _reported: dict[tuple[str, str], int] = field(default_factory=dict)
    """The hour each watcher's problem was last reported in."""
    _running: threading.Lock = field(default_factory=threading.Lock)
    _stopped: bool = False
    waker: Callable[[], None] | None = None
    """Wakes whatever runs the watchers: the loop of this process while it runs, or, in
    the desk process of ``serve``, a nudge to the watch process (``watch.nudges``)."""

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

    def run_once(self) -> Round:
        """One batch of every watcher (none once stopped); a failing one is reported."""
        with self._running:
            return Round(0, more=False) if self._stopped else self._run_all()

    def _run_all(self) -> Round:
        try:
            with self.sessions() as db:
                now = standing(db, self._names())
        except Exception:  # noqa: BLE001 - reported as an alert; the next poll retries
            log.warning("watch.standing_unreadable")
            for name in self._names():
                self._failed(name)
            return Round(0, more=False)
        together = self._run_together(now)
        processed, more = 0, False
        for runner in self.runners:
            progress = together[runner.name] if runner.name in together else self._run(runner, now)
            if progress is not None:
                processed += progress.events
                more = more or progress.lag > 0
            self._check_lag(runner.name, now.lag(runner.name) if progress is None else progress.lag)
        return Round(processed, more)

    def _run_together(self, now: Standing) -> dict[str, Progress]:
        """One transaction for the runners with events to read, each one's progress by name.

        Only runners that are not failing and stand within a batch of each other go
        together (the shared read spans at most two batches); the others run alone. If the
        shared batch fails, none of them moved: their watchers are dropped, and each runs
        alone, so a failing watcher is reported and held up on its own.
        """
        due = [
            runner
            for runner in self.runners
            if now.lag(runner.name) > 0 and runner.name not in self.failing
        ]
        if not due:
            return {}
        lowest = min(now.position(runner.name) for runner in due)
        due = [runner for runner in due if now.position(runner.name) - lowest <= self.policy.batch]
        if len(due) < MIN_TOGETHER:
            return {}
        try:
            progress = run_together(self.sessions, due, now.head, self.clock.now_ns())
        except Exception:  # each runs alone next, where its failure is reported
            log.exception("watch.round_together_failed")
            for runner in due:
                runner.watcher = None
            return {}
        return {runner.name: done for runner, done in zip(due, progress, strict=True)}

    def _run(self, runner: CursorRunner, now: Standing) -> Progress | None:
        """One batch of ``runner``; None when it failed (reported)."""
        try:
            progress = runner.run_once(now)
        except Exception:  # noqa: BLE001 - reported as an alert; the next poll retries
            self._failed(runner.name)
            return None
        self.failing.discard(runner.name)
        return progress

    def _names(self) -> list[str]:
        return [runner.name for runner in self.runners]

    def lags(self, db: Session) -> dict[str, int]:
        """How many events each watcher is behind the head of the trail."""
        give_way(db)
        now = standing(db, self._names())
        return {name: now.lag(name) for name in self._names()}

    def behind(self, lags: dict[str, int]) -> dict[str, int]:
        """The watchers that fail or lag more than the policy allows, with their lag."""
        return {
            name: lag
            for name, lag in lags.items()
            if lag > self.policy.max_lag or name in self.failing
        }

    def _failed(self, name: str) -> None:
        self.failing.add(name)
        self._report(name, "watch.failed", {"error": "batch failed"})

    def _check_lag(self, name: str, lag: int) -> None:
        if lag > self.policy.max_lag:
            self._report(name, "watch.lag", {"lag": lag, "max_lag": self.policy.max_lag})

    def _report(self, name: str, typology: str, evidence: dict[str, object]) -> None:
        """One operational alert per watcher, problem and hour (raised once in the hour)."""
        now = self.clock.now_ns()
        hour = now - now % HOUR_NS
        if self._reported.get((name, typology)) == hour:
            return
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
            return
        self._reported[name, typology] = hour
