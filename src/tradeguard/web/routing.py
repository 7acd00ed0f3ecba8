"""What a route declares about its callers; the gateway (``tradeguard.gateway``) enforces it.

Every route declares the permission it needs with ``require(Permission.X)`` or that it is
public with ``PUBLIC``; a test walks every route and fails on one that declares neither.
The declaration's value is the caller (``Principal``) the gateway admitted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any, Protocol

from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.params import Depends as DependsParam
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.web.provide import provided

REQUIRED_PERMISSION = "required_permission"
PUBLIC_ROUTE = "public"


class RouteGate(Protocol):
    """The gateway's check of one request against the permission its route declares."""

    async def admit(
        self, request: Request, permission: Permission, *, enrolment: bool
    ) -> Principal:
        """The caller, authenticated and holding ``permission``; refused (and audited) if not."""
        ...


GateDep = Annotated[RouteGate, provided(RouteGate)]


def public() -> None:
    """Declares a route public: it needs no principal (it may check a secret of its own)."""


PUBLIC = Depends(public)


def require(permission: Permission, *, enrolment: bool = False) -> Any:  # noqa: ANN401 - a FastAPI Depends
    """Declares that callers must hold ``permission``; the admitted principal is its value.

    ``enrolment``: an account without a second factor (enrolment-only session) may call the
    route too; every other route refuses it with ``AUTH_MFA_ENROLLMENT_REQUIRED``.
    """

    async def check(request: Request, gate: GateDep) -> Principal:
        return await gate.admit(request, permission, enrolment=enrolment)

    setattr(check, REQUIRED_PERMISSION, permission)
    return Depends(check)


def declared_permission(call: Callable[..., Any]) -> Permission | None:
    """The permission a dependency requires, if it is a ``require()`` declaration."""
    found: Permission | None = getattr(call, REQUIRED_PERMISSION, None)
    return found


def is_public_marker(dependency: object) -> bool:
    """Whether ``dependency`` is the ``PUBLIC`` declaration."""
    return isinstance(dependency, DependsParam) and dependency.dependency is public


def api_routes(app: FastAPI) -> Iterator[RouteContext]:
    """Every API route of ``app`` as served: full path, and the dependencies of every inclusion."""
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            yield route


def declarations(route: APIRoute | RouteContext) -> tuple[str, ...]:
    """What ``route`` declares: its required permissions and/or ``public``, sorted."""
    dependant: Dependant | None = route.dependant
    found = set(() if dependant is None else _declared_in(dependant))
    dependencies: list[DependsParam] = route.dependencies
    if any(is_public_marker(dependency) for dependency in dependencies):
        found.add(PUBLIC_ROUTE)
    return tuple(sorted(found))


def _declared_in(dependant: Dependant) -> Iterator[str]:
    for dependency in dependant.dependencies:
        if dependency.call is public:
            yield PUBLIC_ROUTE
        permission = declared_permission(dependency.call) if dependency.call else None
        if permission is not None:
            yield permission.value
        yield from _declared_in(dependency)
