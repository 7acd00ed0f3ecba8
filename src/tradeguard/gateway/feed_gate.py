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
from tradeguard.core.principal import Principal
from tradeguard.gateway.guard import CheckSite, Gateway, access_denied, holds
from tradeguard.identity.principal import authenticate_token
from tradeguard.identity.problems import AuthReason
from tradeguard.identity.sessions import session_refusal
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
    """The gateway's checks of a feed connection (``trading.feed.protocol.FeedAdmission``)."""

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
            principal = authenticate_token(identity, token, connection, request_id)
            expires_at = identity.verifier.verify(token).exp * NS_PER_SECOND
            self._count(principal, site.ip)
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
        known = principal.state.permission_version if principal.state is not None else None
        refused = session_refusal(state, principal.user_id, known, now, ip)
        if refused is not None:
            return policy_violation(refused.reason, refused.detail)
        if not holds(replace(principal, state=state), FEED_PERMISSION, now, enrolment=False):
            return Ending.of_problem(access_denied(FEED_PERMISSION))
        return None

    def _count(self, principal: Principal, ip: str | None) -> None:
        """Count each sign-in on the feed against the user's limit of reads, as REST does."""
        self.gateway.rate_limits.count_caller(
            {}, classify("GET", FEED_PATH), user_id=principal.user_id, api_key_id=None, ip=ip
        )


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
