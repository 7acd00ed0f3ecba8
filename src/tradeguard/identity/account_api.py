"""Routes of a signed-in user's own security: factors, sessions, devices, profile, allowlist.

Objects are looked up within the caller's own: another user's factor, session or
device answers 404, never 403.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response, status

from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.permissions import Permission
from tradeguard.db.session import DbSession
from tradeguard.identity.factors import FactorKind, Method
from tradeguard.identity.models import AuthSession, Device, Factor
from tradeguard.identity.origin import Origin
from tradeguard.identity.principal import Authenticated, RecentlyVerified, SignedIn, SteppedUp
from tradeguard.identity.problems import AuthReason, invalid
from tradeguard.identity.schemas import (
    Accepted,
    BackupCodes,
    ConfirmFactorRequest,
    DeviceLinkRequest,
    DeviceView,
    EmailRequest,
    EnrolSmsRequest,
    FactorConfirmed,
    FactorView,
    IpAllowlist,
    Profile,
    RenameFactorRequest,
    Revoked,
    SessionView,
    TokenResponse,
    TotpEnrolled,
    WebAuthnOptions,
    WebAuthnOptionsRequest,
    WebAuthnRegisterRequest,
    token_response,
)
from tradeguard.identity.service import IdentityService, IdentityServiceDep
from tradeguard.identity.sessions import RevokeReason
from tradeguard.identity.user_agents import device_name
from tradeguard.web.routing import PUBLIC, require

router = APIRouter(
    tags=["account security"],
    dependencies=[require(Permission.PROFILE_MANAGE, enrolment=True)],
)
FACTOR_CONFLICT: dict[int | str, dict[str, str]] = {
    409: {"description": "Too many factors, already confirmed, or the last one (MFA_*)"},
}
"""What the second-factor routes refuse with besides what every route can answer."""
links_router = APIRouter(tags=["account security"], dependencies=[PUBLIC])


def factor_view(factor: Factor) -> FactorView:
    """A factor as its owner sees it (no secrets)."""
    left = None
    if factor.kind == FactorKind.BACKUP_CODES:
        left = sum(1 for stored in json.loads(factor.backup_code_hashes or "[]") if stored)
    return FactorView(
        id=factor.id,
        kind=factor.kind,
        name=factor.name,
        confirmed=factor.confirmed_at_ns is not None,
        created_at=ns_to_rfc3339(factor.created_at_ns),
        last_used_at=ns_to_rfc3339(factor.last_used_at_ns) if factor.last_used_at_ns else None,
        authenticator=factor.authenticator,
        backup_codes_left=left,
    )


@router.get("/v1/me", summary="The signed-in user")
def me(principal: SignedIn, db: DbSession, service: IdentityServiceDep) -> Profile:
    """Profile, role, permissions and second-factor methods of the caller."""
    user = service.user_of(db, principal)
    return Profile(
        id=user.id,
        username=user.username,
        email=user.email,
        email_verified=user.email_verified_at_ns is not None,
        role=user.role,
        permissions=sorted(principal.permissions),
        enrollment_only=principal.enrollment_only,
        mfa_methods=service.factors.methods(db, user.id),
        ip_allowlist=json.loads(user.ip_allowlist or "[]"),
    )


@router.get("/v1/mfa/factors", summary="List second factors")
def list_factors(
    principal: SignedIn, db: DbSession, service: IdentityServiceDep
) -> list[FactorView]:
    """The caller's confirmed factors."""
    return [factor_view(f) for f in service.factors.confirmed(db, principal.user_id)]


@router.post(
    "/v1/mfa/totp",
    status_code=status.HTTP_201_CREATED,
    summary="Enrol an authenticator app",
    responses=FACTOR_CONFLICT,
)
def enrol_totp(
    principal: RecentlyVerified, request: Request, db: DbSession, service: IdentityServiceDep
) -> TotpEnrolled:
    """A pending TOTP factor with its secret, otpauth:// URI and QR code (SVG)."""
    user = service.user_of(db, principal)
    enrolment = service.factors.enrol_totp(db, user, Origin.of(request))
    return TotpEnrolled(
        factor=factor_view(enrolment.factor),
        secret=enrolment.secret,
        otpauth_uri=enrolment.uri,
        qr_svg=enrolment.qr_svg,
    )


@router.post(
    "/v1/mfa/sms",
    status_code=status.HTTP_201_CREATED,
    summary="Enrol a phone for SMS codes",
    responses=FACTOR_CONFLICT,
)
def enrol_sms(
    body: EnrolSmsRequest,
    principal: RecentlyVerified,
    request: Request,
    db: DbSession,
    service: IdentityServiceDep,
) -> FactorView:
    """A pending SMS factor; the code sent to the phone confirms it."""
    user = service.user_of(db, principal)
    factor = service.factors.enrol_code_factor(
        db, user, Method.SMS, Origin.of(request), phone=body.phone
    )
    return factor_view(factor)


