"""Who may open the order feed, and keep it open: origin, address limit, token, permission.

The feed takes the REST API's bearer access tokens and checks them the same way: a
token is authenticated by ``identity.principal.authenticate`` (signature and claims,
session state, IP allowlist) on a request carrying it, and the caller must hold
``account:view`` through their role or an active grant; the permission check is audited
like every route's. While a feed is open, its session is re-checked from the session
state without counting as activity: a revoked, suspended, expired or idle session,
changed permissions, a lapsed grant or an address the allowlist no longer admits end it.

A handshake's ``Origin``, when a browser sends one, must be one of the allowed origins
(cross-site WebSocket hijacking: a page elsewhere cannot ride the user's connection),
and each handshake counts against its address's rate limit like a REST read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from starlette.requests import HTTPConnection

from tradeguard.access.check_log import AccessCheck, AccessCheckLog
from tradeguard.access.guard import DENIED_REASON, holds
from tradeguard.access.permissions import Permission
from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.core.errors import ProblemError, TradeGuardError
from tradeguard.identity.allowlist import allowed
from tradeguard.identity.kit import Identity
from tradeguard.identity.principal import BEARER_PREFIX, Principal, authenticate
from tradeguard.identity.problems import AuthReason
from tradeguard.identity.sessions import SessionState
from tradeguard.identity.tokens import TokenError
from tradeguard.ratelimit.limiter import RateLimits
from tradeguard.ratelimit.route_classes import classify

FEED_PATH = "/v1/stream"
FEED_PERMISSION = Permission.ACCOUNT_VIEW
GOING_AWAY = 1001
UNSUPPORTED_DATA = 1003
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
INTERNAL_ERROR = 1011
TRY_AGAIN_LATER = 1013
SERVER_ERROR_STATUS = 500
DEFAULT_PORTS = {"https": 443, "http": 80}
RETRY_AFTER = "retry_after_seconds"


class FeedReason(StrEnum):
    """Reason codes of the feed's own refusals (the others are identity's and the limits')."""

    ORIGIN_NOT_ALLOWED = "FEED_ORIGIN_NOT_ALLOWED"
    USER_MISMATCH = "FEED_USER_MISMATCH"
    BAD_MESSAGE = "FEED_BAD_MESSAGE"
    BINARY_NOT_ACCEPTED = "FEED_BINARY_NOT_ACCEPTED"
    MESSAGE_TOO_BIG = "FEED_MESSAGE_TOO_BIG"
    INTERNAL_ERROR = "INTERNAL_ERROR"


@dataclass(frozen=True, slots=True)
class Ending:
    """How the server ends a feed connection: close code, reason code and an explanation."""

    code: int
    reason_code: str
    detail: str
    retry_after_seconds: int | None = None

    @classmethod
    def of_problem(cls, problem: ProblemError) -> Ending:
        """The ending of a refusal the REST API would answer with ``problem``."""
        code = TRY_AGAIN_LATER if problem.status >= SERVER_ERROR_STATUS else POLICY_VIOLATION
        retry = problem.extensions.get(RETRY_AFTER)
        return cls(code, problem.reason_code, problem.detail, retry if type(retry) is int else None)

    def message(self) -> dict[str, Any]:
        """The ``error`` message sent just before the close frame."""
        body: dict[str, Any] = {
            "type": "error",
            "reason_code": self.reason_code,
            "detail": self.detail,
        }
        if self.retry_after_seconds is not None:
            body[RETRY_AFTER] = self.retry_after_seconds
        return body


def policy_violation(reason_code: str, detail: str) -> Ending:
    """An ending with close code 1008."""
    return Ending(POLICY_VIOLATION, reason_code, detail)


