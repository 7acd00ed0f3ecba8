"""The embedded runner: one watcher over the audit table, through its durable cursor.

``run_once`` starts from where things stand (the head of the trail and the cursor, read
without a lock, by the caller for all its runners at once): with nothing after the
cursor it does nothing more. Otherwise it is one transaction: lock the cursor, read the
events after it up to that head (later ones are the next batch's), feed the watcher,
store its alerts, advance the cursor, commit. A crash anywhere loses
nothing (the cursor did not move) and doubles nothing (the alerts of an episode are
keyed). A watcher keeps state in memory, so after a restart, or after a batch failed
half-way, a fresh watcher is rebuilt from ``warmup_ns`` of history before the cursor:
the alerts that history raises again are dropped (they were stored with the cursor).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.head import head_sequence
from tradeguard.audit.search import AuditEvent
from tradeguard.cases.models import AlertRow
from tradeguard.cases.store import AlertStore
from tradeguard.core.clock import Clock
from tradeguard.db.session import transaction
from tradeguard.logs import get_logger
from tradeguard.watch.cursor import (
    Cursor,
    Standing,
    events_between,
    events_since,
    locked_cursor,
    locked_cursors,
    standing,
)
from tradeguard.watch.partitions import Partition
from tradeguard.watch.watcher import Watcher, relevant

log = get_logger("tradeguard.watch")
WatcherFactory = Callable[[], Watcher]


@dataclass(frozen=True, slots=True)
class Progress:
    """What one batch did."""

    events: int
    alerts: int
    cursor: int
    head: int

    @property
    def lag(self) -> int:
        """Events committed to the trail (up to ``head``) that the watcher has not processed."""
        return max(self.head - self.cursor, 0)


class CursorRunner:
    """Feeds one watcher (or one partition of it) from the audit table."""

    def __init__(  # noqa: PLR0913 - the runner's collaborators
        self,
        sessions: sessionmaker[Session],
        store: AlertStore,
        factory: WatcherFactory,
        clock: Clock,
        *,
        batch: int = 1000,
        partition: Partition | None = None,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.factory = factory
        self.clock = clock
        self.batch = batch
        self.partition = partition or Partition.whole()
        self.watcher: Watcher | None = None
        self._prepared: Watcher | None = None
        self._stored: list[AlertRow] = []
        self.name = self.partition.cursor_name(factory().name)

    def run_once(self, now: Standing | None = None) -> Progress:
        """Process the next batch in one transaction; a failure rebuilds the watcher.

        ``now`` is where things stand, read by the caller for every runner at once; without
        it the runner reads its own. The batch ends at ``now.head`` at the latest.
        """
        self.forget_stored()
        if now is None:
            with self.sessions() as db:
                now = standing(db, [self.name])
        position = now.position(self.name)
        if position >= now.head:
            # Nothing after the cursor: no write transaction that would queue behind (and
            # hold up) the domains' own writes.
            return Progress(0, 0, position, now.head)
        self.prepare()
        try:
            with transaction(self.sessions) as db:
                progress = self._batch(db, now.head)
        except Exception:
            self.watcher = None  # its memory may be ahead of the cursor
            log.exception("watch.batch_failed", watcher=self.name)
            raise
        self.store.committed(self._stored)
        return progress

    def prepare(self) -> None:
        """Build a watcher to replace a lost one, before the batch's transaction.

        A factory that reads the database (its parameters) must not wait on a lock while
        that transaction holds its own.
        """
        if self.watcher is None:
            self._prepared = self.factory()

    def forget_stored(self) -> None:
        """Start a new batch: no alerts stored in it yet."""
        self._stored = []

    def stored(self) -> list[AlertRow]:
        """The alerts the current batch stored or changed."""
        return self._stored

    def run_until_caught_up(self) -> int:
        """Run batches until the cursor reaches the head; the events processed.

        A batch that stored alerts wrote audit events of its own after the head it read:
        the watcher reads those too before it is caught up.
        """
        total = 0
        while True:
            progress = self.run_once()
            total += progress.events
            if progress.lag == 0 and not progress.alerts:
                return total

    def _batch(self, db: Session, head: int) -> Progress:
        cursor = locked_cursor(db, self.name, self.clock.now_ns())
        through = self.through(cursor, head)
        types = self._ready(db, cursor.seq, cursor.ts_ns).event_types
        events = events_between(db, cursor.seq, through, types)
        return self._advance(db, cursor, events, through, head=max(head, cursor.seq))

    def through(self, cursor: Cursor, head: int) -> int:
        """Where a batch from ``cursor`` ends: at ``head``, or ``batch`` events on."""
        return max(min(head, cursor.seq + self.batch), cursor.seq)

    def advance_within(
        self, db: Session, cursor: Cursor, events: Sequence[AuditEvent], through: int, head: int
    ) -> Progress:
        """Feed this runner's part of ``events`` (read for several runners) and move its cursor."""
        mine = [event for event in events if cursor.seq < event.seq <= through]
        return self._advance(db, cursor, mine, through, head=max(head, cursor.seq))

    def process(self, db: Session, events: Sequence[AuditEvent], through: int) -> Progress:
        """Feed the events after the cursor (of this partition) and move the cursor to ``through``.

        Events at or before the cursor are skipped: a redelivered message does nothing.
        """
        cursor = locked_cursor(db, self.name, self.clock.now_ns())
        return self._advance(db, cursor, events, through, head=head_sequence(db))

    def _advance(
        self,
        db: Session,
        cursor: Cursor,
        events: Sequence[AuditEvent],
        through: int,
        *,
        head: int,
    ) -> Progress:
        """Feed the events after the locked ``cursor`` and move it to ``through``."""
        watcher = self._ready(db, cursor.seq, cursor.ts_ns)
        after = (event for event in relevant(watcher, events) if event.seq > cursor.seq)
        fresh = self.partition.select(after)
        alerts = self.feed(db, watcher, fresh)
        if through > cursor.seq:
            ts_ns = fresh[-1].ts_ns if fresh else cursor.ts_ns
            cursor = cursor.move(db, through, ts_ns, self.clock.now_ns())
        return Progress(len(fresh), alerts, cursor.seq, head)

    def feed(self, db: Session, watcher: Watcher, events: Sequence[AuditEvent]) -> int:
        """Give ``events`` to ``watcher`` and store what it raises; how many alerts changed."""
        stored = 0
        for event in events:
            for draft in watcher.observe(event):
                row = self.store.raise_alert(db, draft, watcher.name)
                if row is not None:
                    stored += 1
                    self._stored.append(row)
        return stored

    def ready(self, db: Session, cursor: Cursor) -> Watcher:
        """The live watcher, rebuilt from the history before ``cursor`` if it was lost."""
        return self._ready(db, cursor.seq, cursor.ts_ns)

    def _ready(self, db: Session, cursor: int, cursor_ts_ns: int) -> Watcher:
        """The live watcher, or a fresh one rebuilt from the history before the cursor."""
        if self.watcher is not None:
            return self.watcher
        watcher, self._prepared = self._prepared or self.factory(), None
        if cursor > 0:
            since = cursor_ts_ns - watcher.warmup_ns
            history = events_since(db, since, cursor, watcher.event_types)
            for event in self.partition.select(list(history)):
                watcher.observe(event)  # alerts of the history are stored already
        self.watcher = watcher
        return watcher


def run_together(
    sessions: sessionmaker[Session], runners: Sequence[CursorRunner], head: int, now_ns: int
) -> list[Progress]:
    """One batch of each of ``runners`` up to ``head``, in one transaction; a progress each.

    The cursors are locked with one statement, the events are read and decoded once for
    all (of every type one of them reads) and the transaction commits once. A failure
    leaves every cursor where it was: the caller drops the runners' watchers (their
    memory may be ahead of their cursors) and runs each alone.
    """
    for runner in runners:
        runner.forget_stored()
        runner.prepare()
    with transaction(sessions) as db:
        cursors = locked_cursors(db, [runner.name for runner in runners], now_ns)
        ends = [
            runner.through(cursor, head) for runner, cursor in zip(runners, cursors, strict=True)
        ]
        types: set[str] = set()
        for runner, cursor in zip(runners, cursors, strict=True):
            types |= runner.ready(db, cursor).event_types
        first = min(cursor.seq for cursor in cursors)
        events = events_between(db, first, max(ends), frozenset(types))
        progress = [
            runner.advance_within(db, cursor, events, through, head)
            for runner, cursor, through in zip(runners, cursors, ends, strict=True)
        ]
    for runner in runners:
        runner.store.committed(runner.stored())
    return progress
