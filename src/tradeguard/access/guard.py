"""The gateway check: every route declares the permission it needs, or that it is public.

``require(Permission.X)`` is a route dependency: it authenticates the caller (token and
session), checks the permission against the token's permissions plus the caller's
active time-limited grants, buffers an ``access.check.allowed``/``denied`` audit event,
and refuses with ``403 ACCESS_DENIED``. ``PUBLIC`` marks a route that needs no
principal (sign-in, health, published keys). A test walks every route and fails on one
that declares neither.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.params import Depends as DependsParam

from tradeguard.access.check_log import AccessCheck, AccessCheckLog
from tradeguard.access.permissions import Permission
from tradeguard.apikeys.problems import ApiKeyReason, not_allowed
from tradeguard.apikeys.scopes import Scope, scope_allows
from tradeguard.apikeys.signed_request import SignedRequest
from tradeguard.apikeys.signing import HEADER_KEY
from tradeguard.apikeys.verifier import verifier_of
from tradeguard.core.errors import ProblemError, ProblemType
from tradeguard.identity.kit import Identity
from tradeguard.identity.principal import IdentityDep, Principal, authenticate
from tradeguard.identity.problems import AuthReason, forbidden
from tradeguard.ratelimit.limiter import RateLimits

ACCESS_DENIED = ProblemType("access-denied", "Access denied", 403)
DENIED_REASON = "ACCESS_DENIED"
REQUIRED_PERMISSION = "required_permission"
OBJECT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
INVALID_OBJECT = "invalid"


def public() -> None:
    """Declares a route public: it needs no principal (it may check a secret of its own)."""


PUBLIC = Depends(public)


def get_check_log(request: Request) -> AccessCheckLog:
    """The application's permission-check log."""
    checks: AccessCheckLog = request.app.state.access_checks
    return checks


CheckLogDep = Annotated[AccessCheckLog, Depends(get_check_log)]


def require(permission: Permission, *, enrolment: bool = False) -> Any:  # noqa: ANN401 - a FastAPI Depends
    """A dependency allowing callers that hold ``permission``; the principal is its value.

    The caller is a bearer token's session or, for a request signed with an API key, the
    key's owner limited to the key's scope (a route outside it: ``APIKEY_SCOPE``).
    ``enrolment``: an account without a second factor (enrolment-only session) may call
    the route too; every other route refuses it with ``AUTH_MFA_ENROLLMENT_REQUIRED``.
    """

    async def check(request: Request, identity: IdentityDep, checks: CheckLogDep) -> Principal:
        # A signature covers the body, which only an async dependency can read.
        body = await request.body() if HEADER_KEY in request.headers else None
        gate = Gate(permission, enrolment=enrolment)
        return await run_in_threadpool(gate.admit, request, identity, checks, body)

    setattr(check, REQUIRED_PERMISSION, permission)
    return Depends(check)


@dataclass(frozen=True, slots=True)
class Gate:
    """The check of one route's permission, run for each request."""

    permission: Permission
    enrolment: bool

    def admit(
        self, request: Request, identity: Identity, checks: AccessCheckLog, body: bytes | None
    ) -> Principal:
        """The caller, authenticated and holding the permission; refused (and audited) if not."""
        principal = _caller(request, identity, body)
        rate_limits: RateLimits = request.app.state.rate_limits
        rate_limits.admit_caller(
            request, user_id=principal.user_id, api_key_id=principal.api_key_id
        )
        if principal.enrollment_only and not self.enrolment:
            raise forbidden(
                AuthReason.MFA_ENROLLMENT_REQUIRED,
                "enrol a second factor before using the rest of the service",
            )
        now = checks.clock.now_ns()
        in_scope = _in_key_scope(principal, self.permission)
        allowed = in_scope and holds(principal, self.permission, now, enrolment=self.enrolment)
        checks.append(_check(request, principal, self.permission, allowed=allowed, at_ns=now))
        if not in_scope:
            raise not_allowed(
                ApiKeyReason.SCOPE,
                f"a {principal.api_key_scope} key cannot be used for {self.permission.value}",
                permission=self.permission.value,
            )
        if not allowed:
            raise ProblemError(
                ACCESS_DENIED,
                DENIED_REASON,
                f"this needs the {self.permission.value} permission",
                {"permission": self.permission.value},
            )
        return principal


def _caller(request: Request, identity: Identity, body: bytes | None) -> Principal:
    """The request's principal: from its API-key signature when signed, else its token."""
    if body is None or getattr(request.state, "principal", None) is not None:
        return authenticate(identity, request)
    principal = verifier_of(request).verify(SignedRequest.of(request, body))
    request.state.principal = principal
    return principal


def _in_key_scope(principal: Principal, permission: Permission) -> bool:
    if principal.api_key_scope is None:
        return True
    return scope_allows(Scope(principal.api_key_scope), permission)


def holds(principal: Principal, permission: Permission, now_ns: int, *, enrolment: bool) -> bool:
    """Whether the principal may use ``permission`` now (role, active grant, or enrolment)."""
    if principal.enrollment_only:
        return enrolment and permission is Permission.PROFILE_MANAGE
    if permission.value in principal.permissions:
        return True
    state = principal.state
    return state is not None and state.grant_active(permission.value, now_ns)


def declared_permission(call: Callable[..., Any]) -> Permission | None:
    """The permission a dependency requires, if it is a ``require()`` check."""
    found: Permission | None = getattr(call, REQUIRED_PERMISSION, None)
    return found


def is_public_marker(dependency: object) -> bool:
    """Whether ``dependency`` is the ``PUBLIC`` declaration."""
    return isinstance(dependency, DependsParam) and dependency.dependency is public


def _check(
    request: Request, principal: Principal, permission: Permission, *, allowed: bool, at_ns: int
) -> AccessCheck:
    route = request.scope.get("route")
    return AccessCheck(
        user_id=principal.user_id,
        session_id=principal.session_id,
        ip=request.client.host if request.client else None,
        permission=permission.value,
        allowed=allowed,
        route=getattr(route, "path", request.url.path),
        object_id=_object_id(request),
        request_id=getattr(request.state, "request_id", None),
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
