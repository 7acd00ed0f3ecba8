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
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.params import Depends as DependsParam

from tradeguard.access.check_log import AccessCheck, AccessCheckLog
from tradeguard.access.permissions import Permission
from tradeguard.core.errors import ProblemError, ProblemType
from tradeguard.identity.principal import IdentityDep, Principal, authenticate
from tradeguard.identity.problems import AuthReason, forbidden

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

    ``enrolment``: an account without a second factor (enrolment-only session) may call
    the route too; every other route refuses it with ``AUTH_MFA_ENROLLMENT_REQUIRED``.
    """

    def check(request: Request, identity: IdentityDep, checks: CheckLogDep) -> Principal:
        principal = authenticate(identity, request)
        if principal.enrollment_only and not enrolment:
            raise forbidden(
                AuthReason.MFA_ENROLLMENT_REQUIRED,
                "enrol a second factor before using the rest of the service",
            )
        now = checks.clock.now_ns()
        allowed = holds(principal, permission, now, enrolment=enrolment)
        checks.append(_check(request, principal, permission, allowed=allowed, at_ns=now))
        if not allowed:
            raise ProblemError(
                ACCESS_DENIED,
                DENIED_REASON,
                f"this needs the {permission.value} permission",
                {"permission": permission.value},
            )
        return principal

    setattr(check, REQUIRED_PERMISSION, permission)
    return Depends(check)


def holds(principal: Principal, permission: Permission, now_ns: int, *, enrolment: bool) -> bool:
    """Whether the principal may use ``permission`` now (role, active grant, or enrolment)."""
    if principal.enrollment_only:
        return enrolment and permission is Permission.PROFILE_MANAGE
    if permission.value in principal.permissions:
        return True
    return principal.state.grant_active(permission.value, now_ns)


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
