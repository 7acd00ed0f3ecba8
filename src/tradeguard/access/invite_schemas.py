"""Request and response shapes of staff invitations and enrolment."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from tradeguard.core.labels import Printable
from tradeguard.core.permissions import AccessLevel, Role
from tradeguard.identity.mfa.webauthn import AuthenticatorKind
from tradeguard.identity.schemas import Hints, Secret, Text, TokenResponse
from tradeguard.web.bodies import Body

LINK_TOKEN = r"^[A-Za-z0-9_-]{16,128}$"  # noqa: S105 - the shape of a token, not one
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254), Printable
]


class EnrolmentRequest(Body):
    """The link's token, and the username and password the new staff member chooses."""

    token: str = Field(pattern=LINK_TOKEN, description="The token of the one-time link")
    username: Text
    password: Secret
    device: Hints = Field(default_factory=dict, description="Client device attributes")


class EnrolmentStarted(BaseModel):
    """The new account's enrolment-only session; register a security key in it next."""

    user_id: str
    username: str
    role: str
    access_level: str | None
    authenticators: list[AuthenticatorKind] = Field(
        description="Kinds of authenticator that count as a staff key here"
    )
    tokens: TokenResponse


class InviteCreate(Body):
    """Whom to invite and as what (default level: admin for ADMIN, else read-only)."""

    email: Email
    role: Literal[Role.ADMIN, Role.COMPLIANCE, Role.SUPPORT]
    access_level: AccessLevel | None = None


class InviteFilters(BaseModel):
    """Which invitations to list."""

    model_config = ConfigDict(extra="forbid")

    open_only: bool = Field(default=True, description="Only those awaiting approval or sent")


class InviteOut(BaseModel):
    """An invitation as administrators see it (the address masked while it is kept)."""

    id: str
    kind: str
    email: str | None = Field(description="Masked: a***@example.com; null once closed")
    role: str
    access_level: str
    status: str
    requested_by: str | None
    requested_at: str
    decided_by: str | None
    decided_at: str | None
    link_expires_at: str | None
    user_id: str | None
    sole_admin: bool = Field(default=False, description="Sent at once: no second admin existed")


class InvitesOut(BaseModel):
    """Invitations, newest first."""

    invites: list[InviteOut]
