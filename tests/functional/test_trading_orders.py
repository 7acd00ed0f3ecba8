"""Order entry through the HTTP API: placing, matching, idempotency, modify and cancel."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_key_flows import keyed_trader, signature_headers, signed_call
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, audit_event_types, reason_of, signed_up_with_totp
from trading_flows import add_instrument, fund_trader, funded_trader, order_terms, place

from support import registry_of
from tradeguard.core.clock import FixedClock, ns_to_rfc3339
from tradeguard.db.session import transaction
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind
from tradeguard.trading.models import OrderRow


@pytest.fixture
def market(app: FastAPI) -> FastAPI:
    add_instrument(app, "ACME", "100.00")
    return app


@pytest.fixture
def traders(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, market: FastAPI
) -> tuple[Any, Any]:
    alice = funded_trader(client, mailbox, clock, market, "alice")
    bob = funded_trader(client, mailbox, clock, market, "bob", kind=AccountKind.MARGIN)
    add_instrument(market, "ACME", "100.00")  # a fresh reference price after the sign-ups
    return alice, bob


def test_a_limit_order_rests_and_reserves_cash(
    client: TestClient, traders: tuple[Any, Any]
) -> None:
    alice, _ = traders
    placed = place(client, alice, quantity=10, limit_price="99.50")
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["status"] == "open"
    assert order["remaining_quantity"] == 10
    account = client.get("/v1/account", headers=alice.headers).json()
    assert account["reserved_cash"] == "995.00"
    listed = client.get("/v1/orders?state=open", headers=alice.headers).json()
    assert [item["id"] for item in listed] == [order["id"]]


def test_crossing_orders_trade_and_move_cash_and_positions(
    client: TestClient, traders: tuple[Any, Any]
) -> None:
    alice, bob = traders
    resting = place(client, alice, side="buy", quantity=5, limit_price="100.00").json()
    sold = place(client, bob, side="sell_short", quantity=8, limit_price="99.00")
    assert sold.status_code == 201, sold.text
    assert sold.json()["filled_quantity"] == 5
    assert sold.json()["status"] == "partially_filled"
    assert sold.json()["average_price"] == "100.00"  # the resting order's price
    filled = client.get(f"/v1/orders/{resting['id']}", headers=alice.headers).json()
    assert filled["status"] == "filled"
    assert client.get("/v1/positions", headers=alice.headers).json() == [
        {
            "symbol": "ACME",
            "quantity": 5,
            "cost": "500.00",
            "market_price": "100.00",  # the last sale
            "market_value": "500.00",
            "unrealized_pnl": "0.00",
        }
    ]
    assert client.get("/v1/positions", headers=bob.headers).json() == [
        {
            "symbol": "ACME",
            "quantity": -5,
            "cost": "-500.00",
            "market_price": "100.00",
            "market_value": "-500.00",
            "unrealized_pnl": "0.00",
        }
    ]
    alice_account = client.get("/v1/account", headers=alice.headers).json()
    assert alice_account["settled_cash"] == "99500.00"
    assert alice_account["reserved_cash"] == "0.00"
    fills = client.get(f"/v1/orders/{resting['id']}/executions", headers=alice.headers).json()
    assert [(fill["quantity"], fill["price"], fill["liquidity"]) for fill in fills] == [
        (5, "100.00", "maker")
    ]


def test_a_retried_client_order_id_returns_the_original(
    client: TestClient, traders: tuple[Any, Any]
) -> None:
    alice, _ = traders
    terms = order_terms(quantity=3, limit_price="98.00")
    first = client.post("/v1/orders", json=terms, headers=alice.headers)
    again = client.post("/v1/orders", json=terms, headers=alice.headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert len(client.get("/v1/orders", headers=alice.headers).json()) == 1
    changed = client.post("/v1/orders", json=terms | {"quantity": 4}, headers=alice.headers)
    assert reason_of(changed) == (409, "ORDER_CLIENT_ID_REUSED")


def test_modify_and_cancel(client: TestClient, traders: tuple[Any, Any], app: FastAPI) -> None:
    alice, bob = traders
    order = place(client, alice, quantity=10, limit_price="99.00").json()
    modified = client.patch(
        f"/v1/orders/{order['id']}",
        json={"limit_price": "99.50", "quantity": 12},
        headers=alice.headers,
    )
    assert modified.status_code == 200, modified.text
    assert (modified.json()["quantity"], modified.json()["limit_price"]) == (12, "99.50")
    assert client.get("/v1/account", headers=alice.headers).json()["reserved_cash"] == "1194.00"
    assert reason_of(client.delete(f"/v1/orders/{order['id']}", headers=bob.headers)) == (
        404,
        "ORDER_NOT_FOUND",
    )
    cancelled = client.delete(f"/v1/orders/{order['id']}", headers=alice.headers)
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "requested"
    assert client.get("/v1/account", headers=alice.headers).json()["reserved_cash"] == "0.00"
    assert reason_of(client.delete(f"/v1/orders/{order['id']}", headers=alice.headers)) == (
        409,
        "ORDER_NOT_OPEN",
    )
    events = audit_event_types(registry_of(app).services.engine)
    assert {"order.placed", "order.modified", "order.cancelled"} <= set(events)


def test_modify_and_cancel_when_later_then_updated_at_moves_and_created_at_stays(
    client: TestClient, clock: FixedClock, traders: tuple[Any, Any]
) -> None:
    alice, _ = traders
    order = place(client, alice, quantity=10, limit_price="99.00").json()
    assert order["updated_at"] == order["created_at"]
    clock.advance(seconds=3)

    modified = client.patch(
        f"/v1/orders/{order['id']}", json={"quantity": 8}, headers=alice.headers
    ).json()
    clock.advance(seconds=4)
    cancelled = client.delete(f"/v1/orders/{order['id']}", headers=alice.headers).json()

    assert modified["created_at"] == cancelled["created_at"] == order["created_at"]
    assert order["updated_at"] < modified["updated_at"] < cancelled["updated_at"]
    assert cancelled["updated_at"] == ns_to_rfc3339(clock.now_ns())
    shown = client.get(f"/v1/orders/{order['id']}", headers=alice.headers).json()
    assert shown["updated_at"] == cancelled["updated_at"]


def test_a_denial_is_a_problem_with_inputs_and_is_audited(
    client: TestClient, traders: tuple[Any, Any], app: FastAPI
) -> None:
    alice, _ = traders
    denied = place(client, alice, quantity=10, limit_price="150.00")
    assert reason_of(denied) == (422, "RISK_PRICE_COLLAR")
    assert denied.json()["inputs"]["limit_price"] is not None
    assert "order.denied" in audit_event_types(registry_of(app).services.engine)
    assert client.get("/v1/orders", headers=alice.headers).json() == []


def test_orders_signed_with_an_api_key(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, market: FastAPI
) -> None:
    trader, key = keyed_trader(
        client, mailbox, clock, Person(username="quant", email="q@example.com")
    )
    fund_trader(market, trader, "50000.00")
    add_instrument(market, "ACME", "100.00")
    body = order_terms(quantity=2, limit_price="99.00")
    encoded = json.dumps(body).encode()
    headers = signature_headers(key, clock, "POST", "/v1/orders", body=encoded)
    headers["content-type"] = "application/json"
    placed = client.post("/v1/orders", content=encoded, headers=headers)
    assert placed.status_code == 201, placed.text
    replayed = client.post("/v1/orders", content=encoded, headers=headers)
    assert reason_of(replayed) == (401, "APIKEY_REPLAY")
    orders = signed_call(client, key, clock, "GET", "/v1/orders")
    assert [order["id"] for order in orders.json()] == [placed.json()["id"]]
    with transaction(registry_of(market).services.sessions) as db:
        assert db.get_one(OrderRow, placed.json()["id"]).placed_via == key["key_id"]


def test_a_data_key_reads_but_cannot_trade(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, market: FastAPI
) -> None:
    trader, key = keyed_trader(client, mailbox, clock, scope="data")
    fund_trader(market, trader, "50000.00")
    refused = signed_call(client, key, clock, "POST", "/v1/orders", payload=order_terms())
    assert reason_of(refused) == (403, "APIKEY_SCOPE")
    account = signed_call(client, key, clock, "GET", "/v1/account")
    assert account.status_code == 200
    assert account.json()["cash"] == "50000.00"


@pytest.mark.usefixtures("market")
def test_a_user_without_an_account_cannot_trade(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    person = signed_up_with_totp(
        client, mailbox, clock, Person(username="new", email="n@example.com")
    )
    assert reason_of(place(client, person)) == (403, "TRADING_NO_ACCOUNT")
    assert reason_of(client.get("/v1/account", headers=person.headers)) == (
        403,
        "TRADING_NO_ACCOUNT",
    )
