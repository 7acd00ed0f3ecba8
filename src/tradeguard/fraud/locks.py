"""Temporary fraud locks: until when a customer's decision points answer block.

In process by default; in Redis when it is configured, so that a lock set by one node
(or the desk process) holds on every node. A Redis lock expires by itself.
"""

from __future__ import annotations

import threading
from typing import ClassVar

import redis

NS_PER_MS = 1_000_000


class Locks:
    """Locks in this process's memory."""

    in_memory: ClassVar[bool] = True
    """Whether reading a lock stays in this process (never waits for the network)."""

    def __init__(self) -> None:
        self._until: dict[str, int] = {}
        self._guard = threading.Lock()

    def until(self, user: str) -> int:
        """When the user's lock ends (0: none)."""
        return self._until.get(user, 0)

    def extend(self, user: str, until_ns: int, now_ns: int) -> int:
        """Lock until ``until_ns`` unless already locked longer; the lock's end."""
        del now_ns
        with self._guard:
            until = max(self._until.get(user, 0), until_ns)
            self._until[user] = until
        return until

    def release(self, user: str) -> int:
        """End the lock; when it would have ended (0: there was none)."""
        with self._guard:
            return self._until.pop(user, 0)


class RedisLocks(Locks):
    """Locks in Redis under the installation's key prefix, each expiring at its end."""

    in_memory: ClassVar[bool] = False

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        super().__init__()
        self.client = client
        self.prefix = f"{prefix}fraud:lock:"

    def until(self, user: str) -> int:
        """When the user's lock ends (0: none)."""
        raw = self.client.get(self.prefix + user)
        return 0 if raw is None else int(raw)

    def extend(self, user: str, until_ns: int, now_ns: int) -> int:
        """Lock until ``until_ns`` unless already locked longer; the lock's end."""
        until = max(self.until(user), until_ns)
        expiry_ms = max((until - now_ns) // NS_PER_MS, 1)
        self.client.set(self.prefix + user, str(until), px=expiry_ms)
        return until

    def release(self, user: str) -> int:
        """End the lock; when it would have ended (0: there was none)."""
        before = self.until(user)
        self.client.delete(self.prefix + user)
        return before
