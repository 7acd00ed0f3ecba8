"""The API's conventions as a new client meets them.

415 and 422 problems, typed query parameters, authorization in the OpenAPI document and
the landing page. Every refusal here is problem+json with a reason code and changes
nothing: no order, no reservation, no audit event of an order.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from denial_flows import TradingFloor
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, reason_of
from trading_flows import order_terms

from tradeguard.apikeys.scopes import SCOPE_PERMISSIONS, Scope
from tradeguard.core.clock import FixedClock
from tradeguard.gateway.middleware import PAGE_POLICY
from tradeguard.gateway.problems import DECIMAL_STRING
from tradeguard.notify.notifier import MemorySender
from tradeguard.permission_matrix import route_rules

PYDANTIC_INTERNALS = ("pydantic", "is-instance", "function-after", "Value error", "https://")
ORDER_EVENTS = ("order.placed", "order.denied", "order.modified", "order.modify.denied")


@pytest.fixture
def floor(
    client: TestClient, app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> TradingFloor:
    return TradingFloor(client, app, mailbox, clock)


@pytest.fixture
def alice(floor: TradingFloor) -> Person:
    trader = floor.trader()
    floor.instrument("ACME", "100.00")
    return trader


def order_events(floor: TradingFloor) -> list[list[dict[str, Any]]]:
    return [floor.audit(event) for event in ORDER_EVENTS]


def refused_changing_nothing(floor: TradingFloor, person: Person, send: Any) -> Any:
    """Send a request that must be refused; the trader's holdings and order events stay."""
    before, events = floor.holdings(person), order_events(floor)
    response = send()
    assert response.headers["content-type"] == "application/problem+json", response.text
    assert floor.holdings(person) == before
    assert order_events(floor) == events
    return response


# -- 415: a body that is not JSON ----------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain; charset=utf-8",
        "application/x-www-form-urlencoded",
        "application/xml",
        None,
    ],
)
def test_order_when_body_is_not_sent_as_json_then_415_naming_json(
    floor: TradingFloor, alice: Person, content_type: str | None
) -> None:
    headers = alice.headers | ({} if content_type is None else {"content-type": content_type})
    body = json.dumps(order_terms())

    def send() -> Any:
        return floor.client.post("/v1/orders", content=body, headers=headers)

    answer = refused_changing_nothing(floor, alice, send)

    assert reason_of(answer) == (415, "UNSUPPORTED_MEDIA_TYPE")
    problem = answer.json()
    assert problem["expected_content_type"] == "application/json"
    assert "application/json" in problem["detail"]
    assert problem["type"] == "urn:tradeguard:problem:unsupported-media-type"


def test_modify_when_body_is_text_then_415_and_order_unchanged(
    floor: TradingFloor, alice: Person
) -> None:
    order = floor.accept(alice, quantity=10, limit_price="99.00")
    headers = alice.headers | {"content-type": "text/plain"}

    def send() -> Any:
        return floor.client.patch(f"/v1/orders/{order['id']}", content="12", headers=headers)

    assert reason_of(refused_changing_nothing(floor, alice, send)) == (
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )


def test_order_when_json_has_a_json_suffix_type_then_accepted(
    floor: TradingFloor, alice: Person
) -> None:
    headers = alice.headers | {"content-type": "application/vnd.tradeguard+json"}
    placed = floor.client.post("/v1/orders", content=json.dumps(order_terms()), headers=headers)

    assert placed.status_code == 201, placed.text


def test_pages_when_requested_then_still_html(client: TestClient) -> None:
    for path in ("/signin", "/signup"):
        page = client.get(path, headers={"content-type": "text/plain"})
        assert (page.status_code, page.headers["content-type"]) == (200, "text/html; charset=utf-8")


# -- 422: fields that fail validation -------------------------------------------------------


@pytest.mark.parametrize("price", [150.25, 150, -1, True, ["150.25"]])
def test_order_when_price_is_not_a_string_then_422_asks_for_a_decimal_string(
    floor: TradingFloor, alice: Person, price: Any
) -> None:
    answer = refused_changing_nothing(floor, alice, lambda: floor.place(alice, limit_price=price))

    assert reason_of(answer) == (422, "VALIDATION_FAILED")
    assert answer.json()["errors"] == [
        {"location": ["body", "limit_price"], "message": DECIMAL_STRING, "type": "decimal_string"}
    ]
    assert '"150.25"' in DECIMAL_STRING
    for internal in PYDANTIC_INTERNALS:
        assert internal not in answer.text


def test_modify_when_price_is_a_number_then_422_asks_for_a_decimal_string(
    floor: TradingFloor, alice: Person
) -> None:
    order = floor.accept(alice, quantity=10, limit_price="99.00")

    answer = refused_changing_nothing(
        floor, alice, lambda: floor.modify(alice, order, limit_price=99.5)
    )

    assert reason_of(answer) == (422, "VALIDATION_FAILED")
    [error] = answer.json()["errors"]
    assert (error["location"], error["message"]) == (["body", "limit_price"], DECIMAL_STRING)


