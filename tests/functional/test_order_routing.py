"""Order routing through the HTTP API on a fresh installation with simulated venues.

The app runs the market simulator and a simulated FIX venue per market venue, as
``make run`` does. The feed is stopped and quotes are given by hand, so where an order
should go is known: a market order goes to the venue with the best price, fills there
and updates the order, the position and the audit trail; a venue out of reach is
passed over for the next best price; the internal book takes an order only at a better
price than the NBBO; compliance reads each decision, execution quality and the 606
report with the payment for order flow received.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, audit_event_types, reason_of, staff_signed_in
from lxml import etree
from trading_flows import client_over_sample, desk_of, funded_trader, place, runner_of

from support import registry_of
from tradeguard.audit.search import AuditQuery, search
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.market.events import Quote
from tradeguard.notify.notifier import MemorySender
from tradeguard.routing.fix.messages import ExecType, ExecutionReport, OrdStatus
from tradeguard.routing.router import Router
from tradeguard.routing.venue import SimulatedVenue
from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.parameters import SurveillanceParameters
from tradeguard.surveillance.watcher import SurveillanceWatcher

WAIT_SECONDS = 10
SCHEMA = Path(__file__).resolve().parents[2] / ".." / "shared" / "schemas" / "sec-606"
SEQUENCE = iter(range(10**9, 10**10))
ROUTING = "/v1/compliance/routing"


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(
        market_data="simulator",
        routing_simulated_venues=True,
        routing_venue_latency_ms=1.0,
        routing_venue_partial_fill_pct=50,
        routing_pfof={"XNAS": 20},
        routing_order_type_terms={"XNAS:market": {"access_fee": 10}},
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


def router_of(app: FastAPI) -> Router:
    router = desk_of(app).router
    assert isinstance(router, Router)
    return router


def quote_aapl(app: FastAPI, clock: FixedClock) -> None:
    """XNAS has the best offer (229.86), ARCX the next (229.88), XNYS the worst."""
    now = clock.now_ns()
    quotes = [
        Quote("XNYS", "AAPL", 2_298_000, 500, 2_299_000, 500, next(SEQUENCE), now),
        Quote("XNAS", "AAPL", 2_298_200, 500, 2_298_600, 500, next(SEQUENCE), now),
        Quote("ARCX", "AAPL", 2_298_100, 500, 2_298_800, 500, next(SEQUENCE), now),
    ]
    assert runner_of(app).feed.process(quotes) == len(quotes)


def settled(client: TestClient, person: Person, order_id: str) -> dict[str, Any]:
    """The order once it is no longer open (the venue answers in its own time)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        order: dict[str, Any] = client.get(f"/v1/orders/{order_id}", headers=person.headers).json()
        if order["status"] not in {"open", "partially_filled"}:
            return order
        time.sleep(0.01)
    raise AssertionError("the venue did not finish the order")


def market_buy(client: TestClient, person: Person, quantity: int = 100) -> dict[str, Any]:
    placed = place(
        client, person, symbol="AAPL", type="market", limit_price=None, quantity=quantity
    )
    assert placed.status_code == 201, placed.text
    return settled(client, person, placed.json()["id"])


def test_a_market_order_is_routed_to_the_best_offer_and_fills_there(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person, officer: Person
) -> None:
    clock.advance(seconds=60)  # the loaded reference prices are stale: only quotes count
    quote_aapl(app, clock)
    order = market_buy(client, alice)
    assert order["status"] == "filled"
    assert order["average_price"] == "229.86"
    [position] = client.get("/v1/positions", headers=alice.headers).json()
    assert position["quantity"] == 100
    decision = client.get(f"{ROUTING}/orders/{order['id']}", headers=officer.headers).json()
    assert decision["venue"] == "XNAS"
    assert decision["nbbo_bid"] == "229.82"
    assert decision["nbbo_ask"] == "229.86"
    assert "venue_at_nbbo" in decision["reasons"]
    assert decision["status"] == "done"
    assert sum(fill["quantity"] for fill in decision["fills"]) == 100
    kinds = audit_event_types(registry_of(app).services.engine)
    assert "order.routed" in kinds
    assert "order.route.done" in kinds
    assert "trade.executed" in kinds


def test_a_venue_execution_reaches_surveillance_as_a_trade_of_the_customers_account(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person
) -> None:
    clock.advance(seconds=60)
    quote_aapl(app, clock)
    order = market_buy(client, alice)
    assert order["status"] == "filled"
    watcher = SurveillanceWatcher(AccountDirectory(), SurveillanceParameters())
    with registry_of(app).services.sessions() as db:
        events = [
            event
            for kind in ("order.placed", "trade.executed")
            for event in search(db, AuditQuery(event_type=kind)).events
        ]
    for event in sorted(events, key=lambda event: event.seq):
        assert watcher.observe(event) == []
    routed = watcher.engine.market.orders[order["id"]]
    fills = watcher.engine.market.recent_fills("AAPL", routed.group)
    assert sum(fill.qty for fill in fills) == 100
    assert {(fill.account, fill.side, fill.counterparty) for fill in fills} == {
        (routed.account, "buy", "XNAS")
    }
    assert watcher.engine.pump.positions[("AAPL", routed.account)].bought == 100


