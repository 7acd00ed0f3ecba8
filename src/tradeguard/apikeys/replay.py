"""Nonces seen and keys revoked, shared by every node through Redis or kept in process.

A nonce is remembered per key for twice the timestamp window: a request older than the
window is refused for its timestamp, so a nonce need not be remembered longer. With Redis,
the nonce claim and the revocation lookup travel in one round trip.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import redis

from tradeguard.apikeys.problems import unavailable
from tradeguard.core.clock import Clock

MAX_MEMORY_NONCES = 2_000_000


@dataclass(frozen=True, slots=True)
class Admission:
    """What the shared state says of a signed request: is the key revoked, the nonce new.

    ``since_ms``: when the store began remembering nonces (Unix ms; 0 for always).
    """

    revoked: bool
    nonce_fresh: bool
    since_ms: int = 0


class KeyStateStore(Protocol):
    """Nonces and revocations as every node sees them."""

    def admit(self, key_id: str, nonce: str, ttl_ms: int) -> Admission:
        """Claim ``nonce`` for ``key_id`` (fresh only the first time) and look up revocation."""

    def mark_revoked(self, key_id: str, ttl_ms: int) -> None:
        """Record that ``key_id`` is revoked (for at least ``ttl_ms``)."""


class MemoryKeyState:
    """In-process nonces and revocations (one node), remembered since ``started_ms``."""

    def __init__(
        self, monotonic_ms: Callable[[], int] | None = None, started_ms: int | None = None
    ) -> None:
        self._now_ms = monotonic_ms or (lambda: time.monotonic_ns() // 1_000_000)
        self.started_ms = time.time_ns() // 1_000_000 if started_ms is None else started_ms
        self._nonces: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._revoked: set[str] = set()
        self._lock = threading.Lock()

    def admit(self, key_id: str, nonce: str, ttl_ms: int) -> Admission:
        """Claim the nonce; expired nonces are forgotten oldest first."""
        now = self._now_ms()
        entry = (key_id, nonce)
        with self._lock:
            self._forget_expired(now)
            seen_until = self._nonces.get(entry)
            fresh = seen_until is None or seen_until <= now
            if fresh:
                self._nonces[entry] = now + ttl_ms
                self._nonces.move_to_end(entry)
        return Admission(key_id in self._revoked, fresh, self.started_ms)

    def mark_revoked(self, key_id: str, ttl_ms: int) -> None:
        """Remember the revocation for the life of the process (the database keeps it too)."""
        del ttl_ms
        with self._lock:
            self._revoked.add(key_id)

    def _forget_expired(self, now: int) -> None:
        # Every nonce lives for the same TTL, so insertion order is expiry order.
        while self._nonces:
            entry, until = next(iter(self._nonces.items()))
            if until > now:
                break
            del self._nonces[entry]
        if len(self._nonces) >= MAX_MEMORY_NONCES:  # forgetting a live nonce would allow a replay
            raise unavailable("too many requests in the replay window; retry shortly")


class RedisKeyState:
    """Nonces and revocations in Redis, shared by every node."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix

    def admit(self, key_id: str, nonce: str, ttl_ms: int) -> Admission:
        """``SET NX PX`` the nonce and ``EXISTS`` the revocation in one round trip."""
        pipe = self._client.pipeline(transaction=False)
        pipe.set(self._nonce_key(key_id, nonce), b"1", nx=True, px=ttl_ms)
        pipe.exists(self._revoked_key(key_id))
        try:
            claimed, revoked = pipe.execute()
        except redis.RedisError as exc:
            raise unavailable(f"the shared nonce store does not answer: {exc}") from None
        return Admission(revoked=bool(revoked), nonce_fresh=bool(claimed))

    def mark_revoked(self, key_id: str, ttl_ms: int) -> None:
        """Publish the revocation to every node (it outlives the key's expiry)."""
        self._client.set(self._revoked_key(key_id), b"1", px=max(ttl_ms, 1))

    def _nonce_key(self, key_id: str, nonce: str) -> str:
        return f"{self._prefix}apikey:nonce:{key_id}:{nonce}"

    def _revoked_key(self, key_id: str) -> str:
        return f"{self._prefix}apikey:revoked:{key_id}"


def key_state_store(client: redis.Redis | None, prefix: str, clock: Clock) -> KeyStateStore:
    """Redis-backed state when a client is configured, else in-process from now on ``clock``."""
    if client is None:
        return MemoryKeyState(started_ms=clock.now_ns() // 1_000_000)
    return RedisKeyState(client, prefix)
