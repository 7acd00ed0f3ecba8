"""Routes of API keys: owners create, list, rotate and revoke; staff revoke reported keys.

Owners act from a stepped-up session. Admins and compliance officers look up and revoke a
key reported leaked. Another user's key answers 404. Requests signed with an API key
never reach these routes: no key scope includes ``profile:manage`` or ``apikey:revoke``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Request, status

from tradeguard.access.caller import Caller
from tradeguard.apikeys.models import ApiKey
from tradeguard.apikeys.schemas import (
    CreateKeyRequest,
    IssuedKeyView,
    KeyView,
    RevokeReportedRequest,
)
from tradeguard.apikeys.scopes import Scope
from tradeguard.apikeys.service import ApiKeyService, IssuedKey, KeyAsk
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.identity.principal import Authenticated, SteppedUp
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

router = APIRouter(tags=["API keys"], dependencies=[require(Permission.PROFILE_MANAGE)])
staff_router = APIRouter(tags=["API keys"])
KeyRevoker = Annotated[Principal, require(Permission.APIKEY_REVOKE)]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "Refused (problem+json: ACCESS_DENIED, AUTH_STEP_UP_REQUIRED, APIKEY_*)"},
    404: {"description": "No such key of the caller's (problem+json, NOT_FOUND)"},
    422: {"description": "Invalid request (problem+json, VALIDATION_FAILED)"},
}


ApiKeysDep = Annotated[ApiKeyService, provided(ApiKeyService)]


@router.post(
    "/v1/api-keys",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key",
    responses=PROBLEMS,
)
def create_key(
    body: CreateKeyRequest, principal: SteppedUp, request: Request, db: DbSession, keys: ApiKeysDep
) -> IssuedKeyView:
    """A new key; its secret is in this response only."""
    ask = KeyAsk(body.scope, body.label, tuple(body.ip_allowlist), body.expires_in_days)
    return _issued_view(keys, keys.create(db, Caller.of(principal, request), ask))


@router.get("/v1/api-keys", summary="List your API keys", responses=PROBLEMS)
def list_keys(principal: Authenticated, db: DbSession, keys: ApiKeysDep) -> list[KeyView]:
    """Every key of the caller's, newest first; keys expiring soon are flagged."""
    return [key_view(keys, key) for key in keys.owned(db, principal.user_id)]


@router.post(
    "/v1/api-keys/{key_row_id}/rotate",
    status_code=status.HTTP_201_CREATED,
    summary="Rotate an API key",
    responses=PROBLEMS,
)
def rotate_key(
    key_row_id: str, principal: SteppedUp, request: Request, db: DbSession, keys: ApiKeysDep
) -> IssuedKeyView:
    """A successor key; the old one keeps working for the rotation overlap."""
    return _issued_view(keys, keys.rotate(db, Caller.of(principal, request), key_row_id))


@router.delete("/v1/api-keys/{key_row_id}", summary="Revoke an API key", responses=PROBLEMS)
def revoke_key(
    key_row_id: str, principal: Authenticated, request: Request, db: DbSession, keys: ApiKeysDep
) -> KeyView:
    """The key stops working on every node from the next request (no step-up: it only protects)."""
    return key_view(keys, keys.revoke_own(db, Caller.of(principal, request), key_row_id))


@staff_router.get(
    "/v1/admin/api-keys/{key_id}", summary="Look up an API key by its id", responses=PROBLEMS
)
def find_key(key_id: str, principal: KeyRevoker, db: DbSession, keys: ApiKeysDep) -> KeyView:
    """Owner and status of a key named in a report (never its secret)."""
    del principal
    return key_view(keys, keys.find(db, key_id))


@staff_router.post(
    "/v1/admin/api-keys/{key_id}/revoke", summary="Revoke a reported key", responses=PROBLEMS
)
def revoke_reported_key(
    key_id: str,
    body: RevokeReportedRequest,
    principal: KeyRevoker,
    request: Request,
    db: DbSession,
    keys: ApiKeysDep,
) -> KeyView:
    """Revoke a key reported leaked (admin or compliance); the owner is emailed."""
    caller = Caller.of(principal, request)
    return key_view(keys, keys.revoke_reported(db, caller, key_id, body.reason))


def key_view(keys: ApiKeyService, key: ApiKey) -> KeyView:
    """The response shape of a key (no secret)."""
    return KeyView(
        id=key.id,
        key_id=key.key_id,
        owner=key.user_id,
        label=key.label,
        scope=Scope(key.scope),
        ip_allowlist=json.loads(key.ip_allowlist) if key.ip_allowlist else [],
        created_at=ns_to_rfc3339(key.created_at_ns),
        expires_at=ns_to_rfc3339(key.expires_at_ns),
        status=keys.status_of(key),
        expiring_soon=keys.expiring_soon(key),
        replaced_by=key.replaced_by,
        revoked_at=ns_to_rfc3339(key.revoked_at_ns) if key.revoked_at_ns is not None else None,
    )


def _issued_view(keys: ApiKeyService, issued: IssuedKey) -> IssuedKeyView:
    return IssuedKeyView(**key_view(keys, issued.key).model_dump(), secret=issued.secret)
