"""How the desk runs and commits a batch of units of work, and what it does when one fails.

Under the desk's lock, each request's work runs in arrival order on the memory the
earlier ones left; then the batch's rows and audit events are written in one transaction
on the desk's own connection, and only after the commit is every request answered and
the feed published. A request whose work fails is answered 503 and the others run again
on memory rebuilt from the database; a batch that cannot be written is answered 503
request by request and memory is rebuilt (``group_commit`` decides who is in a batch).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.recorder import AuditTrail
from tradeguard.core.clock import Clock
from tradeguard.core.errors import ProblemError
from tradeguard.logs import get_logger
from tradeguard.risk.context import RiskContext
from tradeguard.trading.orders.booking import BatchWrites, Booking, FeedEvent
from tradeguard.trading.orders.group_commit import Batch, CommitQueue, Pending
from tradeguard.trading.orders.problems import unavailable

log = get_logger("tradeguard.trading")


@dataclass(frozen=True, slots=True)
class Batching:
    """How order requests are grouped into one commit."""

    max_requests: int = 256
    max_wait_seconds: float = 0.0
    """How long a batch may wait to fill under load; 0 commits at once."""


@dataclass(frozen=True, slots=True)
class DeskParts:
    """What the runner needs of the desk: its lock, storage and memory."""

    lock: threading.RLock
    sessions: sessionmaker[Session]
    audit: AuditTrail
    clock: Clock
    risk: Callable[[], RiskContext]
    booking: Callable[[Session, BatchWrites, Pending[object]], Booking]
    loaded: Callable[[], bool]
    """Whether the memory is loaded (trying to load it again if a rebuild failed)."""
    rebuild: Callable[[], None]
    publish: Callable[[list[FeedEvent]], None]


class BatchRunner:
    """Runs batches of the desk's units of work and commits each once."""

    def __init__(self, parts: DeskParts, batching: Batching) -> None:
        self.parts = parts
        self.queue = CommitQueue(batching.max_requests, batching.max_wait_seconds)
        self._connection: Connection | None = None

    def submit(self, pending: Pending[Any]) -> Any:  # noqa: ANN401 - the work's own result
        """Queue a request for the next batch; its answer once that batch has committed."""
        return self.queue.submit(pending, self.commit)

    def submit_later(self, pending: Pending[Any]) -> None:
        """Queue a request for the next batch and return; its ``on_done`` gets the answer."""
        self.queue.submit_later(pending, self.commit)

    def commit(self, batch: Batch, *, alone: bool = False) -> None:
        """Run and commit ``batch`` (again without a request that failed), then answer it."""
        feed: list[FeedEvent] = []
        with self.parts.lock:
            remaining = batch
            while remaining:
                remaining = self._attempt(remaining, feed, alone=alone)
            if self.queue.idle:
                self.close()
        self.parts.publish(feed)
        for pending in batch:
            pending.finish()

    def close(self) -> None:
        """Give the desk's connection back to the pool (the next batch takes one again).

        Done whenever no request waits: under load one connection serves batch after
        batch with no pool check-out, ping or reset between them.
        """
        with self.parts.lock:
            connection, self._connection = self._connection, None
            if connection is not None:
                connection.close()

    def _attempt(self, batch: Batch, feed: list[FeedEvent], *, alone: bool) -> Batch:
        """One try at a batch; the requests to run again if one of them failed."""
        parts = self.parts
        if not parts.loaded():
            _answer_unavailable(batch, None)
            return []
        writes, bookings = BatchWrites(), []
        try:
            with self._transaction() as db:
                for pending in batch:
                    booking = parts.booking(db, writes, pending)
                    if not _perform(booking, pending, alone=alone):
                        db.rollback()
                        return self._without(batch, pending)
                    bookings.append(booking)
                if not (alone and _refused_without_keeping(batch[0])):
                    writes.commit(db, parts.risk(), parts.audit, parts.clock.now_ns())
        except Exception as error:
            log.exception("trading.batch_commit_failed", requests=len(batch))
            self._drop_connection()
            parts.rebuild()
            _answer_unavailable(batch, error)
            return []
        for booking in bookings:
            feed.extend(booking.feed)
        return []

    def _without(self, batch: Batch, failed: Pending[object]) -> Batch:
        """After ``failed`` raised: rebuild, answer it 503, run the others again."""
        self.parts.rebuild()
        _answer_unavailable([failed], failed.error)
        return [pending for pending in batch if pending is not failed]

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        """A transaction on the desk's own connection (opened again once lost)."""
        connection = self._connection
        if connection is None or connection.closed or connection.invalidated:
            engine: Engine = self.parts.sessions.kw["bind"]
            connection = self._connection = engine.connect()
        with self.parts.sessions(bind=connection) as db:
            db.begin()
            yield db

    def _drop_connection(self) -> None:
        """Forget the connection after a failed commit: the next batch opens a new one."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
            except Exception:  # noqa: BLE001 - it is being thrown away
                log.warning("trading.connection_drop_failed")


def _perform(booking: Booking, pending: Pending[object], *, alone: bool) -> bool:
    """Run one request's work in its batch; False if it failed and the batch must go again.

    A refusal that keeps nothing drops the request's audit events; if it came after the
    work had changed an order, account or position, memory is no longer trusted: failed.
    """
    try:
        pending.result = pending.work(booking)
        pending.error = None
        booking.finish()
    except ProblemError as refusal:
        pending.result, pending.error = None, refusal
        if refusal.keeps_changes or alone:
            return True
        booking.discard_events()
        if booking.changed:
            log.exception("trading.refusal_after_changes", reason=str(refusal.reason_code))
            return False
    except Exception as error:
        log.exception("trading.request_failed")
        pending.result, pending.error = None, error
        return False
    return True


def _refused_without_keeping(pending: Pending[object]) -> bool:
    error = pending.error
    return isinstance(error, ProblemError) and not error.keeps_changes


def _answer_unavailable(batch: Batch, cause: BaseException | None) -> None:
    """Answer each request 503: it may not have been taken; a retry is safe."""
    for pending in batch:
        refusal = unavailable("the order request could not be recorded; retry it")
        refusal.__cause__ = cause
        pending.result, pending.error = None, refusal
