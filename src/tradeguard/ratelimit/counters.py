"""Where counters live: in the process (``MemoryCounters``) or in Redis (``limits``' storage).

Every count is a fixed window that starts at a key's first increment and ends when the
key expires (the ``limits`` fixed-window strategy). Calling the storage directly lets one
atomic increment give both the verdict and the RateLimit headers, and keeps a tightened
limit counting in the same window. With Redis every node shares the counters, under
``<redis_key_prefix>ratelimit:``. A request's calls (a level, a count and its window's
end; the adaptive counts of its clients) are made together through ``runner``: one round
trip where the counters can batch them (the desk process's, for gateway workers), one
call after another elsewhere.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Protocol, runtime_checkable

import redis
from limits.errors import StorageError
from limits.storage import RedisStorage

from tradeguard.config import Settings

COUNTERS_NAMESPACE = "ratelimit"
STORAGE_ERRORS: tuple[type[Exception], ...] = (StorageError, redis.RedisError)
"""What a failing store raises (wrapped by ``limits``, or straight from the client)."""


class Counters(Protocol):
    """The part of a ``limits`` storage the rate limits use."""

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to ``key`` (created to expire in ``expiry`` s); the new count."""
        ...

    def get(self, key: str) -> int:
        """The count of ``key`` (0 when absent or expired)."""
        ...

    def get_expiry(self, key: str) -> float:
        """When ``key`` expires, as Unix seconds."""
        ...

    def clear(self, key: str) -> None:
        """Forget ``key``."""
        ...


class MemoryCounters:
    """Fixed-window counters in this process's memory, shared by its threads.

    A key past its expiry counts from zero again when next touched; keys nobody touches
    again are dropped by a sweep at most every ``SWEEP_SECONDS``, run by the increment
    that finds it due. (``limits``' own memory storage starts a timer thread every 10 ms
    while any key is counted, and each start waits for the new thread.)
    """

    SWEEP_SECONDS = 10.0

    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._counts: dict[str, tuple[int, float]] = {}
        """Each key's count and when it expires, as Unix seconds."""
        self._lock = threading.Lock()
        self._next_sweep = wall() + self.SWEEP_SECONDS

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to ``key`` (a new window of ``expiry`` s if none); the new count."""
        now = self._wall()
        with self._lock:
            count, ends = self._counts.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + expiry
            count += amount
            self._counts[key] = (count, ends)
            if now >= self._next_sweep:
                self._sweep(now)
        return count

    def get(self, key: str) -> int:
        """The count of ``key`` (0 when absent or expired)."""
        count, ends = self._counts.get(key, (0, 0.0))
        return count if ends > self._wall() else 0

    def get_expiry(self, key: str) -> float:
        """When ``key``'s window ends, as Unix seconds (now when it has none)."""
        now = self._wall()
        _, ends = self._counts.get(key, (0, 0.0))
        return max(now, ends)

    def clear(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._counts.pop(key, None)

    def _sweep(self, now: float) -> None:
        self._counts = {key: entry for key, entry in self._counts.items() if entry[1] > now}
        self._next_sweep = now + self.SWEEP_SECONDS


INCR = "incr"
GET = "get"
EXPIRY = "expiry"
CounterCall = tuple[str, str, int, int]
"""One storage call: the operation, the key, and (for ``incr``) the expiry and amount."""


def incr(key: str, expiry: int, amount: int = 1) -> CounterCall:
    """Add ``amount`` to ``key`` (created to expire in ``expiry`` s); answers the new count."""
    return (INCR, key, expiry, amount)


def get(key: str) -> CounterCall:
    """The count of ``key``."""
    return (GET, key, 0, 0)


def expiry(key: str) -> CounterCall:
    """When ``key`` expires, as Unix seconds."""
    return (EXPIRY, key, 0, 0)


@runtime_checkable
class BatchedCounters(Protocol):
    """Counters that take a request's calls together (one round trip to where they live)."""

    def run_calls(self, calls: Sequence[CounterCall]) -> list[float]:
        """The answers of ``calls``, run in order."""
        ...


@runtime_checkable
class AwaitedCounters(Protocol):
    """Counters whose batches an event loop can await without a thread waiting for them."""

    async def run_calls_async(self, calls: Sequence[CounterCall]) -> list[float]:
        """``run_calls``, awaited."""
        ...


CounterRun = Callable[[Sequence[CounterCall]], list[float]]
AwaitedRun = Callable[[Sequence[CounterCall]], Awaitable[list[float]]]


def runner(counters: Counters) -> CounterRun:
    """How calls run on ``counters``: together when they can batch them, else one by one."""
    if isinstance(counters, BatchedCounters):
        return counters.run_calls
    return partial(run_each, counters)


def awaited_runner(counters: Counters) -> AwaitedRun | None:
    """How an event loop awaits calls on ``counters``; ``None`` if only a thread can wait."""
    return counters.run_calls_async if isinstance(counters, AwaitedCounters) else None


def run_each(counters: Counters, calls: Sequence[CounterCall]) -> list[float]:
    """The answers of ``calls``, run one after another on ``counters``."""
    answers: list[float] = []
    for operation, key, seconds, amount in calls:
        if operation == INCR:
            answers.append(counters.incr(key, seconds, amount))
        elif operation == GET:
            answers.append(counters.get(key))
        elif operation == EXPIRY:
            answers.append(counters.get_expiry(key))
        else:
            raise ValueError(f"no counter operation {operation!r}")
    return answers


def build_counters(settings: Settings, shared: redis.Redis | None) -> Counters:
    """In-process counters, or Redis ones over ``shared``'s checked connection pool."""
    if shared is None or settings.redis_url is None:
        return MemoryCounters()
    return RedisStorage(
        settings.redis_url.get_secret_value(),
        connection_pool=shared.connection_pool,
        key_prefix=settings.redis_key_prefix + COUNTERS_NAMESPACE,
        wrap_exceptions=True,
    )
