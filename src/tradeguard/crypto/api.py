"""Public key publication: the signing keys a verifier needs, and the token JWKS."""

from __future__ import annotations

import base64

from fastapi import APIRouter
from pydantic import BaseModel

from tradeguard.access.guard import PUBLIC
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.crypto.signing import PublicSigningKey, SigningPurpose
from tradeguard.services import ServicesDep

router = APIRouter(tags=["keys"], dependencies=[PUBLIC])


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


@router.get("/v1/keys/signing", summary="Public signing keys (audit checkpoints and tokens)")
def signing_keys(services: ServicesDep) -> PublishedKeys:
    """List every public signing key, including retired ones that still verify old signatures."""
    with services.sessions() as session:
        keys = services.crypto.signing.public_keys(session)
    return PublishedKeys(keys=[_published(key) for key in keys])


@router.get("/.well-known/jwks.json", summary="JSON Web Key Set of the token-signing keys")
def jwks(services: ServicesDep) -> JsonWebKeySet:
    """The token keys as a JWK set (EdDSA / Ed25519), so clients can verify access tokens."""
    with services.sessions() as session:
        return JsonWebKeySet(**services.crypto.signing.jwks(session, SigningPurpose.TOKEN))


def _published(key: PublicSigningKey) -> PublishedKey:
    retired = None if key.retired_at_ns is None else ns_to_rfc3339(key.retired_at_ns)
    return PublishedKey(
        kid=key.key_id,
        purpose=key.purpose.value,
        alg="EdDSA",
        public_key=base64.urlsafe_b64encode(key.public_bytes).rstrip(b"=").decode("ascii"),
        created_at=ns_to_rfc3339(key.created_at_ns),
        retired_at=retired,
        active=key.active,
    )
