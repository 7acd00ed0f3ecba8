"""Routes of sign-up, sign-in, second-factor challenges, tokens, step-up and passwords."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from tradeguard.core.permissions import Permission
from tradeguard.db.session import DbSession
from tradeguard.identity.accounts import Registration
from tradeguard.identity.factors import Answer
from tradeguard.identity.login import LoginChallenge
from tradeguard.identity.origin import Origin
from tradeguard.identity.principal import SignedIn, SteppedUp
from tradeguard.identity.schemas import (
    Accepted,
    ChallengeRef,
    ChallengeResponse,
    ChangePasswordRequest,
    EmailRequest,
    LoginRequest,
    MfaVerifyRequest,
    PasskeyLoginRequest,
    RefreshRequest,
    RegisterRequest,
    ResetPasswordRequest,
    Revoked,
    SendCodeRequest,
    StepUpDone,
    StepUpRequest,
    StepUpStarted,
    StepUpStartRequest,
    TokenResponse,
    VerifyEmailRequest,
    WebAuthnOptions,
    token_response,
)
from tradeguard.identity.service import IdentityServiceDep
from tradeguard.identity.sessions import RevokeReason
from tradeguard.web.routing import PUBLIC, require

router = APIRouter(prefix="/v1/auth", tags=["authentication"], dependencies=[PUBLIC])
session_router = APIRouter(
    prefix="/v1/auth",
    tags=["authentication"],
    dependencies=[require(Permission.PROFILE_MANAGE, enrolment=True)],
)
SIGN_IN_REFUSED: dict[int | str, dict[str, str]] = {
    401: {"description": "Wrong credentials, code or token (problem+json, AUTH_*)"},
    403: {"description": "The account cannot sign in (AUTH_ACCOUNT_SUSPENDED, ...)"},
}
"""What the sign-in steps refuse with besides what every route can answer."""
CHECK_EMAIL = "If the details can be used, we have sent an email to the address given."


@router.post("/register", status_code=status.HTTP_202_ACCEPTED, summary="Sign up")
def register(
    body: RegisterRequest, request: Request, db: DbSession, service: IdentityServiceDep
) -> Accepted:
    """Create an account; the answer is the same whether or not the name or address is taken."""
    form = Registration(body.username, body.email, body.password, body.consents)
    service.accounts.register(db, form, Origin.of(request))
    return Accepted(detail=CHECK_EMAIL)


@router.post("/verify-email", summary="Verify an email address")
def verify_email(
    body: VerifyEmailRequest, request: Request, db: DbSession, service: IdentityServiceDep
) -> Accepted:
    """Verify the address with the emailed code."""
    service.accounts.verify_email(db, body.email, body.code, Origin.of(request))
    return Accepted(detail="The address is verified; you can sign in.")


@router.post(
    "/verify-email/resend",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a new verification code",
)
def resend_verification(body: EmailRequest, db: DbSession, service: IdentityServiceDep) -> Accepted:
    """Send a new code to an unverified address."""
    service.accounts.resend_verification(db, body.email)
    return Accepted(detail=CHECK_EMAIL)


@router.post("/login", summary="Sign in with a password (first step)", responses=SIGN_IN_REFUSED)
def login(
    body: LoginRequest, request: Request, db: DbSession, service: IdentityServiceDep
) -> ChallengeResponse | TokenResponse:
    """Check the password: a second-factor challenge, or an enrolment-only session."""
    outcome = service.sign_in.password(
        db, body.login, body.password, Origin.of(request, body.device)
    )
    if isinstance(outcome, LoginChallenge):
        return ChallengeResponse(
            challenge_id=outcome.challenge_id,
            methods=outcome.methods,
            expires_in=outcome.expires_in,
        )
    return token_response(outcome)


@router.post("/mfa/send", status_code=status.HTTP_202_ACCEPTED, summary="Send a sign-in code")
def send_code(
    body: SendCodeRequest, request: Request, db: DbSession, service: IdentityServiceDep
) -> Accepted:
    """Send the SMS or email code that answers a login challenge."""
    service.sign_in.send_code(db, body.challenge_id, body.method, Origin.of(request))
    return Accepted(detail="A code was sent.")


@router.post("/mfa/webauthn/options", summary="WebAuthn options for a login challenge")
def mfa_webauthn_options(
    body: ChallengeRef, db: DbSession, service: IdentityServiceDep
) -> WebAuthnOptions:
    """Options for navigator.credentials.get() answering a login challenge."""
    options = service.sign_in.webauthn_options(db, body.challenge_id)
    return WebAuthnOptions(challenge_id=body.challenge_id, public_key=dict(options))


@router.post(
    "/mfa/verify", summary="Answer a login challenge (second step)", responses=SIGN_IN_REFUSED
)
def mfa_verify(
    body: MfaVerifyRequest, request: Request, db: DbSession, service: IdentityServiceDep
) -> TokenResponse:
    """Verify the second factor; the session's tokens."""
    answer = Answer(body.method, code=body.code, credential=body.credential)
    tokens = service.sign_in.verify(db, body.challenge_id, answer, Origin.of(request, body.device))
    return token_response(tokens)


