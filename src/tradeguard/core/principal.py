"""Who is calling: the principal a request acts as, and the state of its session.

The gateway establishes the principal; services take it to check what the caller may
touch (ownership, permissions, grants).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network

from tradeguard.core.clock import NS_PER_SECOND


@dataclass(frozen=True, slots=True)
class SessionState:
    """What each request needs to know about its session, cached briefly."""

    session_id: str
    user_id: str
    revoked: bool
    last_active_ns: int
    idle_timeout_ns: int
    expires_at_ns: int
    step_up_at_ns: int | None
    user_active: bool
    permission_version: int
    ip_allowlist: tuple[IPv4Network | IPv6Network, ...]
    grants: tuple[tuple[str, int], ...] = ()
    """Approved time-limited grants: (permission, expiry in epoch nanoseconds)."""

    def grant_active(self, permission: str, now_ns: int) -> bool:
        """Whether an approved grant of ``permission`` is in force at ``now_ns``."""
        return any(granted == permission and now_ns < until for granted, until in self.grants)

    def idle_expired(self, now_ns: int) -> bool:
        """Whether the session has been inactive longer than its timeout."""
        return now_ns - self.last_active_ns > self.idle_timeout_ns

    def stepped_up_within(self, now_ns: int, seconds: int) -> bool:
        """Whether a strong factor was verified in this session within ``seconds``."""
        if self.step_up_at_ns is None:
            return False
        return now_ns - self.step_up_at_ns <= seconds * NS_PER_SECOND


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the user, their session and what the token grants."""

    user_id: str
    session_id: str
    role: str
    permissions: frozenset[str]
    amr: tuple[str, ...]
    enrollment_only: bool
    state: SessionState | None
    """The session's state; ``None`` for a request signed with an API key."""
    api_key_id: str | None = None
    """The public id of the API key that signed the request, if one did."""
    api_key_scope: str | None = None