@router.post(
    "/v1/mfa/email",
    status_code=status.HTTP_201_CREATED,
    summary="Enrol email codes",
    responses=FACTOR_CONFLICT,
)
def enrol_email(
    principal: RecentlyVerified, request: Request, db: DbSession, service: IdentityServiceDep
) -> FactorView:
    """A pending email-code factor; the code sent to the address confirms it."""
    user = service.user_of(db, principal)
    return factor_view(
        service.factors.enrol_code_factor(db, user, Method.EMAIL, Origin.of(request))
    )


@router.post(
    "/v1/mfa/factors/{factor_id}/confirm",
    summary="Confirm a pending factor",
    responses=FACTOR_CONFLICT,
)
def confirm_factor(
    factor_id: str,
    body: ConfirmFactorRequest,
    principal: RecentlyVerified,
    request: Request,
    db: DbSession,
    service: IdentityServiceDep,
) -> FactorConfirmed:
    """Confirm with the first code; the account's first factor upgrades the session."""
    user = service.user_of(db, principal)
    factor = service.factors.confirm(db, user, factor_id, body.code, Origin.of(request))
    return FactorConfirmed(factor=factor_view(factor), tokens=_upgraded(db, service, principal))


@router.post("/v1/mfa/webauthn/options", summary="Options to register a passkey or security key")
def webauthn_register_options(
    body: WebAuthnOptionsRequest,
    principal: RecentlyVerified,
    db: DbSession,
    service: IdentityServiceDep,
) -> WebAuthnOptions:
    """Options for navigator.credentials.create()."""
    user = service.user_of(db, principal)
    ceremony_id, options = service.factors.webauthn_options(db, user, body.authenticator)
    return WebAuthnOptions(challenge_id=ceremony_id, public_key=dict(options))


@router.post(
    "/v1/mfa/webauthn",
    status_code=status.HTTP_201_CREATED,
    summary="Register a passkey or security key",
    responses=FACTOR_CONFLICT,
)
def webauthn_register(
    body: WebAuthnRegisterRequest,
    principal: RecentlyVerified,
    request: Request,
    db: DbSession,
    service: IdentityServiceDep,
) -> FactorConfirmed:
    """Store the credential the browser created; user verification is required."""
    user = service.user_of(db, principal)
    factor = service.factors.webauthn_register(
        db,
        user,
        ceremony_id=body.challenge_id,
        credential=body.credential,
        name=body.name,
        origin=Origin.of(request),
    )
    return FactorConfirmed(factor=factor_view(factor), tokens=_upgraded(db, service, principal))


@router.post("/v1/mfa/backup-codes", summary="Generate new backup codes")
def backup_codes(
    principal: RecentlyVerified, request: Request, db: DbSession, service: IdentityServiceDep
) -> BackupCodes:
    """Ten new single-use codes, shown this once; the old ones stop working."""
    if not service.factors.has_factor(db, principal.user_id):
        raise invalid(AuthReason.FACTOR_INVALID, "enrol a second factor before backup codes")
    user = service.user_of(db, principal)
    return BackupCodes(codes=service.factors.regenerate_backup_codes(db, user, Origin.of(request)))


@router.patch("/v1/mfa/factors/{factor_id}", summary="Rename a factor")
def rename_factor(
    factor_id: str,
    body: RenameFactorRequest,
    principal: SteppedUp,
    request: Request,
    db: DbSession,
    service: IdentityServiceDep,
) -> FactorView:
    """Give a factor a new name."""
    user = service.user_of(db, principal)
    return factor_view(service.factors.rename(db, user, factor_id, body.name, Origin.of(request)))


