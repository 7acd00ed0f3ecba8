"""The gate of every route: authentication, the caller's rate limit, the permission check.

Routes declare what they need (``tradeguard.web.routing``); ``Gateway.admit`` enforces
it for each request: it authenticates the caller (a bearer token and its session, or a
request signed with an API key, limited to the key's scope), counts the call against the
caller's rate limit, checks the permission against the token's permissions plus the
caller's active time-limited grants, buffers an ``access.check.allowed``/``denied`` audit
event and refuses with ``403 ACCESS_DENIED``. The order feed passes the same checks
(``feed_gate``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from tradeguard.access.check_log import AccessCheck, AccessCheckLog
from tradeguard.apikeys.problems import ApiKeyReason, not_allowed
from tradeguard.apikeys.scopes import Scope, scope_allows
from tradeguard.apikeys.signed_request import SignedRequest
from tradeguard.apikeys.signing import HEADER_KEY
from tradeguard.apikeys.verifier import RequestVerifier
from tradeguard.core.errors import ProblemError, ProblemType
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.identity.kit import Identity
from tradeguard.identity.principal import authenticate, authenticate_from_memory
from tradeguard.identity.problems import AuthReason, forbidden
from tradeguard.ratelimit.limiter import RateLimits

ACCESS_DENIED = ProblemType("access-denied", "Access denied", 403)
DENIED_REASON = "ACCESS_DENIED"
OBJECT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
INVALID_OBJECT = "invalid"


@dataclass(frozen=True, slots=True)
class CheckSite:
    """Where a permission is checked: the route template, the object, the caller's address."""

    route: str
    object_id: str | None
    ip: str | None
    request_id: str | None

    @classmethod
    def of(cls, request: Request) -> CheckSite:
        """The site of ``request``: its route template and the object it addresses."""
        route = request.scope.get("route")
        return cls(
            route=getattr(route, "path", request.url.path),
            object_id=_object_id(request),
            ip=request.client.host if request.client else None,
            request_id=getattr(request.state, "request_id", None),
        )


@dataclass(frozen=True, slots=True)
class Gateway:
    """The one gate: the application's identity, API-key verifier, rate limits and check log."""

    identity: Identity
    verifier: RequestVerifier
    rate_limits: RateLimits
    checks: AccessCheckLog

    async def admit(
        self, request: Request, permission: Permission, *, enrolment: bool
    ) -> Principal:
        """The caller, authenticated and holding ``permission``; refused (and audited) if not."""
        # A signature covers the body, which only an async dependency can read.
        body = await request.body() if HEADER_KEY in request.headers else None
        principal = None if body is not None else authenticate_from_memory(self.identity, request)
        if principal is None and not self.rate_limits.awaitable:
            return await run_in_threadpool(self._admit, request, permission, body, enrolment)
        if principal is None:  # a database read, a signature's nonce, or a refusal to answer
            principal = await run_in_threadpool(self._authenticated, request, body)
        await self._count_async(request, principal)
        self.authorize(principal, permission, CheckSite.of(request), enrolment=enrolment)
        return principal

    async def _count_async(self, request: Request, principal: Principal) -> None:
        """``_count`` from the event loop: awaited, on a thread, or at once, by the counters."""
        limits = self.rate_limits
        if limits.awaitable:  # the desk process's
            await limits.admit_caller_async(
                request, user_id=principal.user_id, api_key_id=principal.api_key_id
            )
        elif limits.remote:  # Redis
            await run_in_threadpool(self._count, request, principal)
        else:  # this process's memory
            self._count(request, principal)

    def authorize(
        self, principal: Principal, permission: Permission, site: CheckSite, *, enrolment: bool
    ) -> None:
        """Refuse a caller without ``permission`` here, or outside its key's scope (audited)."""
        if principal.enrollment_only and not enrolment:
            raise forbidden(
                AuthReason.MFA_ENROLLMENT_REQUIRED,
                "enrol a second factor before using the rest of the service",
            )
        now = self.checks.clock.now_ns()
        in_scope = _in_key_scope(principal, permission)
        allowed = in_scope and holds(principal, permission, now, enrolment=enrolment)
        self.checks.append(_check(principal, permission, site, allowed=allowed, at_ns=now))
        if not in_scope:
            raise not_allowed(
                ApiKeyReason.SCOPE,
                f"a {principal.api_key_scope} key cannot be used for {permission.value}",
                permission=permission.value,
            )
        if not allowed:
            raise access_denied(permission)

    def _admit(
        self,
        request: Request,
        permission: Permission,
        body: bytes | None,
        enrolment: bool,  # noqa: FBT001 - run_in_threadpool passes arguments by position
    ) -> Principal:
        principal = self._authenticated(request, body)
        self._count(request, principal)
        self.authorize(principal, permission, CheckSite.of(request), enrolment=enrolment)
        return principal

    def _count(self, request: Request, principal: Principal) -> None:
        """Count the call against the caller's limits; 429 when one is spent."""
        self.rate_limits.admit_caller(
            request, user_id=principal.user_id, api_key_id=principal.api_key_id
        )

    def _authenticated(self, request: Request, body: bytes | None) -> Principal:
        """The request's principal; a refused one is charged to its address first."""
        try:
            return self._caller(request, body)
        except ProblemError:
            self.rate_limits.charge_unauthenticated(request)  # 429 once the address's is spent
            raise

    def _caller(self, request: Request, body: bytes | None) -> Principal:
        """The request's principal: from its API-key signature when signed, else its token."""
        if body is None or getattr(request.state, "principal", None) is not None:
            return authenticate(self.identity, request)
        principal = self.verifier.verify(SignedRequest.of(request, body))
        request.state.principal = principal
        return principal


def access_denied(permission: Permission) -> ProblemError:
    """``403 ACCESS_DENIED``: the caller does not hold ``permission``."""
    return ProblemError(
        ACCESS_DENIED,
        DENIED_REASON,
        f"this needs the {permission.value} permission",
        {"permission": permission.value},
    )


def holds(principal: Principal, permission: Permission, now_ns: int, *, enrolment: bool) -> bool:
    """Whether the principal may use ``permission`` now (role, active grant, or enrolment)."""
    if principal.enrollment_only:
        return enrolment and permission is Permission.PROFILE_MANAGE
    if permission.value in principal.permissions:
        return True
    state = principal.state
    return state is not None and state.grant_active(permission.value, now_ns)


def _in_key_scope(principal: Principal, permission: Permission) -> bool:
    if principal.api_key_scope is None:
        return True
    return scope_allows(Scope(principal.api_key_scope), permission)


def _check(
    principal: Principal, permission: Permission, site: CheckSite, *, allowed: bool, at_ns: int
) -> AccessCheck:
    return AccessCheck(
        user_id=principal.user_id,
        session_id=principal.session_id,
        ip=site.ip,
        permission=permission.value,
        allowed=allowed,
        route=site.route,
        object_id=site.object_id,
        request_id=site.request_id,
        at_ns=at_ns,
    )


def _object_id(request: Request) -> str | None:
    """The id of the object the route addresses (its first ``*_id`` path parameter).

    A value that cannot be an id (control characters, odd symbols, too long) is recorded
    as ``invalid``: the request is answered 404 anyway and nothing else reaches the trail.
    """
    for name, value in request.path_params.items():
        if name.endswith("_id"):
            return str(value) if OBJECT_ID.fullmatch(str(value)) else INVALID_OBJECT
    return None
