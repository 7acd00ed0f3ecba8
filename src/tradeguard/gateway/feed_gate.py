"""Who may open the order feed, and keep it open: origin, address limit, token, permission.

The feed passes the gateway's own checks: a token is authenticated as on a REST request
(signature and claims, session state, IP allowlist), the caller must hold ``account:view``
through their role or an active grant, and the check is audited like every route's
(``Gateway.authorize``). While a feed is open, its session is re-checked from the session
state without counting as activity: a revoked, suspended, expired or idle session,
changed permissions, a lapsed grant or an address the allowlist no longer admits end it.

A handshake's ``Origin``, when a browser sends one, must be one of the allowed origins
(cross-site WebSocket hijacking: a page elsewhere cannot ride the user's connection),
and each handshake counts against its address's rate limit like a REST read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.core.errors import ProblemError
from tradeguard.core.principal import Principal, SessionState
from tradeguard.gateway.guard import CheckSite, Gateway, access_denied, holds
from tradeguard.identity.allowlist import allowed
from tradeguard.identity.principal import authenticate_token
from tradeguard.identity.problems import AuthReason
from tradeguard.identity.tokens import TokenError
from tradeguard.ratelimit.route_classes import classify
from tradeguard.trading.feed.protocol import (
    FEED_PATH,
    FEED_PERMISSION,
    Credentials,
    Ending,
    FeedReason,
    FeedRefusalError,
    ip_of,
    policy_violation,
)

DEFAULT_PORTS = {"https": 443, "http": 80}


@dataclass(frozen=True, slots=True)
class FeedGate:
    """The gateway's checks of a feed connection (``trading.feed_protocol.FeedAdmission``)."""

    gateway: Gateway
    origins: frozenset[str]

    @classmethod
    def of(cls, gateway: Gateway) -> FeedGate:
        """The feed gate over ``gateway``, admitting the configured browser origins."""
        configured = gateway.identity.settings.effective_feed_origins
        return cls(gateway, frozenset(filter(None, map(origin_of, configured))))

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
            self.gateway.rate_limits.admit_address(
                state, ip_of(connection), classify("GET", scope["path"])
            )
        except ProblemError as refused:
            raise FeedRefusalError(Ending.of_problem(refused)) from None

    def sign_in(self, connection: HTTPConnection, token: str, request_id: str) -> Credentials:
        """Authenticate ``token`` as the REST API would and require ``account:view``."""
        identity = self.gateway.identity
        site = CheckSite(FEED_PATH, None, ip_of(connection), request_id)
        if not token.isascii():
            raise FeedRefusalError(
                policy_violation(AuthReason.TOKEN_INVALID, "the token is not a compact JWS")
            )
        try:
            principal = authenticate_token(identity, token, connection)
            expires_at = identity.verifier.verify(token).exp * NS_PER_SECOND
            self.gateway.authorize(principal, FEED_PERMISSION, site, enrolment=False)
        except ProblemError as refused:
            raise FeedRefusalError(Ending.of_problem(refused)) from None
        except TokenError as refused:
            raise FeedRefusalError(policy_violation(refused.reason, str(refused))) from None
        return Credentials(principal, expires_at)

    def recheck(self, credentials: Credentials, ip: str | None) -> Ending | None:
        """Why the session no longer allows the feed, if it does not (reads state only)."""
        identity, principal = self.gateway.identity, credentials.principal
        state = identity.sessions.state(identity.sessions_factory, principal.session_id)
        now = identity.clock.now_ns()
        refused = session_refusal(state, principal, now, ip)
        if refused is not None:
            return policy_violation(*refused)
        if not holds(replace(principal, state=state), FEED_PERMISSION, now, enrolment=False):
            return Ending.of_problem(access_denied(FEED_PERMISSION))
        return None


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
