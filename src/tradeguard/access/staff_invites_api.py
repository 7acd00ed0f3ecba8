"""Routes of staff enrolment and invitations, and the page an enrolment link opens.

``GET /staff/enrol?token=...`` is the page of an emailed (or printed) one-time link;
``POST /v1/staff/enrolment`` (public: the link is the credential) creates the account and
answers an enrolment-only session in which the page registers a security key.
``/v1/admin/staff/invites`` (``admin:users``) lists, makes, approves and denies
invitations: a second administrator approves one of an administrator.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.access.invite_schemas import (
    EnrolmentRequest,
    EnrolmentStarted,
    InviteCreate,
    InviteFilters,
    InviteOut,
    InvitesOut,
)
from tradeguard.access.models import StaffInvite
from tradeguard.access.staff_enrolment import EnrolmentForm, StaffEnrolment
from tradeguard.access.staff_invites import (
    InviteRequest,
    IssuedInvite,
    Operator,
    StaffInvites,
    status_of,
)
from tradeguard.core.clock import Clock, ns_to_rfc3339
from tradeguard.core.permissions import Permission, Role
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.identity.origin import Origin
from tradeguard.identity.pages import link_value, render_page
from tradeguard.identity.schemas import token_response
from tradeguard.notify.messages import mask_email
from tradeguard.web.provide import provided
from tradeguard.web.routing import PUBLIC, require

AdminUsers = Annotated[Principal, require(Permission.ADMIN_USERS)]
InviteId = Annotated[str, Path(min_length=1, max_length=64)]
PROBLEMS: dict[int | str, dict[str, str]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "Not an administrator (problem+json, ACCESS_DENIED, STAFF_*)"},
    404: {"description": "No such invitation (problem+json, NOT_FOUND)"},
    409: {"description": "The address has an account, or the invitation is decided"},
}

enrolment_router = APIRouter(tags=["staff"], dependencies=[PUBLIC])
admin_router = APIRouter(prefix="/v1/admin/staff", tags=["administration"], responses=PROBLEMS)
pages_router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])


InvitesDep = Annotated[StaffInvites, provided(StaffInvites)]
EnrolmentDep = Annotated[StaffEnrolment, provided(StaffEnrolment)]
ClockDep = Annotated[Clock, provided(Clock)]


def invite_out(invite: StaffInvite, now_ns: int, *, sole_admin: bool = False) -> InviteOut:
    """An invitation as the API shows it."""
    return InviteOut(
        id=invite.id,
        kind=invite.kind,
        email=None if invite.email is None else mask_email(invite.email),
        role=invite.role,
        access_level=invite.access_level,
        status=status_of(invite, now_ns),
        requested_by=invite.requested_by,
        requested_at=ns_to_rfc3339(invite.requested_at_ns),
        decided_by=invite.decided_by,
        decided_at=_time(invite.decided_at_ns),
        link_expires_at=_time(invite.link_expires_at_ns),
        user_id=invite.user_id,
        sole_admin=sole_admin,
    )


def _time(ns: int | None) -> str | None:
    return None if ns is None else ns_to_rfc3339(ns)


def _issued_out(issued: IssuedInvite, clock: Clock) -> InviteOut:
    return invite_out(issued.invite, clock.now_ns(), sole_admin=issued.sole_admin)


@pages_router.get("/staff/enrol")
def staff_enrolment_page(token: str = "") -> HTMLResponse:
    """Set up a staff account from a one-time link: username, password, security key."""
    return render_page(
        "staff_enrolment.html",
        page="staff-enrolment",
        title="Set up your staff account",
        token=link_value(token),
    )


@enrolment_router.post(
    "/v1/staff/enrolment",
    status_code=status.HTTP_201_CREATED,
    summary="Create a staff account from a one-time enrolment link",
    responses={409: {"description": "The username or address is taken (problem+json, STAFF_*)"}},
)
def enrol(
    body: EnrolmentRequest, request: Request, db: DbSession, enrolment: EnrolmentDep
) -> EnrolmentStarted:
    """Spend the link: the account exists, and its session may only register a security key."""
    form = EnrolmentForm(body.token, body.username, body.password)
    enrolled = enrolment.redeem(db, form, Origin.of(request, body.device))
    user = enrolled.user
    return EnrolmentStarted(
        user_id=user.id,
        username=user.username,
        role=user.role,
        access_level=user.access_level,
        authenticators=list(enrolled.authenticators),
        tokens=token_response(enrolled.tokens),
    )


@admin_router.get("/invites", summary="List staff invitations")
def list_invites(
    filters: Annotated[InviteFilters, Query()],
    admin: AdminUsers,  # noqa: ARG001 - declares the permission
    db: DbSession,
    invites: InvitesDep,
    clock: ClockDep,
) -> InvitesOut:
    """Open invitations (or all), newest first."""
    found = invites.listed(db, open_only=filters.open_only)
    return InvitesOut(invites=[invite_out(invite, clock.now_ns()) for invite in found])


@admin_router.post(
    "/invites",
    status_code=status.HTTP_201_CREATED,
    summary="Invite a staff member (an administrator needs a second one's approval)",
)
def create_invite(
    body: InviteCreate,
    admin: AdminUsers,
    request: Request,
    db: DbSession,
    invites: InvitesDep,
    clock: ClockDep,
) -> InviteOut:
    """Email the one-time link, or wait for a second administrator for an ADMIN invitation."""
    caller = Caller.of(admin, request)
    inviter = invites.admin_of(db, caller)
    wanted = InviteRequest(body.email, Role(body.role), body.access_level)
    return _issued_out(invites.invite(db, inviter, wanted, Operator.of(caller)), clock)


@admin_router.post("/invites/{invite_id}/approve", summary="Approve an invitation (link emailed)")
def approve_invite(
    invite_id: InviteId,
    admin: AdminUsers,
    request: Request,
    db: DbSession,
    invites: InvitesDep,
    clock: ClockDep,
) -> InviteOut:
    """As a second administrator: the link goes to the invited address."""
    return _decided(invite_id, Caller.of(admin, request), db, invites, clock, approve=True)


@admin_router.post("/invites/{invite_id}/deny", summary="Deny an invitation")
def deny_invite(
    invite_id: InviteId,
    admin: AdminUsers,
    request: Request,
    db: DbSession,
    invites: InvitesDep,
    clock: ClockDep,
) -> InviteOut:
    """As a second administrator: the invitation closes without a link."""
    return _decided(invite_id, Caller.of(admin, request), db, invites, clock, approve=False)


def _decided(
    invite_id: str,
    caller: Caller,
    db: Session,
    invites: StaffInvites,
    clock: Clock,
    *,
    approve: bool,
) -> InviteOut:
    decider = invites.admin_of(db, caller)
    decided = invites.decide(db, decider, invite_id, Operator.of(caller), approve=approve)
    return _issued_out(decided, clock)
