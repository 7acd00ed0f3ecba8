"""Where counters live: the ``limits`` library's in-process or Redis storage.

Every count is a fixed window that starts at a key's first increment and ends when the
key expires (the ``limits`` fixed-window strategy). Calling the storage directly lets one
atomic increment give both the verdict and the RateLimit headers, and keeps a tightened
limit counting in the same window. With Redis every node shares the counters, under
``<redis_key_prefix>ratelimit:``.
"""

from __future__ import annotations

from typing import Protocol

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
