"""Who is calling: the bearer token checked against its session on every request.

The check is the token's signature and claims, then the session's state from the
per-process cache (revoked, idle, suspended, permission version, IP allowlist). Routes
depend on one of three levels: ``SignedIn`` (any session, even one that may only enrol
a second factor), ``Authenticated`` (a full session) and ``SteppedUp`` (a full session
that verified a strong factor within the last minutes).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from tradeguard.core.errors import ProblemError
from tradeguard.core.principal import Principal, SessionState
from tradeguard.identity.kit import Identity
from tradeguard.identity.origin import Origin
from tradeguard.identity.problems import (
    STEP_UP_REQUIRED,
    AuthReason,
    forbidden,
    unauthenticated,
)
from tradeguard.identity.sessions import session_refusal
from tradeguard.identity.tokens import AccessClaims, TokenError
from tradeguard.web.provide import provided

BEARER_PREFIX = "bearer "


IdentityDep = Annotated[Identity, provided(Identity)]


def authenticate(identity: Identity, request: HTTPConnection) -> Principal:
    """The principal of ``request``'s bearer token (checked once per request; later calls reuse it).

    A 401/403 problem when the token or session is refused.
    """
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    principal = authenticate_token(identity, _bearer(request), request)
    request.state.principal = principal
    return principal


def authenticate_token(
    identity: Identity, token: str, connection: HTTPConnection, request_id: str | None = None
) -> Principal:
    """The principal of access ``token`` presented on ``connection``; 401/403 if refused.

    Checks the token's signature and claims, then its session's state (``session_refusal``).
    ``request_id`` names the request or connection in what is recorded.
    """
    claims = _claims(identity, token)
    state = identity.sessions.state(identity.sessions_factory, claims.sid)
    now = identity.clock.now_ns()
    ip = connection.client.host if connection.client else None
    refused = session_refusal(state, claims.sub, claims.pv, now, ip)
    if refused is not None:
        if refused.idle and state is not None:
            origin = Origin.of(connection, request_id=request_id)
            identity.sessions.expire_idle(identity.sessions_factory, state, origin)
        raise refused.problem()
    assert state is not None  # noqa: S101 - session_refusal refuses a missing state
    identity.sessions.touch(identity.sessions_factory, state)
    return _principal(claims, state)


def authenticate_from_memory(identity: Identity, request: HTTPConnection) -> Principal | None:
    """``authenticate`` when it needs nothing but this process's memory, else None.

    That is a valid bearer token whose session's state is cached, admitted, and with no
    activity due to be noted: an event loop may call it. None asks for ``authenticate``
    on a thread, which also answers every refusal.
    """
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    try:
        claims = _claims(identity, _bearer(request))
    except ProblemError:
        return None
    sessions = identity.sessions
    state = sessions.cached_state(claims.sid)
    if state is None or sessions.touch_due(state):
        return None
    ip = request.client.host if request.client else None
    if session_refusal(state, claims.sub, claims.pv, identity.clock.now_ns(), ip) is not None:
        return None
    principal = request.state.principal = _principal(claims, state)
    return principal


def _principal(claims: AccessClaims, state: SessionState) -> Principal:
    return Principal(
        user_id=claims.sub,
        session_id=claims.sid,
        role=claims.role,
        permissions=frozenset(claims.permissions),
        amr=claims.amr,
        enrollment_only=claims.enrollment_only,
        state=state,
    )


def signed_in(identity: IdentityDep, request: Request) -> Principal:
    """Any live session, including one that may only enrol a second factor."""
    return authenticate(identity, request)


def authenticated(principal: Annotated[Principal, Depends(signed_in)]) -> Principal:
    """A full session: refuses an account that has not enrolled a second factor."""
    if principal.enrollment_only:
        raise forbidden(
            AuthReason.MFA_ENROLLMENT_REQUIRED,
            "enrol a second factor before using the rest of the service",
        )
    return principal


def recently_verified(
    identity: IdentityDep, principal: Annotated[Principal, Depends(signed_in)]
) -> Principal:
    """A session that verified a strong factor recently, as changing factors needs.

    For an enrolment-only session the password, checked at sign-in, is that factor.
    """
    _require_step_up(identity, principal)
    return principal


def stepped_up(
    identity: IdentityDep, principal: Annotated[Principal, Depends(authenticated)]
) -> Principal:
    """A full session that verified a strong factor within the last minutes."""
    _require_step_up(identity, principal)
    return principal


SignedIn = Annotated[Principal, Depends(signed_in)]
Authenticated = Annotated[Principal, Depends(authenticated)]
RecentlyVerified = Annotated[Principal, Depends(recently_verified)]
SteppedUp = Annotated[Principal, Depends(stepped_up)]


def _require_step_up(identity: Identity, principal: Principal) -> None:
    now = identity.clock.now_ns()
    state = principal.state
    if state is None or not state.stepped_up_within(now, identity.settings.step_up_seconds):
        raise _step_up_required(identity)


def _step_up_required(identity: Identity) -> Exception:
    return ProblemError(
        STEP_UP_REQUIRED,
        AuthReason.STEP_UP_REQUIRED,
        "verify a strong factor again (POST /v1/auth/step-up) to do this",
        {"max_age_seconds": identity.settings.step_up_seconds},
    )


def bearer_token(header: str) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` value; ``None`` if it is no bearer."""
    if header[: len(BEARER_PREFIX)].lower() != BEARER_PREFIX:
        return None
    return header[len(BEARER_PREFIX) :].strip()


def _bearer(request: HTTPConnection) -> str:
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        raise unauthenticated(AuthReason.REQUIRED, "a bearer access token is required")
    return token


def _claims(identity: Identity, token: str) -> AccessClaims:
    try:
        return identity.verifier.verify(token)
    except TokenError as exc:
        raise unauthenticated(AuthReason(exc.reason.value), str(exc)) from None
