"""Response models of the published keys."""

from __future__ import annotations

from pydantic import BaseModel


class PublishedKey(BaseModel):
    """One public signing key: enough to verify signatures made with it."""

    kid: str
    purpose: str
    alg: str
    public_key: str
    created_at: str
    retired_at: str | None
    active: bool


class PublishedKeys(BaseModel):
    """All public signing keys, active and retired."""

    keys: list[PublishedKey]


class JsonWebKeySet(BaseModel):
    """RFC 7517 key set of the token-signing keys."""

    keys: list[dict[str, str]]