def test_a_report_sent_again_is_never_booked_twice(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person, officer: Person
) -> None:
    quote_aapl(app, clock)
    order = market_buy(client, alice)
    decision = client.get(f"{ROUTING}/orders/{order['id']}", headers=officer.headers).json()
    fill = decision["fills"][0]
    again = ExecutionReport(
        order["id"],
        fill["exec_id"],
        ExecType.TRADE,
        OrdStatus.PARTIALLY_FILLED,
        fill["quantity"],
        2_298_600,
        0,
        fill["quantity"],
    )
    router_of(app).on_report("XNAS", again)
    forged = ExecutionReport(
        order["id"], "XNAS-FORGED", ExecType.TRADE, OrdStatus.FILLED, 50, 2_298_600, 0, 150
    )
    router_of(app).on_report("XNAS", forged)  # beyond the order's quantity: refused
    after = client.get(f"/v1/orders/{order['id']}", headers=alice.headers).json()
    assert after["filled_quantity"] == 100
    executions = client.get(f"/v1/orders/{order['id']}/executions", headers=alice.headers)
    assert sum(item["quantity"] for item in executions.json()) == 100


def test_a_venue_out_of_reach_is_passed_over_for_the_next_best_price(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person, officer: Person
) -> None:
    router = router_of(app)
    router.links["XNAS"].stop()  # type: ignore[attr-defined] # the session logs out
    assert not router.reachable("XNAS")
    quote_aapl(app, clock)
    order = market_buy(client, alice)
    assert order["average_price"] == "229.88"
    decision = client.get(f"{ROUTING}/orders/{order['id']}", headers=officer.headers).json()
    assert decision["venue"] == "ARCX"
    assert "nbbo_venue_unreachable" in decision["reasons"]


def test_with_no_venue_in_reach_a_market_order_fails_closed_at_the_nbbo(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person, officer: Person
) -> None:
    router = router_of(app)
    for link in router.links.values():
        link.stop()  # type: ignore[attr-defined]
    quote_aapl(app, clock)
    order = market_buy(client, alice)
    assert order["status"] == "cancelled"  # nothing at or better than the NBBO internally
    assert order["filled_quantity"] == 0
    decision = client.get(f"{ROUTING}/orders/{order['id']}", headers=officer.headers).json()
    assert (decision["venue"], decision["reasons"]) == (
        "INTERNAL",
        ["no_venue_reachable_fail_closed"],
    )


def test_the_internal_book_takes_an_order_it_fills_better_than_the_nbbo(  # noqa: PLR0913, PLR0917 - fixtures
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    alice: Person,
    officer: Person,
) -> None:
    bob = funded_trader(client, mailbox, clock, app, "bob")
    quote_aapl(app, clock)
    seller = place(
        client, bob, symbol="AAPL", side="sell_short", quantity=100, limit_price="229.84"
    )
    assert seller.status_code in {201, 422}, seller.text
    if seller.status_code == 422:  # a cash account may not short: buy first, then sell
        bought = market_buy(client, bob)
        assert bought["status"] == "filled"
        seller = place(client, bob, symbol="AAPL", side="sell", quantity=100, limit_price="229.84")
        assert seller.status_code == 201, seller.text
    order = market_buy(client, alice)
    assert order["average_price"] == "229.84"
    decision = client.get(f"{ROUTING}/orders/{order['id']}", headers=officer.headers).json()
    assert decision["venue"] == "INTERNAL"
    assert decision["reasons"] == ["internal_book_improves_on_nbbo"]


def test_execution_quality_and_the_606_report_show_the_venue_and_its_payment(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person, officer: Person
) -> None:
    quote_aapl(app, clock)
    market_buy(client, alice)
    now = clock.now()
    quality = client.get(
        f"{ROUTING}/quality?year={now.year}&month={now.month}", headers=officer.headers
    )
    assert quality.status_code == 200, quality.text
    [xnas] = [row for row in quality.json() if row["venue"] == "XNAS"]
    assert (xnas["shares_routed"], xnas["shares_filled"], xnas["fill_rate_pct"]) == (
        100,
        100,
        "100.00",
    )
    assert xnas["price_improvement_per_share"] == "0.0000"  # filled at the NBBO offer
    assert xnas["effective_spread_per_share"] == "0.0400"  # twice 2 cents from the midpoint
    assert xnas["pfof_received"] == "0.20"  # $0.002 a share on 100 shares
    assert xnas["access_fees_paid"] == "0.10"  # XNAS's fee for market orders, not its own
    quarter = (now.month - 1) // 3 + 1
    report = client.get(
        f"{ROUTING}/rule606?year={now.year}&quarter={quarter}", headers=officer.headers
    )
    assert report.status_code == 200, report.text
    document = etree.fromstring(report.content)
    schema = etree.XMLSchema(etree.parse(str(SCHEMA / "oh-20191231.xsd")))
    assert schema.validate(document), schema.error_log
    [venue] = [v for v in document.iter("rVenue") if v.findtext("mic") == "XNAS"]
    assert venue.findtext("netPmtPaidRecvMarketOrdersUsd") == "0.10"  # $0.002 less $0.001
    assert venue.findtext("netPmtPaidRecvMarketOrdersCph") == "10.0000"


