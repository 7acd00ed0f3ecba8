"""Brute-force protection for sign-in: per account name and per IP address.

Failures count within a window. From the second failure on, the next attempt must
wait a doubling delay (1, 2, 4, ... seconds); at the limit the key locks for the lock
period, doubled for each earlier lock (capped at a day). Unknown account names are
counted exactly like known ones, so the throttle reveals nothing about existence.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tradeguard.core.clock import NS_PER_SECOND, Clock
from tradeguard.db.upsert import insert_if_absent
from tradeguard.identity.models import LoginThrottle
from tradeguard.identity.problems import AuthReason, throttled

MAX_LOCK_SECONDS = 86_400
MAX_DELAY_SECONDS = 60


class ThrottleKind(StrEnum):
    """What a throttle counts failures of."""

    ACCOUNT = "account"
    IP = "ip"


@dataclass(frozen=True, slots=True)
class ThrottleLimits:
    """How many failures lock what, and for how long."""

    account_failures: int
    ip_failures: int
    window_seconds: int
    lock_seconds: int

    def limit(self, kind: ThrottleKind) -> int:
        """The failures that lock a key of ``kind``."""
        return self.account_failures if kind is ThrottleKind.ACCOUNT else self.ip_failures


@dataclass(frozen=True, slots=True)
class FailureOutcome:
    """What one more failure did: whether it locked a key, and which kinds."""

    locked: tuple[ThrottleKind, ...]
    lock_seconds: int


def throttle_key(kind: ThrottleKind, value: str) -> bytes:
    """The stored key: a digest, so the table holds no account names or addresses."""
    return hashlib.sha256(f"{kind.value}\x00{value.casefold()}".encode()).digest()


class LoginThrottler:
    """Counts sign-in failures and refuses attempts while a key waits or is locked."""

    def __init__(self, clock: Clock, limits: ThrottleLimits) -> None:
        self._clock = clock
        self._limits = limits

    def check(self, session: Session, keys: dict[ThrottleKind, str]) -> None:
        """Raise AUTH_THROTTLED (429, Retry-After) while any of ``keys`` must wait."""
        now = self._clock.now_ns()
        digests = [throttle_key(kind, value) for kind, value in keys.items()]
        rows = session.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(digests)))
        waits = [(row.locked_until_ns or 0) - now for row in rows]
        waits = [wait for wait in waits if wait > 0]
        if waits:
            seconds = -(-max(waits) // NS_PER_SECOND)
            raise throttled(
                AuthReason.THROTTLED, "too many failed attempts; try again later", seconds
            )

    def fail(self, session: Session, keys: dict[ThrottleKind, str]) -> FailureOutcome:
        """Count one failure against each key; returns which keys this failure locked."""
        locked: list[ThrottleKind] = []
        lock_seconds = 0
        for kind, value in keys.items():
            seconds = self._fail_one(session, kind, throttle_key(kind, value))
            if seconds:
                locked.append(kind)
                lock_seconds = max(lock_seconds, seconds)
        return FailureOutcome(tuple(locked), lock_seconds)

    def succeed(self, session: Session, account: str) -> None:
        """Forget the account's failures after a successful sign-in."""
        key = throttle_key(ThrottleKind.ACCOUNT, account)
        session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))

    def _fail_one(self, session: Session, kind: ThrottleKind, key: bytes) -> int:
        now = self._clock.now_ns()
        row = self._locked_row(session, kind, key, now)
        if now - row.window_start_ns > self._limits.window_seconds * NS_PER_SECOND:
            row.failures, row.window_start_ns = 0, now
        row.failures += 1
        if row.failures >= self._limits.limit(kind):
            seconds = min(self._limits.lock_seconds << min(row.locks, 16), MAX_LOCK_SECONDS)
            row.locks += 1
            row.failures = 0
            row.locked_until_ns = now + seconds * NS_PER_SECOND
            return seconds
        if row.failures >= 2:  # noqa: PLR2004 - one mistyped password costs no delay
            delay = min(2 ** (row.failures - 2), MAX_DELAY_SECONDS)
            row.locked_until_ns = now + delay * NS_PER_SECOND
        return 0

    def _locked_row(
        self, session: Session, kind: ThrottleKind, key: bytes, now: int
    ) -> LoginThrottle:
        insert_if_absent(
            session,
            LoginThrottle,
            {
                "key": key,
                "kind": kind.value,
                "failures": 0,
                "window_start_ns": now,
                "locked_until_ns": None,
                "locks": 0,
            },
        )
        query = select(LoginThrottle).where(LoginThrottle.key == key).with_for_update()
        return session.scalars(query).one()
