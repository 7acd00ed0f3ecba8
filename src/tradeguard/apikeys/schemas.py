"""Request and response shapes of the API key routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from tradeguard.apikeys.scopes import Scope
from tradeguard.core.labels import Label
from tradeguard.core.reasons import Reason
from tradeguard.web.bodies import Body

Cidr = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CreateKeyRequest(Body):
    """A new key: its scope, a label, optional addresses and a shorter lifetime."""

    scope: Scope = Field(description="trading (orders) or data (read-only)")
    label: Label
    ip_allowlist: list[Cidr] = Field(default_factory=list, max_length=32)
    expires_in_days: int | None = Field(default=None, ge=1, le=90)


class RevokeReportedRequest(Body):
    """Why staff revoke a key (e.g. reported leaked)."""

    reason: Reason


class KeyView(BaseModel):
    """An API key as its owner (or staff) sees it: never the secret."""

    id: str
    key_id: str = Field(description="The value of the TG-API-KEY header")
    owner: str
    label: str
    scope: Scope
    ip_allowlist: list[str]
    created_at: str
    expires_at: str = Field(description="For a rotated key, the end of its overlap")
    status: str = Field(description="active, rotated (in its overlap), expired or revoked")
    expiring_soon: bool = Field(description="Expires within the warning period")
    replaced_by: str | None
    revoked_at: str | None


class IssuedKeyView(KeyView):
    """A new key with its secret, shown this once."""

    secret: str = Field(description="HMAC key of TG-SIGNATURE; store it now, it is not shown again")