@router.delete(
    "/v1/mfa/factors/{factor_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a factor",
    responses=FACTOR_CONFLICT,
)
def remove_factor(
    factor_id: str,
    principal: SteppedUp,
    request: Request,
    db: DbSession,
    service: IdentityServiceDep,
) -> Response:
    """Remove a factor (not the last one); every session ends."""
    user = service.user_of(db, principal)
    service.factors.remove(db, user, factor_id, Origin.of(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/v1/sessions", summary="List my sessions")
def list_sessions(
    principal: Authenticated, db: DbSession, service: IdentityServiceDep
) -> list[SessionView]:
    """The caller's live sessions, newest first."""
    rows = service.identity.sessions.live_sessions(db, principal.user_id)
    return [_session_view(row, principal.session_id) for row in rows]


@router.delete(
    "/v1/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Sign out one session",
)
def revoke_session(
    session_id: str,
    principal: Authenticated,
    request: Request,
    db: DbSession,
    service: IdentityServiceDep,
) -> Response:
    """End one of the caller's sessions."""
    service.identity.sessions.revoke_own(db, principal.user_id, session_id, Origin.of(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/v1/sessions", summary="Sign out every other session")
def revoke_other_sessions(
    principal: Authenticated, request: Request, db: DbSession, service: IdentityServiceDep
) -> Revoked:
    """End every session of the caller except this one."""
    count = service.identity.sessions.revoke_all(
        db, principal.user_id, RevokeReason.USER, Origin.of(request), keep=principal.session_id
    )
    return Revoked(revoked=count)


@router.get("/v1/devices", summary="List my devices")
def list_devices(
    principal: Authenticated, db: DbSession, service: IdentityServiceDep
) -> list[DeviceView]:
    """The caller's known devices, most recently seen first."""
    return [_device_view(device) for device in service.devices.listed(db, principal.user_id)]


@router.delete(
    "/v1/devices/{device_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Forget a device"
)
def revoke_device(
    device_id: str,
    principal: Authenticated,
    request: Request,
    db: DbSession,
    service: IdentityServiceDep,
) -> Response:
    """Forget a device and end its sessions; it counts as new next time."""
    service.devices.revoke(db, principal.user_id, device_id, Origin.of(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@links_router.post("/v1/devices/approve", summary="Approve a new device (emailed link)")
def approve_device(
    body: DeviceLinkRequest, request: Request, db: DbSession, service: IdentityServiceDep
) -> DeviceView:
    """Approve the device named by an emailed link (the link is the credential)."""
    device = service.devices.resolve_link(db, body.token, report=False, origin=Origin.of(request))
    return _device_view(device)


@links_router.post("/v1/devices/report", summary="Report a new device (emailed link)")
def report_device(
    body: DeviceLinkRequest, request: Request, db: DbSession, service: IdentityServiceDep
) -> DeviceView:
    """Report the device named by an emailed link: it is forgotten and signed out at once."""
    device = service.devices.resolve_link(db, body.token, report=True, origin=Origin.of(request))
    return _device_view(device)


@router.post(
    "/v1/me/email",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Change the email address (needs step-up)",
    responses={409: {"description": "The address has an account (problem+json)"}},
)
def change_email(
    body: EmailRequest,
    principal: SteppedUp,
    request: Request,
    db: DbSession,
    service: IdentityServiceDep,
) -> Accepted:
    """Send a code to the new address; confirm it to switch."""
    user = service.user_of(db, principal)
    origin = Origin.of(request).in_session(principal.session_id)
    service.accounts.start_email_change(db, user, body.email, origin)
    return Accepted(detail="A code was sent to the new address.")


@router.post("/v1/me/email/confirm", summary="Confirm the new email address")
def confirm_email(
    body: ConfirmFactorRequest,
    principal: SteppedUp,
    request: Request,
    db: DbSession,
    service: IdentityServiceDep,
) -> Accepted:
    """Switch to the new address with the code it received."""
    user = service.user_of(db, principal)
    service.accounts.confirm_email_change(db, user, body.code, Origin.of(request))
    return Accepted(detail="The email address was changed.")


@router.put("/v1/account/ip-allowlist", summary="Set the account's IP allowlist (needs step-up)")
def set_ip_allowlist(
    body: IpAllowlist,
    principal: SteppedUp,
    request: Request,
    db: DbSession,
    service: IdentityServiceDep,
) -> IpAllowlist:
    """Replace the networks the account may be used from; empty allows any address."""
    user = service.user_of(db, principal)
    networks = service.accounts.set_ip_allowlist(db, user, body.networks, Origin.of(request))
    return IpAllowlist(networks=networks)


def _upgraded(db: DbSession, service: IdentityService, principal: SignedIn) -> TokenResponse | None:
    tokens = service.upgrade_if_enrolled(db, principal)
    return token_response(tokens) if tokens is not None else None


def _session_view(row: AuthSession, current: str) -> SessionView:
    return SessionView(
        id=row.id,
        current=row.id == current,
        device_id=row.device_id,
        ip=row.ip,
        user_agent=row.user_agent,
        device_name=device_name(row.user_agent or ""),
        amr=row.amr.split(),
        created_at=ns_to_rfc3339(row.created_at_ns),
        last_active_at=ns_to_rfc3339(row.last_active_ns),
    )


def _device_view(device: Device) -> DeviceView:
    return DeviceView(
        id=device.id,
        name=device_name(device.label),
        label=device.label,
        first_seen_at=ns_to_rfc3339(device.first_seen_ns),
        last_seen_at=ns_to_rfc3339(device.last_seen_ns),
        approved=device.approved_at_ns is not None,
    )
