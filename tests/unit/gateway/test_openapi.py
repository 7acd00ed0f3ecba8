"""The OpenAPI responses: derived from the route declarations, every error a problem document."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from tradeguard.core.errors import PROBLEM_CONTENT_TYPE
from tradeguard.gateway.openapi import (
    GENERIC_RESPONSES,
    OperationFacts,
    derived_statuses,
    operation_facts,
)
from tradeguard.web.routing import api_routes

PLAIN = OperationFacts(
    method="GET",
    path="/v1/things",
    requires_permission=False,
    has_body=False,
    has_parameters=False,
    has_path_parameters=False,
)


def _replace(**changes: Any) -> OperationFacts:
    values = {name: getattr(PLAIN, name) for name in OperationFacts.__slots__}
    return OperationFacts(**(values | changes))


def test_derived_statuses_when_public_read_without_parameters_then_gateway_limits_only() -> None:
    assert derived_statuses(PLAIN) == {400, 408, 429, 431, 500, 503, 504}


@pytest.mark.parametrize(
    ("changes", "added"),
    [
        ({"has_body": True, "method": "POST"}, {413, 415, 422}),
        ({"has_parameters": True}, {422}),
        ({"has_path_parameters": True, "has_parameters": True}, {404, 422}),
        ({"requires_permission": True}, {401, 403}),
    ],
)
def test_derived_statuses_when_route_declares_more_then_more_answers(
    changes: dict[str, Any], added: set[int]
) -> None:
    assert derived_statuses(_replace(**changes)) - derived_statuses(PLAIN) == added


def test_derived_statuses_when_class_never_limited_then_no_429() -> None:
    assert 429 not in derived_statuses(_replace(method="GET", path="/healthz"))


@pytest.mark.parametrize("path", ["/v1/orders/{order_id}", "/v1/orders"])
def test_derived_statuses_when_a_cancel_then_429_for_callers_who_do_not_authenticate(
    path: str,
) -> None:
    assert 429 in derived_statuses(_replace(method="DELETE", path=path))


def _error_responses(schema: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    """The operation's error responses, each resolved through ``components.responses``."""
    shared = schema["components"]["responses"]
    found = {}
    for status, response in operation["responses"].items():
        if int(status) >= 400:
            reference = response.get("$ref", "")
            found[status] = shared[reference.rsplit("/", 1)[1]] if reference else response
    return found


def test_openapi_when_generated_then_every_operation_lists_its_derived_statuses(
    app: FastAPI,
) -> None:
    schema = app.openapi()
    checked = 0
    for route in api_routes(app):
        for method in route.methods or ():
            operation = schema["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:  # not documented (pages, /docs)
                continue
            checked += 1
            expected = derived_statuses(operation_facts(route, method))
            listed = {int(status) for status in operation["responses"]}
            assert expected <= listed, (method, route.path_format, expected - listed)
    assert checked > 90


def test_openapi_when_generated_then_every_error_is_a_problem_document(app: FastAPI) -> None:
    schema = app.openapi()
    problem = {"$ref": "#/components/schemas/Problem"}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in _error_responses(schema, operation).items():
                where = (method, path, status)
                assert response["content"] == {PROBLEM_CONTENT_TYPE: {"schema": problem}}, where


def test_openapi_when_generated_then_framework_validation_error_is_gone(app: FastAPI) -> None:
    schema = app.openapi()
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert "HTTPValidationError" not in str(schema)
    assert set(schema["components"]["responses"]) == {n for n, _ in GENERIC_RESPONSES.values()}


def test_openapi_when_route_lists_its_own_status_then_its_description_stays(app: FastAPI) -> None:
    responses = app.openapi()["paths"]["/v1/orders"]["post"]["responses"]
    assert "ORDER_CLIENT_ID_REUSED" in responses["409"]["description"]
    assert responses["409"]["content"][PROBLEM_CONTENT_TYPE]


def test_openapi_when_generated_twice_then_same_document(app: FastAPI) -> None:
    first = repr(app.openapi())
    assert repr(app.openapi()) == first
