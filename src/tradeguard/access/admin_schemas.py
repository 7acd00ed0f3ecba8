"""Request and response shapes of the admin API: users, role changes, run-time settings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeguard.audit.search import DEFAULT_LIMIT, MAX_INT64, MAX_LIMIT
from tradeguard.core.permissions import AccessLevel, Role
from tradeguard.core.reasons import Reason
from tradeguard.web.bodies import Body

NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]+$"
ID_PATTERN = r"^[0-9a-f-]{36}$"
PAGE_LIMIT = 200


class UserSearch(BaseModel):
    """Which users to list: ``q`` is a username prefix, or an exact email address."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(default=None, min_length=1, max_length=254, pattern=NO_CONTROL_CHARACTERS)
    status: Literal["active", "suspended"] | None = None
    role: Role | None = None
    after: str | None = Field(default=None, pattern=ID_PATTERN, description="Cursor")
    limit: int = Field(default=50, ge=1, le=PAGE_LIMIT)


class RoleChangeSearch(BaseModel):
    """Which role changes to list."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["requested", "approved", "denied"] | None = None
    after: str | None = Field(default=None, pattern=ID_PATTERN, description="Cursor")
    limit: int = Field(default=50, ge=1, le=PAGE_LIMIT)


class AuditPageQuery(BaseModel):
    """Which page of a user's audit history."""

    model_config = ConfigDict(extra="forbid")

    after_seq: int = Field(default=0, ge=0, le=MAX_INT64, description="Cursor from the last page")
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class ReasonRequest(Body):
    """Why an account is suspended or reactivated."""

    reason: Reason


class RoleChangeRequest(Body):
    """A new role and access level (staff roles need one; customers have none), and why."""

    role: Role
    access_level: AccessLevel | None = None
    reason: Reason


class SettingRequest(Body):
    """A new value of a run-time setting."""

    value: int = Field(strict=True)


class UserOut(BaseModel):
    """A user as a list shows them."""

    id: str
    username: str
    role: str
    access_level: str | None
    status: str
    created_at: str


class UsersPage(BaseModel):
    """A page of users; pass ``next_after`` as ``after`` for the next one."""

    users: list[UserOut]
    next_after: str | None


class FactorOut(BaseModel):
    """A second factor as an administrator sees it (kind and dates, never its secret)."""

    kind: str
    name: str
    authenticator: str | None
    created_at: str
    last_used_at: str | None


class RoleChangeOut(BaseModel):
    """A requested change of role and what was decided."""

    id: str
    user_id: str
    role: str
    access_level: str | None
    reason: str
    status: str
    requested_by: str
    requested_at: str
    decided_by: str | None
    decided_at: str | None


class RoleChangesPage(BaseModel):
    """A page of role changes; pass ``next_after`` as ``after`` for the next one."""

    role_changes: list[RoleChangeOut]
    next_after: str | None


class UserDetailOut(UserOut):
    """One user as an administrator sees them; no password, secret or phone number."""

    email: str
    email_verified: bool
    permissions: list[str]
    permission_version: int
    ip_allowlist_set: bool
    factors: list[FactorOut]
    live_sessions: int
    pending_role_change: RoleChangeOut | None


class SettingOut(BaseModel):
    """A run-time setting: the value in force, the configured default and the range."""

    key: str
    value: int
    default: int
    minimum: int
    maximum: int
    description: str
    updated_at: str | None
    updated_by: str | None
