"""Group commit: requests that arrive while a batch commits wait and go together in the next.

A request joins the queue and waits. The first request in the queue when no batch is in
flight leads: it takes up to ``max_batch`` waiting requests (itself first) and runs them as
one batch on its own thread; the others wait until the leader has answered them, or until
they reach the front of the queue with no batch in flight and lead the next one. A lone
request therefore leads at once: no timer, no hand-over to another thread.

A request may also be queued without a thread waiting for it (``submit_later``): its
answer goes to its ``on_done`` callback from the thread that ran its batch. The queue's
sequencer thread leads when such a request is first in line; a batch is one wake-up of
that thread, however many requests it holds (the desk process serves the workers' order
requests this way, with no thread per request).

Under load (the last batch held more than one request) a leader may wait up to
``max_wait_seconds`` for the batch to fill; 0, the default, never waits.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

from tradeguard.logs import get_logger

if TYPE_CHECKING:
    from tradeguard.audit.records import Actor
    from tradeguard.trading.orders.booking import Booking

T = TypeVar("T")
log = get_logger("tradeguard.trading")


class Wake:
    """The wake-up of one request's thread: set by others, waited on by that thread only.

    A ``threading.Event`` costs a condition, a new lock and a list of waiters per wait;
    this is one lock held while unset. ``wait`` takes the lock, so it also clears it (the
    thread looks at the queue again after every wake-up: one too many costs a look, never
    a lost answer). Setting an already set wake-up is harmless.
    """

    __slots__ = ("_gate",)

    def __init__(self) -> None:
        self._gate = threading.Lock()
        self._gate.acquire()

    def set(self) -> None:
        """Wake the thread (now, or at its next ``wait``)."""
        try:
            self._gate.release()
        except RuntimeError:  # already set
            return

    def clear(self) -> None:
        """Forget a wake-up not waited for yet."""
        self._gate.acquire(blocking=False)

    def wait(self) -> None:
        """Block until set; the wake-up is then used up."""
        self._gate.acquire()


@dataclass(eq=False, slots=True)
class Pending(Generic[T]):
    """One request in the queue: who asks, the work to run, then its answer."""

    actor: Actor
    request_id: str | None
    work: Callable[[Booking], T]
    result: T | None = None
    error: BaseException | None = None
    done: bool = False
    wake: Wake = field(default_factory=Wake)
    """Set when the request is answered or may lead: only that thread wakes."""
    on_done: Callable[[Pending[T]], None] | None = None
    """Called with the answered request instead of waking a thread (``submit_later``)."""

    def finish(self) -> None:
        """Mark the request answered and wake its thread (or hand it to ``on_done``)."""
        self.done = True
        if self.on_done is None:
            self.wake.set()
            return
        try:
            self.on_done(self)
        except Exception:  # one lost answer must not keep the rest of the batch waiting
            log.exception("trading.answer_failed")

    def answer(self) -> T:
        """The result, or the error raised again (call once ``done``)."""
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]  # set when error is None


Batch = list[Pending[object]]


class CommitQueue:
    """Requests waiting for a batch; one batch in flight at a time."""

    def __init__(self, max_batch: int, max_wait_seconds: float = 0.0) -> None:
        if max_batch < 1 or max_wait_seconds < 0:
            raise ValueError("max_batch must be at least 1 and max_wait_seconds not negative")
        self.max_batch = max_batch
        self.max_wait_seconds = max_wait_seconds
        self.batches = 0
        """Batches run so far."""
        self._waiting: deque[Pending[object]] = deque()
        self._leading = False
        self._gathering = False
        self._last_size = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._sequencer_wake = Wake()
        self._sequencer: threading.Thread | None = None

    @property
    def idle(self) -> bool:
        """Whether no request waits (a batch may still be finishing)."""
        return not self._waiting

    @property
    def leading(self) -> bool:
        """Whether a batch is being run now."""
        return self._leading

    @property
    def waiting(self) -> int:
        """How many requests wait for a batch."""
        return len(self._waiting)

    def submit(self, pending: Pending[T], commit: Callable[[Batch], None]) -> T:
        """Queue ``pending``; lead a batch through ``commit`` when it is this one's turn."""
        queued: Pending[object] = pending  # type: ignore[assignment]
        with self._lock:
            self._waiting.append(queued)
            if self._gathering:
                self._arrived.notify()
        while not pending.done:
            batch = self._turn(queued)
            if batch:
                self._lead(batch, commit)
            elif not pending.done:
                pending.wake.wait()
        return pending.answer()

    def submit_later(self, pending: Pending[T], commit: Callable[[Batch], None]) -> None:
        """Queue ``pending`` and return: its ``on_done`` gets it once its batch committed.

        ``commit`` must be the same for every call: the sequencer thread keeps the first.
        """
        if pending.on_done is None:
            raise ValueError("a request queued for later needs on_done")
        queued: Pending[object] = pending  # type: ignore[assignment]
        queued.wake = self._sequencer_wake
        with self._lock:
            if self._sequencer is None:
                self._sequencer = threading.Thread(
                    target=self._sequence, args=(commit,), name="desk-sequencer", daemon=True
                )
                self._sequencer.start()
            self._waiting.append(queued)
            if self._gathering:
                self._arrived.notify()
            if not self._leading and self._waiting[0] is queued:
                self._sequencer_wake.set()

    def _sequence(self, commit: Callable[[Batch], None]) -> None:
        """The sequencer thread: leads every batch whose first request has no thread."""
        while True:
            self._sequencer_wake.wait()
            try:
                while batch := self._sequencer_turn():
                    self._lead(batch, commit)
            except Exception:  # the thread must live on: requests nobody waits for need it
                log.exception("trading.sequencer_failed")

    def _sequencer_turn(self) -> Batch:
        with self._lock:
            if self._leading or not self._waiting or self._waiting[0].on_done is None:
                return []
            self._leading = True
            self._gather()
            return self._take()

    def _turn(self, pending: Pending[object]) -> Batch:
        """The batch to lead if it is this request's turn, else nothing (and wait)."""
        with self._lock:
            if pending.done or self._leading or self._waiting[0] is not pending:
                pending.wake.clear()
                return []
            self._leading = True
            self._gather()
            return self._take()

    def _gather(self) -> None:
        """Under load, wait up to ``max_wait_seconds`` for the batch to fill."""
        if self.max_wait_seconds <= 0 or self._last_size <= 1:
            return
        deadline = time.monotonic() + self.max_wait_seconds
        self._gathering = True
        try:
            while len(self._waiting) < self.max_batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self._arrived.wait(left)
        finally:
            self._gathering = False

    def _take(self) -> Batch:
        count = min(len(self._waiting), self.max_batch)
        batch = [self._waiting.popleft() for _ in range(count)]
        self._last_size = count
        return batch

    def _lead(self, batch: Batch, commit: Callable[[Batch], None]) -> None:
        """Run ``batch``; whatever happens, every request in it is answered."""
        try:
            commit(batch)
        except BaseException as error:  # each request gets it as its answer
            log.exception("trading.batch_failed")
            for pending in batch:
                if not pending.done:
                    pending.error = error
                    pending.finish()
        finally:
            with self._lock:
                self.batches += 1
                self._leading = False
                if self._waiting:
                    self._waiting[0].wake.set()
