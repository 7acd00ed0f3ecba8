"""Non-marketable DAY limit orders resting at an outside venue, through the HTTP API.

With ``routing_rest_venue`` set to XNAS, a DAY limit buy below the offer is sent there
DAY and rests; it fills when XNAS's offer later comes down through it, and the fill is
booked like any other. The customer's cancel and modify go to the venue and take effect
when it confirms; while one is pending another is refused with ``ORDER_AT_VENUE``. A
venue that drops and comes back is asked where each resting order stands: a fill made
while the line was down is booked once, and an order it no longer knows ends cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, audit_event_types, reason_of, staff_signed_in
from test_order_routing import SEQUENCE, router_of, settled, wait_until
from trading_flows import client_over_sample, desk_of, funded_trader, place, runner_of

from support import registry_of
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.market.events import Quote
from tradeguard.notify.notifier import MemorySender
from tradeguard.routing.fix.messages import FIX_DAY

ROUTING = "/v1/compliance/routing"
BID, ASK = 2_298_200, 2_298_600  # XNAS quotes 229.82 / 229.86
LIMIT = "229.00"


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(
        market_data="simulator",
        routing_simulated_venues=True,
        routing_venue_latency_ms=1.0,
        routing_venue_partial_fill_pct=0,
        routing_rest_venue="XNAS",
    )


@pytest.fixture
def client(app: FastAPI, clock: FixedClock) -> Iterator[TestClient]:
    with client_over_sample(app, clock) as test:
        runner_of(app).stop()  # quotes by hand from here on
        yield test


@pytest.fixture
def alice(client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI) -> Person:
    return funded_trader(client, mailbox, clock, app, "alice")


@pytest.fixture
def officer(client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI) -> Person:
    engine = registry_of(app).services.engine
    return staff_signed_in(
        client, mailbox, clock, engine, role="COMPLIANCE", level="operator", username="officer"
    )


def quote_xnas(app: FastAPI, clock: FixedClock, ask: int = ASK) -> None:
    """XNAS alone quotes AAPL: the NBBO is its quote."""
    quote = Quote(
        "XNAS", "AAPL", min(BID, ask - 100), 500, ask, 500, next(SEQUENCE), clock.now_ns()
    )
    assert runner_of(app).feed.process([quote]) == 1


def resting_buy(  # noqa: PLR0913 - fixtures and the order's terms
    client: TestClient,
    app: FastAPI,
    clock: FixedClock,
    person: Person,
    *,
    quantity: int = 100,
    limit: str = LIMIT,
) -> str:
    """A DAY limit buy below the offer, placed and resting at XNAS."""
    clock.advance(seconds=60)  # the loaded reference prices are stale: only quotes count
    quote_xnas(app, clock)
    placed = place(client, person, symbol="AAPL", limit_price=limit, quantity=quantity)
    assert placed.status_code == 201, placed.text
    order_id: str = placed.json()["id"]
    router = router_of(app)
    wait_until(lambda: bool(router.simulated["XNAS"].orders.get(order_id)))
    assert router.simulated["XNAS"].orders[order_id].order.time_in_force == FIX_DAY
    return order_id


def order_of(client: TestClient, person: Person, order_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.get(f"/v1/orders/{order_id}", headers=person.headers).json()
    return answer


def decision_of(client: TestClient, officer: Person, order_id: str) -> dict[str, Any]:
    answer = client.get(f"{ROUTING}/orders/{order_id}", headers=officer.headers)
    assert answer.status_code == 200, answer.text
    decision: dict[str, Any] = answer.json()
    return decision


def test_a_non_marketable_day_order_rests_at_the_venue_and_fills_when_the_offer_crosses(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person, officer: Person
) -> None:
    order_id = resting_buy(client, app, clock, alice)
    assert order_of(client, alice, order_id)["status"] == "open"
    decision = decision_of(client, officer, order_id)
    assert (decision["venue"], decision["status"]) == ("XNAS", "resting")
    assert decision["reasons"] == ["not_marketable_rests_at_venue"]
    assert decision["order_kind"] == "non_marketable_limit"
    with desk_of(app).lock:  # not in the internal book: it cannot fill twice
        assert desk_of(app).exchange.book("AAPL").open_order(order_id) is None
    quote_xnas(app, clock, ask=2_289_000)  # XNAS offers 228.90: through the limit
    order = settled(client, alice, order_id)
    assert (order["status"], order["filled_quantity"]) == ("filled", 100)
    assert order["average_price"] == "228.90"
    [position] = client.get("/v1/positions", headers=alice.headers).json()
    assert position["quantity"] == 100
    decision = decision_of(client, officer, order_id)
    assert decision["status"] == "done"
    assert sum(fill["quantity"] for fill in decision["fills"]) == 100


def test_a_cancel_goes_to_the_venue_and_the_order_ends_when_it_confirms(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person, officer: Person
) -> None:
    order_id = resting_buy(client, app, clock, alice)
    venue = router_of(app).simulated["XNAS"]
    venue.answering = False  # the request waits at the venue: it stays pending here
    asked = client.delete(f"/v1/orders/{order_id}", headers=alice.headers)
    assert asked.status_code == 200, asked.text
    assert decision_of(client, officer, order_id)["status"] == "cancelling"
    again = client.patch(
        f"/v1/orders/{order_id}", json={"limit_price": "229.10"}, headers=alice.headers
    )
    assert reason_of(again) == (409, "ORDER_AT_VENUE")
    assert order_of(client, alice, order_id)["status"] == "open"
    venue.answering = True
    router_of(app).links["XNAS"].cancel(venue.orders[order_id].order)  # asked again
    order = settled(client, alice, order_id)
    assert (order["status"], order["cancel_reason"]) == ("cancelled", "requested")
    quote_xnas(app, clock, ask=2_289_000)
    assert order_of(client, alice, order_id)["filled_quantity"] == 0
    kinds = audit_event_types(registry_of(app).services.engine)
    assert {"order.cancel.requested", "order.cancelled", "order.route.done"} <= set(kinds)


def test_cancel_all_asks_the_venue_to_cancel_the_orders_resting_there(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person
) -> None:
    order_id = resting_buy(client, app, clock, alice)
    answer = client.delete("/v1/orders", headers=alice.headers)
    assert answer.status_code == 200, answer.text
    order = settled(client, alice, order_id)
    assert (order["status"], order["cancel_reason"]) == ("cancelled", "requested")
    assert router_of(app).simulated["XNAS"].orders[order_id].done


def test_a_modify_goes_to_the_venue_and_the_order_takes_the_terms_it_confirms(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person, officer: Person
) -> None:
    order_id = resting_buy(client, app, clock, alice, quantity=100)
    changed = client.patch(
        f"/v1/orders/{order_id}",
        json={"limit_price": "229.50", "quantity": 60},
        headers=alice.headers,
    )
    assert changed.status_code == 200, changed.text
    wait_until(lambda: order_of(client, alice, order_id)["limit_price"] == "229.50")
    assert order_of(client, alice, order_id)["quantity"] == 60
    decision = decision_of(client, officer, order_id)
    assert (decision["status"], decision["sent_limit"]) == ("resting", "229.50")
    quote_xnas(app, clock, ask=2_294_000)  # 229.40: through the new limit, not the old one
    order = settled(client, alice, order_id)
    assert (order["status"], order["filled_quantity"], order["average_price"]) == (
        "filled",
        60,
        "229.40",
    )


def test_a_modify_the_venue_refuses_leaves_the_order_as_it_was(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person, officer: Person
) -> None:
    order_id = resting_buy(client, app, clock, alice, quantity=100)
    venue = router_of(app).simulated["XNAS"]
    venue.orders[order_id].done = True  # the venue is done with it and will say so
    asked = client.patch(
        f"/v1/orders/{order_id}", json={"limit_price": "229.50"}, headers=alice.headers
    )
    assert asked.status_code == 200, asked.text
    wait_until(lambda: decision_of(client, officer, order_id)["status"] == "resting")
    order = order_of(client, alice, order_id)
    assert (order["status"], order["limit_price"], order["quantity"]) == ("open", LIMIT, 100)
    kinds = audit_event_types(registry_of(app).services.engine)
    assert "order.venue_request.refused" in kinds
    assert "order.modified" not in kinds


def test_a_modify_the_risk_checks_refuse_never_reaches_the_venue(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person
) -> None:
    order_id = resting_buy(client, app, clock, alice, quantity=10)
    venue = router_of(app).simulated["XNAS"]
    refused = client.patch(
        f"/v1/orders/{order_id}", json={"quantity": 10_000_000}, headers=alice.headers
    )
    assert refused.status_code == 422, refused.text
    assert venue.orders[order_id].order.cl_ord_id == order_id  # never replaced
    assert len(venue.orders) == 1
    assert order_of(client, alice, order_id)["quantity"] == 10


def test_on_reconnect_resting_orders_are_reconciled_a_fill_while_away_booked_once(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person, officer: Person
) -> None:
    filled_away = resting_buy(client, app, clock, alice)
    forgotten = resting_buy(client, app, clock, alice, quantity=50, limit="228.00")
    router = router_of(app)
    venue = router.simulated["XNAS"]
    port = venue.port
    venue.stop()
    wait_until(lambda: not router.reachable("XNAS"))
    quote_xnas(app, clock, ask=2_289_000)  # fills the first order while the line is down
    wait_until(lambda: venue.orders[filled_away].done)
    del venue.orders[forgotten]  # ... and the venue loses the other one
    assert order_of(client, alice, filled_away)["filled_quantity"] == 0
    venue.start(port)
    order = settled(client, alice, filled_away)
    assert (order["status"], order["filled_quantity"]) == ("filled", 100)
    lost = settled(client, alice, forgotten)
    assert (lost["status"], lost["cancel_reason"]) == ("cancelled", "venue_cancelled")
    wait_until(lambda: router.reachable("XNAS"))
    fills = decision_of(client, officer, filled_away)["fills"]
    assert sum(fill["quantity"] for fill in fills) == 100  # once, not per report
    [position] = client.get("/v1/positions", headers=alice.headers).json()
    assert position["quantity"] == 100
