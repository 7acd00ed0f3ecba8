"""Every route declares its permission or is explicitly public; each role gets what it may.

The walk reads each route's dependency tree for ``require(...)`` and ``PUBLIC``. The
matrix calls every protected route as each role (staff at the highest access level) and
checks that exactly the roles without the permission are refused with ACCESS_DENIED.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Mount, Route

from functional.identity_flows import Person, staff_signed_in
from tradeguard.core.clock import FixedClock
from tradeguard.core.permissions import AccessLevel, Permission, Role, permissions_of
from tradeguard.notify.notifier import MemorySender
from tradeguard.trading.feed.protocol import FEED_PATH, FeedAdmission
from tradeguard.web.provide import provided
from tradeguard.web.routing import declared_permission, public

PUBLIC = "public"
FRAMEWORK_ROUTES = {"/openapi.json", "/static/swagger-ui", "/static/web"}
PLACEHOLDER_ID = "01a1fd70-0000-7000-8000-000000000000"
LAST = "/v1/auth/logout"  # ends the session the other calls use


def _declarations(dependant: Dependant) -> Iterator[str]:
    for dependency in dependant.dependencies:
        permission = declared_permission(dependency.call) if dependency.call else None
        if permission is not None:
            yield permission.value
        elif dependency.call is public:
            yield PUBLIC
        else:
            yield from _declarations(dependency)


def _flattened(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, with included routers opened (each keeps its own dependencies)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _flattened(included.routes)
        else:
            yield route


def _api_routes(app: FastAPI) -> list[APIRoute]:
    return [route for route in _flattened(app.routes) if isinstance(route, APIRoute)]


def _declared(route: APIRoute) -> str:
    found = set(_declarations(route.dependant))
    assert len(found) == 1, f"{sorted(route.methods)} {route.path} declares {sorted(found)}"
    return found.pop()


def test_every_route_declares_one_permission_or_public(app: FastAPI) -> None:
    undeclared = [
        f"{sorted(route.methods)} {route.path}"
        for route in _api_routes(app)
        if not set(_declarations(route.dependant))
    ]
    assert undeclared == []
    for route in _api_routes(app):
        _declared(route)
    others = {
        route.path
        for route in _flattened(app.routes)
        if isinstance(route, (Mount, Route)) and not isinstance(route, APIRoute)
    }
    assert others == FRAMEWORK_ROUTES


def test_route_walk_when_a_route_declares_nothing_then_it_is_found() -> None:
    bare = FastAPI()

    @bare.get("/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    [route] = _api_routes(bare)
    assert list(_declarations(route.dependant)) == []


def _path(route: APIRoute) -> str:
    path = route.path
    for name in route.param_convertors:
        path = path.replace(f"{{{name}}}", "1" if name == "seq" else PLACEHOLDER_ID)
    return path


def _protected(app: FastAPI) -> list[tuple[str, str, str]]:
    calls = [
        (method, _path(route), _declared(route))
        for route in _api_routes(app)
        for method in sorted(route.methods)
        if _declared(route) != PUBLIC
    ]
    return sorted(calls, key=lambda call: (call[1] == LAST, call[1], call[0]))


SignedInAs = Callable[[Role, str | None], Person]


@pytest.fixture
def signed_in_as(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> SignedInAs:
    def sign_in(role: Role, level: str | None) -> Person:
        engine = clean_database.engine
        return staff_signed_in(client, mailbox, clock, engine, role=role.value, level=level)

    return sign_in


@pytest.mark.parametrize("role", list(Role))
def test_matrix_when_each_role_calls_every_protected_route_then_allowed_as_declared(
    app: FastAPI, client: TestClient, signed_in_as: SignedInAs, role: Role
) -> None:
    level = None if role is Role.TRADER else AccessLevel.ADMIN.value
    person = signed_in_as(role, level)
    granted = set(permissions_of(role.value, level))
    mismatches = []
    for method, path, permission in _protected(app):
        response = _call(client, person, method, path)
        denied = _reason(response) == "ACCESS_DENIED"
        if denied == (permission in granted):
            mismatches.append((method, path, permission, response.status_code))
    assert mismatches == []


def _reason(response: Any) -> str | None:
    if response.headers.get("content-type") != "application/problem+json":
        return None
    reason: str = response.json()["reason_code"]
    return reason


def _call(client: TestClient, person: Person, method: str, path: str) -> Any:
    response = client.request(method, path, json={}, headers=person.headers)
    assert response.status_code < 500, (method, path, response.text)
    assert response.status_code != 401, (method, path, response.text)
    return response


def test_matrix_covers_every_permission_the_routes_declare(app: FastAPI) -> None:
    declared = {permission for _method, _path, permission in _protected(app)}
    assert declared <= {permission.value for permission in Permission}
    assert Permission.COMPLIANCE_AUDIT.value in declared
    assert Permission.PROFILE_MANAGE.value in declared


def test_every_protected_route_when_called_without_credentials_then_the_gateway_refuses(
    app: FastAPI, client: TestClient
) -> None:
    protected = _protected(app)
    assert len(protected) > 50, "every protected route should be walked"
    passed = []
    for method, path, _permission in protected:
        response = client.request(method, path, json={})
        if (response.status_code, _reason(response)) != (401, "AUTH_REQUIRED"):
            passed.append((method, path, response.status_code, _reason(response)))
    assert passed == []


def test_every_websocket_route_when_mounted_then_admitted_by_the_gateway(app: FastAPI) -> None:
    sockets = [route for route in _flattened(app.routes) if isinstance(route, APIWebSocketRoute)]
    assert [route.path for route in sockets] == [FEED_PATH]
    for route in sockets:
        calls = set(_calls(route.dependant))
        assert provided(FeedAdmission).dependency in calls, route.path


def _calls(dependant: Dependant) -> Iterator[object]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)