@router.post("/passkey/options", summary="Options for a passwordless sign-in")
def passkey_options(db: DbSession, service: IdentityServiceDep) -> WebAuthnOptions:
    """Options for navigator.credentials.get() with any passkey (discoverable credential)."""
    started = service.sign_in.passkey_options(db)
    return WebAuthnOptions(
        challenge_id=started.challenge_id, public_key=dict(started.options or {})
    )


@router.post("/passkey/login", summary="Sign in with a passkey", responses=SIGN_IN_REFUSED)
def passkey_login(
    body: PasskeyLoginRequest, request: Request, db: DbSession, service: IdentityServiceDep
) -> TokenResponse:
    """Passwordless sign-in: the passkey and the user verification that unlocked it."""
    tokens = service.sign_in.passkey(
        db, body.challenge_id, body.credential, Origin.of(request, body.device)
    )
    return token_response(tokens)


@router.post("/refresh", summary="Spend a refresh token for new tokens", responses=SIGN_IN_REFUSED)
def refresh(
    body: RefreshRequest, request: Request, db: DbSession, service: IdentityServiceDep
) -> TokenResponse:
    """Rotate the refresh token; a used one ends the session."""
    tokens = service.identity.sessions.refresh(db, body.refresh_token, Origin.of(request))
    return token_response(tokens)


@session_router.post(
    "/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Sign out of this session"
)
def logout(
    principal: SignedIn, request: Request, db: DbSession, service: IdentityServiceDep
) -> Response:
    """End the current session."""
    row = service.session_of(db, principal)
    service.identity.sessions.revoke(db, row, RevokeReason.LOGOUT, Origin.of(request))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@session_router.post("/step-up/start", summary="Start a step-up verification")
def step_up_start(
    body: StepUpStartRequest,
    principal: SignedIn,
    request: Request,
    db: DbSession,
    service: IdentityServiceDep,
) -> StepUpStarted:
    """Open a step-up ceremony: a code is sent, or WebAuthn options come back."""
    user = service.user_of(db, principal)
    started = service.sign_in.step_up_start(
        db, user, principal.session_id, body.method, Origin.of(request)
    )
    return StepUpStarted(
        challenge_id=started.challenge_id,
        method=body.method,
        public_key=dict(started.options) if started.options is not None else None,
    )


@session_router.post("/step-up", summary="Answer a step-up verification")
def step_up(
    body: StepUpRequest,
    principal: SignedIn,
    request: Request,
    db: DbSession,
    service: IdentityServiceDep,
) -> StepUpDone:
    """Verify a strong factor again; sensitive operations are open for a few minutes."""
    user = service.user_of(db, principal)
    row = service.session_of(db, principal)
    service.sign_in.step_up(
        db,
        user,
        row,
        challenge_id=body.challenge_id,
        answer=Answer(body.method, code=body.code, credential=body.credential),
        origin=Origin.of(request),
    )
    return StepUpDone(valid_for=service.identity.settings.step_up_seconds)


@session_router.post("/password", summary="Change the password (needs step-up)")
def change_password(
    body: ChangePasswordRequest,
    principal: SteppedUp,
    request: Request,
    db: DbSession,
    service: IdentityServiceDep,
) -> Revoked:
    """Set a new password; every session, this one included, ends."""
    user = service.user_of(db, principal)
    before = len(service.identity.sessions.live_sessions(db, user.id))
    service.accounts.change_password(
        db,
        user,
        body.new_password,
        Origin.of(request).in_session(principal.session_id),
        reason=RevokeReason.PASSWORD_CHANGED,
    )
    return Revoked(revoked=before)


@router.post(
    "/password/forgot",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Ask for a password reset code",
)
def forgot_password(
    body: EmailRequest, request: Request, db: DbSession, service: IdentityServiceDep
) -> Accepted:
    """Email a reset code if the address has an account; the same answer if not."""
    service.accounts.forgot_password(db, body.email, Origin.of(request))
    return Accepted(detail=CHECK_EMAIL)


@router.post("/password/reset", summary="Choose a new password with the emailed code")
def reset_password(
    body: ResetPasswordRequest, request: Request, db: DbSession, service: IdentityServiceDep
) -> Accepted:
    """Set the new password; every session ends and signing in still needs the second factor."""
    service.accounts.reset_password(
        db, body.email, body.code, body.new_password, Origin.of(request)
    )
    return Accepted(detail="The password was changed; sign in with it and your second factor.")