class FeedRefusalError(TradeGuardError):
    """The feed connection ends, as ``ending`` says."""

    def __init__(self, ending: Ending) -> None:
        super().__init__(ending.detail)
        self.ending = ending


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who is on a feed connection, and until when their access token is good."""

    principal: Principal
    expires_at_ns: int


@dataclass(frozen=True, slots=True)
class FeedGate:
    """The checks of a feed connection, over the application's identity, audit and limits."""

    identity: Identity
    checks: AccessCheckLog
    rate_limits: RateLimits
    origins: frozenset[str]

    @classmethod
    def of(cls, app: FastAPI) -> FeedGate:
        """The gate of ``app``'s feed."""
        identity: Identity = app.state.identity
        configured = identity.settings.effective_feed_origins
        return cls(
            identity=identity,
            checks=app.state.access_checks,
            rate_limits=app.state.rate_limits,
            origins=frozenset(filter(None, map(origin_of, configured))),
        )

    def check_origin(self, connection: HTTPConnection) -> None:
        """Refuse a handshake whose ``Origin`` (sent by browsers) is not an allowed one."""
        origin = connection.headers.get("origin")
        if origin is not None and origin_of(origin) not in self.origins:
            raise FeedRefusalError(
                policy_violation(
                    FeedReason.ORIGIN_NOT_ALLOWED, "the feed cannot be opened from this origin"
                )
            )

    def admit_address(self, connection: HTTPConnection) -> None:
        """Count the handshake against its address's limit of reads (may block on Redis)."""
        scope = connection.scope
        state = scope.setdefault("state", {})
        try:
            self.rate_limits.admit_address(state, ip_of(connection), classify("GET", scope["path"]))
        except ProblemError as refused:
            raise FeedRefusalError(Ending.of_problem(refused)) from None

    def sign_in(self, connection: HTTPConnection, token: str, request_id: str) -> Credentials:
        """Authenticate ``token`` as the REST API would and require ``account:view``."""
        try:
            request = token_request(connection, token, request_id)
            principal = authenticate(self.identity, request)
            expires_at = self.identity.verifier.verify(token).exp * NS_PER_SECOND
        except ProblemError as refused:
            raise FeedRefusalError(Ending.of_problem(refused)) from None
        except TokenError as refused:
            raise FeedRefusalError(policy_violation(refused.reason, str(refused))) from None
        self._require_permission(principal, ip_of(connection), request_id)
        return Credentials(principal, expires_at)

    def recheck(self, credentials: Credentials, ip: str | None) -> Ending | None:
        """Why the session no longer allows the feed, if it does not (reads state only)."""
        identity, principal = self.identity, credentials.principal
        state = identity.sessions.state(identity.sessions_factory, principal.session_id)
        now = identity.clock.now_ns()
        refused = session_refusal(state, principal, now, ip)
        if refused is not None:
            return policy_violation(*refused)
        if not holds(replace(principal, state=state), FEED_PERMISSION, now, enrolment=False):
            return _denied()
        return None

    def _require_permission(self, principal: Principal, ip: str | None, request_id: str) -> None:
        """Refuse an enrolment-only session or a caller without ``account:view`` (audited)."""
        if principal.enrollment_only:
            raise FeedRefusalError(
                policy_violation(
                    AuthReason.MFA_ENROLLMENT_REQUIRED,
                    "enrol a second factor before using the rest of the service",
                )
            )
        now = self.checks.clock.now_ns()
        permitted = holds(principal, FEED_PERMISSION, now, enrolment=False)
        self.checks.append(_access_check(principal, ip, request_id, permitted=permitted, at_ns=now))
        if not permitted:
            raise FeedRefusalError(_denied())


def handshake_token(connection: HTTPConnection) -> str | None:
    """The bearer token of the handshake's ``Authorization`` header; ``None`` without one."""
    header = connection.headers.get("authorization")
    if header is None:
        return None
    if header[: len(BEARER_PREFIX)].lower() != BEARER_PREFIX:
        raise FeedRefusalError(
            policy_violation(AuthReason.REQUIRED, "a bearer access token is required")
        )
    return header[len(BEARER_PREFIX) :].strip()


def token_request(connection: HTTPConnection, token: str, request_id: str) -> Request:
    """A request of the handshake's client and headers that carries ``token`` as its bearer.

    ``authenticate`` takes a request; a token sent in a message is checked on this one.
    """
    if not token.isascii():
        raise FeedRefusalError(
            policy_violation(AuthReason.TOKEN_INVALID, "the token is not a compact JWS")
        )
    scope = connection.scope
    headers = [(name, value) for name, value in scope["headers"] if name != b"authorization"]
    headers.append((b"authorization", f"Bearer {token}".encode("ascii")))
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "https",
            "path": FEED_PATH,
            "raw_path": FEED_PATH.encode("ascii"),
            "query_string": b"",
            "root_path": "",
            "headers": headers,
            "client": scope.get("client"),
            "server": scope.get("server"),
            "state": {"request_id": request_id},
        }
    )


def session_refusal(
    state: SessionState | None, principal: Principal, now_ns: int, ip: str | None
) -> tuple[str, str] | None:
    """The reason code and explanation why the session no longer stands, if it does not."""
    if state is None or state.revoked or state.user_id != principal.user_id:
        return AuthReason.SESSION_REVOKED, "the session has ended"
    if not state.user_active:
        return AuthReason.ACCOUNT_SUSPENDED, "the account is suspended"
    known = principal.state
    if known is not None and state.permission_version != known.permission_version:
        return AuthReason.TOKEN_STALE, "the account's role or permissions changed; sign in again"
    if now_ns >= state.expires_at_ns or state.idle_expired(now_ns):
        return AuthReason.SESSION_EXPIRED, "the session has expired"
    if not allowed(state.ip_allowlist, ip):
        return AuthReason.IP_NOT_ALLOWED, "the feed is not allowed from this address"
    return None


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of ``url``, lower-cased, default port left out; ``None`` if odd."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return (
        f"{scheme}://{host}"
        if port in {None, DEFAULT_PORTS[scheme]}
        else f"{scheme}://{host}:{port}"
    )


def ip_of(connection: HTTPConnection) -> str | None:
    """The client address of the connection."""
    return connection.client.host if connection.client else None


def _access_check(
    principal: Principal, ip: str | None, request_id: str, *, permitted: bool, at_ns: int
) -> AccessCheck:
    """The audited record of the feed's permission check."""
    return AccessCheck(
        user_id=principal.user_id,
        session_id=principal.session_id,
        ip=ip,
        permission=FEED_PERMISSION.value,
        allowed=permitted,
        route=FEED_PATH,
        object_id=None,
        request_id=request_id,
        at_ns=at_ns,
    )


def _denied() -> Ending:
    return policy_violation(DENIED_REASON, f"this needs the {FEED_PERMISSION.value} permission")
