"""Request and response shapes of time-limited grants."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tradeguard.access.grants import GrantAsk
from tradeguard.core.permissions import Permission
from tradeguard.core.reasons import Reason
from tradeguard.web.bodies import Body


class GrantAskBody(Body):
    """A permission asked for, why, and for how long."""

    permission: Permission
    reason: Reason = Field(description="Why; at least 20 characters for break-glass")
    duration_minutes: int = Field(description="From 1 minute up to grant_max_hours")

    def ask(self) -> GrantAsk:
        """The request as the service takes it."""
        return GrantAsk(self.permission, self.reason, self.duration_minutes)


class GrantView(BaseModel):
    """A grant as its holder and admins see it."""

    id: str
    user_id: str
    username: str
    permission: str
    reason: str
    duration_minutes: int
    break_glass: bool
    status: str = Field(description="requested, active, expired, denied or revoked")
    requested_at: str
    decided_by: str | None
    decided_at: str | None
    expires_at: str | None
    revoked_at: str | None
