"""One-time codes sent by SMS or email, as a pure state machine the caller persists.

A code lives at most ten minutes, is good for one use and dies after five wrong tries
(ASVS 2.7.2, 2.7.3, 2.8.x). Only its keyed digest is kept, never the code itself.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from enum import StrEnum

from tradeguard.core.clock import NS_PER_SECOND, Clock
from tradeguard.identity.secrets import constant_time_equal, keyed_code_digest

DEFAULT_DIGITS = 6
MIN_DIGITS = 6
MAX_DIGITS = 10
MAX_TTL_SECONDS = 600
DEFAULT_MAX_ATTEMPTS = 5


def new_numeric_code(digits: int = DEFAULT_DIGITS) -> str:
    """A uniformly random code of ``digits`` decimal digits, leading zeros kept."""
    if not MIN_DIGITS <= digits <= MAX_DIGITS:
        raise ValueError(f"digits must be between {MIN_DIGITS} and {MAX_DIGITS}")
    return f"{secrets.randbelow(10**digits):0{digits}d}"


class CodeCheck(StrEnum):
    """The outcome of presenting a one-time code."""

    ACCEPTED = "ACCEPTED"
    WRONG = "WRONG"
    EXPIRED = "EXPIRED"
    USED = "USED"
    EXHAUSTED = "EXHAUSTED"


@dataclass(frozen=True, slots=True)
class OneTimeCode:
    """The stored state of one issued code: its keyed digest, lifetime and attempts."""

    digest: bytes
    purpose: str
    created_ns: int
    expires_ns: int
    attempts: int = 0
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    used: bool = False

    @classmethod
    def issue(
        cls, key: bytes, purpose: str, clock: Clock, ttl_seconds: int = MAX_TTL_SECONDS
    ) -> tuple[str, OneTimeCode]:
        """A new code to send and the state to store; the lifetime is capped at 600 s."""
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        code = new_numeric_code()
        created_ns = clock.now_ns()
        lifetime_ns = min(ttl_seconds, MAX_TTL_SECONDS) * NS_PER_SECOND
        state = cls(
            digest=keyed_code_digest(key, purpose, code),
            purpose=purpose,
            created_ns=created_ns,
            expires_ns=created_ns + lifetime_ns,
        )
        return code, state

    @property
    def exhausted(self) -> bool:
        """Whether the code has had its last wrong attempt."""
        return self.attempts >= self.max_attempts

    def check(self, key: bytes, code: str, now_ns: int) -> tuple[CodeCheck, OneTimeCode]:
        """The outcome of presenting ``code`` at ``now_ns`` and the state to store next.

        The wrong attempt that uses up the last try answers ``EXHAUSTED``.
        """
        refusal = self._refusal(now_ns)
        if refusal is not None:
            return refusal, self
        if constant_time_equal(keyed_code_digest(key, self.purpose, code), self.digest):
            return CodeCheck.ACCEPTED, replace(self, used=True)
        spent = replace(self, attempts=self.attempts + 1)
        return (CodeCheck.EXHAUSTED if spent.exhausted else CodeCheck.WRONG), spent

    def _refusal(self, now_ns: int) -> CodeCheck | None:
        if self.used:
            return CodeCheck.USED
        if self.exhausted:
            return CodeCheck.EXHAUSTED
        if now_ns >= self.expires_ns:
            return CodeCheck.EXPIRED
        return None