@pytest.mark.parametrize(
    ("terms", "location", "message"),
    [
        (
            {"limit_price": "1.123456"},
            ["body", "limit_price"],
            "'1.123456' has more than 4 decimal places",
        ),
        ({"limit_price": "1e3"}, ["body", "limit_price"], "not a plain decimal number: '1e3'"),
        (
            {"type": "market"},
            ["body"],
            "limit orders need limit_price; market orders must not have one",
        ),
        ({"quantity": "ten"}, ["body", "quantity"], "Input should be a valid integer"),
        ({"side": "short"}, ["body", "side"], "Input should be 'buy', 'sell' or 'sell_short'"),
    ],
)
def test_order_when_a_field_is_invalid_then_one_readable_error_per_field(
    floor: TradingFloor, alice: Person, terms: dict[str, Any], location: list[str], message: str
) -> None:
    answer = refused_changing_nothing(floor, alice, lambda: floor.place(alice, **terms))

    assert reason_of(answer) == (422, "VALIDATION_FAILED")
    problem = answer.json()
    assert [(e["location"], e["message"]) for e in problem["errors"]] == [(location, message)]
    assert problem["detail"] == "1 field(s) failed validation."
    for internal in PYDANTIC_INTERNALS:
        assert internal not in answer.text


def test_order_when_missing_fields_then_each_listed_by_location(
    floor: TradingFloor, alice: Person
) -> None:
    body = {"client_order_id": "c-1", "quantity": 1}

    answer = refused_changing_nothing(
        floor, alice, lambda: floor.client.post("/v1/orders", json=body, headers=alice.headers)
    )

    errors = answer.json()["errors"]
    assert [error["location"] for error in errors] == [
        ["body", "symbol"],
        ["body", "side"],
        ["body", "type"],
    ]
    assert {error["message"] for error in errors} == {"Field required"}


# -- 422: query parameters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("before=garbage", "before"),
        ("before=", "before"),
        ("limit=ten", "limit"),
        ("limit=0", "limit"),
        ("state=pending", "state"),
        ("symbol=acme", "symbol"),
    ],
)
def test_order_list_when_a_query_parameter_is_malformed_then_422_naming_it(
    floor: TradingFloor, alice: Person, query: str, name: str
) -> None:
    answer = floor.client.get(f"/v1/orders?{query}", headers=alice.headers)

    assert reason_of(answer) == (422, "VALIDATION_FAILED"), answer.text
    assert [error["location"] for error in answer.json()["errors"]] == [["query", name]]


def test_order_list_when_paged_with_before_then_older_orders_only(
    floor: TradingFloor, alice: Person
) -> None:
    first, second, third = (floor.accept(alice, quantity=n) for n in (1, 2, 3))
    get, headers = floor.client.get, alice.headers

    page = get(f"/v1/orders?limit=2&before={third['id']}", headers=headers).json()
    upper = get(f"/v1/orders?before={third['id'].upper()}", headers=headers).json()

    assert [order["id"] for order in page] == [second["id"], first["id"]]
    assert upper == page


# -- authorization in the OpenAPI document ----------------------------------------------------

KEY_PERMISSIONS = {permission.value for scope in Scope for permission in SCOPE_PERMISSIONS[scope]}


def test_openapi_when_generated_then_declares_bearer_and_signed_api_key_schemes(
    client: TestClient,
) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]

    assert schemes["AccessToken"] | {"description": ""} == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "",
    }
    key = schemes["SignedApiKey"]
    assert (key["type"], key["in"], key["name"]) == ("apiKey", "header", "TG-API-KEY")
    for header in ("TG-TIMESTAMP", "TG-NONCE", "TG-SIGNATURE"):
        assert header in key["description"]


def test_openapi_when_generated_then_each_operation_lists_what_its_route_declares(
    client: TestClient, app: FastAPI
) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    checked = 0

    for rule in route_rules(app):
        operation = paths.get(rule.path, {}).get(rule.method.lower())
        if operation is None:  # not documented (pages, /docs)
            continue
        checked += 1
        if "public" in rule.declared:
            assert "security" not in operation, rule
            continue
        schemes = [name for requirement in operation["security"] for name in requirement]
        by_key = set(rule.declared) <= KEY_PERMISSIONS
        assert schemes == ["AccessToken", *(["SignedApiKey"] if by_key else [])], rule

    assert checked > 50


@pytest.mark.parametrize(
    ("method", "path", "schemes"),
    [
        ("post", "/v1/orders", ["AccessToken", "SignedApiKey"]),
        ("get", "/v1/account", ["AccessToken", "SignedApiKey"]),
        ("post", "/v1/api-keys", ["AccessToken"]),
        ("get", "/v1/audit/events", ["AccessToken"]),
        ("post", "/v1/auth/login", None),
        ("get", "/healthz", None),
        ("get", "/.well-known/jwks.json", None),
    ],
)
def test_openapi_when_generated_then_known_routes_take_the_expected_schemes(
    client: TestClient, method: str, path: str, schemes: list[str] | None
) -> None:
    operation = client.get("/openapi.json").json()["paths"][path][method]

    found = [name for requirement in operation.get("security", []) for name in requirement]
    assert found == (schemes or [])
    assert ("security" in operation) == (schemes is not None)


# -- the landing page -------------------------------------------------------------------------


def test_root_when_opened_without_signing_in_then_landing_page_links_the_ways_in(
    client: TestClient,
) -> None:
    page = client.get("/")

    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    for link in ('href="/signup"', 'href="/signin"', 'href="/docs"'):
        assert link in page.text
    headers = page.headers
    assert headers["content-security-policy"] == PAGE_POLICY
    assert headers["strict-transport-security"].startswith("max-age=")
    assert (headers["x-content-type-options"], headers["x-frame-options"]) == ("nosniff", "DENY")
    assert headers["cache-control"] == "no-store"
    assert "/" not in client.get("/openapi.json").json()["paths"]


def test_root_when_posted_to_then_405_problem(client: TestClient) -> None:
    assert reason_of(client.post("/", json={})) == (405, "METHOD_NOT_ALLOWED")
