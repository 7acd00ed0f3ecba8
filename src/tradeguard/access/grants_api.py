"""Routes of time-limited grants and break-glass.

Staff ask (``profile:manage``; the service refuses non-staff), a different holder of
``admin:grants`` approves or denies, the holder or an admin revokes. Grants that are
not the caller's answer 404.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, status

from tradeguard.access.caller import Caller
from tradeguard.access.grant_schemas import GrantAskBody, GrantView
from tradeguard.access.grants import SECONDS_PER_MINUTE, Grants, HeldGrant
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.identity.origin import Origin
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

router = APIRouter(tags=["access"])
Staff = Annotated[Principal, require(Permission.PROFILE_MANAGE)]
GrantAdmin = Annotated[Principal, require(Permission.ADMIN_GRANTS)]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "Refused (problem+json: ACCESS_DENIED, GRANT_*)"},
    404: {"description": "No such grant of the caller's (problem+json, NOT_FOUND)"},
    409: {"description": "The grant is not in a state for this (problem+json, GRANT_*)"},
    422: {"description": "Invalid request (problem+json, VALIDATION_FAILED, GRANT_*)"},
}


GrantsDep = Annotated[Grants, provided(Grants)]


@router.get("/v1/access/grants", summary="List grants", responses=PROBLEMS)
def list_grants(
    principal: Staff, request: Request, db: DbSession, grants: GrantsDep
) -> list[GrantView]:
    """The caller's own grants; with admin:grants also every pending or running one."""
    return [grant_view(held) for held in grants.visible_to(db, _caller(principal, request))]


@router.post(
    "/v1/access/grants",
    status_code=status.HTTP_201_CREATED,
    summary="Ask for a time-limited permission",
    responses=PROBLEMS,
)
def request_grant(
    body: GrantAskBody, principal: Staff, request: Request, db: DbSession, grants: GrantsDep
) -> GrantView:
    """A staff member asks; the grant is in force once a different admin approves it."""
    return grant_view(grants.request(db, _caller(principal, request), body.ask()))


@router.post("/v1/access/grants/{grant_id}/approve", summary="Approve a grant", responses=PROBLEMS)
def approve_grant(
    grant_id: str, principal: GrantAdmin, request: Request, db: DbSession, grants: GrantsDep
) -> GrantView:
    """In force from now for its duration; never the approver's own grant."""
    return grant_view(grants.approve(db, _caller(principal, request), grant_id))


@router.post("/v1/access/grants/{grant_id}/deny", summary="Deny a grant", responses=PROBLEMS)
def deny_grant(
    grant_id: str, principal: GrantAdmin, request: Request, db: DbSession, grants: GrantsDep
) -> GrantView:
    """Refuse a pending grant; never the decider's own."""
    return grant_view(grants.deny(db, _caller(principal, request), grant_id))


@router.post("/v1/access/grants/{grant_id}/revoke", summary="Revoke a grant", responses=PROBLEMS)
def revoke_grant(
    grant_id: str, principal: Staff, request: Request, db: DbSession, grants: GrantsDep
) -> GrantView:
    """End a grant or withdraw a request now (its holder or an admin)."""
    return grant_view(grants.revoke(db, _caller(principal, request), grant_id))


@router.post(
    "/v1/access/break-glass",
    status_code=status.HTTP_201_CREATED,
    summary="Take a permission at once in an emergency",
    responses=PROBLEMS,
)
def break_glass(
    body: GrantAskBody, principal: Staff, request: Request, db: DbSession, grants: GrantsDep
) -> GrantView:
    """In force at once without approval; alerts compliance and emails them."""
    return grant_view(grants.break_glass(db, _caller(principal, request), body.ask()))


def grant_view(held: HeldGrant) -> GrantView:
    """The response shape of a grant."""
    grant = held.grant
    return GrantView(
        id=grant.id,
        user_id=grant.user_id,
        username=held.username,
        permission=grant.permission,
        reason=grant.reason,
        duration_minutes=grant.duration_seconds // SECONDS_PER_MINUTE,
        break_glass=grant.break_glass,
        status=held.status,
        requested_at=ns_to_rfc3339(grant.requested_at_ns),
        decided_by=grant.decided_by,
        decided_at=_time(grant.decided_at_ns),
        expires_at=_time(grant.expires_at_ns),
        revoked_at=_time(grant.revoked_at_ns),
    )


def _caller(principal: Principal, request: Request) -> Caller:
    return Caller(principal, Origin.of(request))


def _time(ns: int | None) -> str | None:
    return ns_to_rfc3339(ns) if ns is not None else None