def test_the_606_reports_and_the_public_page_come_from_the_routing_records(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person, officer: Person
) -> None:
    quote_aapl(app, clock)
    order = market_buy(client, alice)
    decision = client.get(f"{ROUTING}/orders/{order['id']}", headers=officer.headers).json()
    assert (decision["order_kind"], decision["access_fee_per_share"]) == ("market", "0.001")
    assert decision["net_payment"] == "0.10"  # 100 shares at $0.002 less $0.001
    mine = client.get("/v1/reports/order-routing", headers=alice.headers)
    assert mine.status_code == 200, mine.text
    [route] = etree.fromstring(mine.content).iter("route")
    assert (route.findtext("venueName"), route.findtext("mic")) == ("XNAS (simulated)", "XNAS")
    assert route.find("transaction") is not None
    now = clock.now()
    quarter = (now.month - 1) // 3 + 1
    compliance = client.get(
        f"/v1/compliance/reports/order-routing?year={now.year}&quarter={quarter}",
        headers=officer.headers,
    )
    routed = client.get(
        f"{ROUTING}/rule606?year={now.year}&quarter={quarter}", headers=officer.headers
    )
    assert compliance.content.split(b"<timestamp>")[0] == routed.content.split(b"<timestamp>")[0]
    names = [
        venue.findtext("name") for venue in etree.fromstring(compliance.content).iter("rVenue")
    ]
    assert names == ["XNAS (simulated)"]
    clock.advance(seconds=100 * 24 * 3600)  # the quarter has ended: the page publishes it
    page = client.get(f"/disclosures/order-routing?year={now.year}&quarter={quarter}")
    assert page.status_code == 200, page.text
    assert "XNAS (simulated)" in page.text
    assert "TradeGuard internal order book" not in page.text  # no longer every order internal


def test_routing_records_are_for_compliance_only(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person
) -> None:
    quote_aapl(app, clock)
    order = market_buy(client, alice)
    for path in (
        f"{ROUTING}/orders/{order['id']}",
        f"{ROUTING}/decisions",
        f"{ROUTING}/quality?year=2026&month=1",
    ):
        assert client.get(path, headers=alice.headers).status_code == 403


def test_a_venue_that_stops_answering_is_rerouted_around_and_its_order_ends_unfilled(
    client: TestClient, clock: FixedClock, app: FastAPI, alice: Person, officer: Person
) -> None:
    router = router_of(app)
    router.ack_timeout_seconds = 0.2
    venue = simulated_venue(app, "XNAS")
    venue.answering = False  # takes messages in, says nothing
    quote_aapl(app, clock)
    placed = place(client, alice, symbol="AAPL", type="market", limit_price=None, quantity=100)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    wait_until(lambda: "XNAS" in router.silent)
    assert client.get(f"/v1/orders/{order_id}", headers=alice.headers).json()["status"] == "open"
    refused = client.delete(f"/v1/orders/{order_id}", headers=alice.headers)
    assert reason_of(refused) == (409, "ORDER_AT_VENUE")
    desk = desk_of(app)
    desk.start()  # memory rebuilt from the database: the order stays at the venue
    with desk.lock:
        assert desk.exchange.book("AAPL").open_order(order_id) is None
    assert router.at_venue(order_id)
    quote_aapl(app, clock)  # the feed marks the reloaded instruments again
    rerouted = market_buy(client, alice, quantity=50)
    assert rerouted["average_price"] == "229.88"  # the next best venue, ARCX
    venue.answering = True  # the next cancel request is answered: it never had the order
    ended = settled(client, alice, order_id)
    assert (ended["status"], ended["filled_quantity"]) == ("cancelled", 0)
    decision = client.get(f"{ROUTING}/orders/{order_id}", headers=officer.headers).json()
    assert decision["venue_text"] == "the venue never received the order"
    assert router.reachable("XNAS")


def simulated_venue(app: FastAPI, code: str) -> SimulatedVenue:
    return router_of(app).simulated[code]


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
