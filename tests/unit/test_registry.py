"""The registry finds every service a route asks for, and refuses an ambiguous one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, make_dataclass

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute

from support import registry_of
from tradeguard.config import Settings
from tradeguard.registry import Registry
from tradeguard.web.provide import provided_kind


def asked_for(dependant: Dependant) -> Iterator[type]:
    """Every type a dependency tree asks the registry for."""
    for dependency in dependant.dependencies:
        kind = provided_kind(dependency.call)
        if kind is not None:
            yield kind
        yield from asked_for(dependency)


def served(routes: list[BaseRoute]) -> Iterator[APIRoute | APIWebSocketRoute]:
    """Every API and WebSocket route, with included routers opened."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from served(included.routes)
        elif isinstance(route, (APIRoute, APIWebSocketRoute)):
            yield route


def route_kinds(app: FastAPI) -> set[type]:
    """Every type any route of ``app`` asks the registry for."""
    return {kind for route in served(app.routes) for kind in asked_for(route.dependant)}


def test_every_service_a_route_asks_for_when_looked_up_then_found(app: FastAPI) -> None:
    registry = registry_of(app)
    kinds = route_kinds(app)
    assert len(kinds) > 10, sorted(kind.__name__ for kind in kinds)
    missing = []
    for kind in kinds:
        try:
            registry.find(kind)
        except LookupError:
            missing.append(kind.__name__)
    assert missing == []


def test_find_when_a_type_is_not_registered_then_lookup_error_names_it(app: FastAPI) -> None:
    with pytest.raises(LookupError, match="FastAPI"):
        registry_of(app).find(FastAPI)


def test_index_when_two_fields_share_a_type_then_refused(app: FastAPI) -> None:
    registry = registry_of(app)
    doubled = make_dataclass(
        "Doubled", [("settings_again", Settings)], bases=(Registry,), frozen=True, slots=True
    )
    values = {spec.name: getattr(registry, spec.name) for spec in fields(registry) if spec.init}

    with pytest.raises(TypeError, match="two services are registered as Settings"):
        doubled(**values, settings_again=registry.services.settings)
