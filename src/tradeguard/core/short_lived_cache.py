"""A per-process cache whose entries live at most a moment (a second by default).

Per-request state read from the database (a session's, an API key's) is cached this
briefly: a change made on another node is seen within the TTL, a change made here at once
(the writer drops the entry).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

DEFAULT_TTL_SECONDS = 1.0
MAX_ENTRIES = 100_000
"""Beyond this the cache starts again empty: bounds memory under spraying of unknown ids."""
V = TypeVar("V")


class ShortLivedCache(Generic[V]):
    """Values by key for at most ``ttl_seconds``; ``drop``/``clear`` forget them at once."""

    def __init__(
        self,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def ttl(self) -> float:
        """How long a value is kept now."""
        return self._ttl

    def get(self, key: str, load: Callable[[], V]) -> V:
        """The cached value of ``key``, loaded when absent or older than the TTL."""
        now = self._monotonic()
        entry = self._entries.get(key)
        if entry is not None and now - entry[0] < self.ttl():
            return entry[1]
        value = load()
        with self._lock:
            self._entries[key] = (now, value)
            if len(self._entries) > MAX_ENTRIES:
                self._entries.clear()
        return value

    def cached(self, key: str) -> V | None:
        """``key``'s value if younger than the TTL, else None (nothing is loaded)."""
        entry = self._entries.get(key)
        if entry is None or self._monotonic() - entry[0] >= self.ttl():
            return None
        return entry[1]

    def drop(self, key: str) -> None:
        """Forget one value (after a change made here)."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        """Forget every value."""
        with self._lock:
            self._entries.clear()
