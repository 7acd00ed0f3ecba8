"""Where counters live: the ``limits`` library's in-process or Redis storage.

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

from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Protocol, runtime_checkable

import redis
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage

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
        return MemoryStorage()
    return RedisStorage(
        settings.redis_url.get_secret_value(),
        connection_pool=shared.connection_pool,
        key_prefix=settings.redis_key_prefix + COUNTERS_NAMESPACE,
        wrap_exceptions=True,
    )
