"""Public key publication: the signing keys a verifier needs, and the token JWKS."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.crypto.runtime import Crypto
from tradeguard.crypto.schemas import JsonWebKeySet, PublishedKey, PublishedKeys
from tradeguard.crypto.signing import PublicSigningKey, SigningPurpose
from tradeguard.web.provide import provided
from tradeguard.web.routing import PUBLIC

router = APIRouter(tags=["keys"], dependencies=[PUBLIC])
CryptoDep = Annotated[Crypto, provided(Crypto)]
SessionsDep = Annotated[sessionmaker[Session], provided(sessionmaker)]


@router.get("/v1/keys/signing", summary="Public signing keys (audit checkpoints and tokens)")
def signing_keys(crypto: CryptoDep, sessions: SessionsDep) -> PublishedKeys:
    """List every public signing key, including retired ones that still verify old signatures."""
    with sessions() as session:
        keys = crypto.signing.public_keys(session)
    return PublishedKeys(keys=[_published(key) for key in keys])


@router.get("/.well-known/jwks.json", summary="JSON Web Key Set of the token-signing keys")
def jwks(crypto: CryptoDep, sessions: SessionsDep) -> JsonWebKeySet:
    """The token keys as a JWK set (EdDSA / Ed25519), so clients can verify access tokens."""
    with sessions() as session:
        return JsonWebKeySet(**crypto.signing.jwks(session, SigningPurpose.TOKEN))


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
