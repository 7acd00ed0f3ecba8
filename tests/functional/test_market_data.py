"""Market data into the reference prices: a market order on a fresh installation trades.

The app runs the built-in simulator over the sample universe (as ``make run`` does);
the loaded reference prices are made stale by moving the clock, so only the feed can
make market orders acceptable again.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import audit_event_types, reason_of
from trading_flows import (
    add_instrument,
    client_over_sample,
    desk_of,
    funded_trader,
    place,
    runner_of,
)

from support import registry_of
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.core.money import Price
from tradeguard.market.events import Quote, VenueHalt
from tradeguard.market.feed import MarketFeed
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind

WAIT_SECONDS = 10


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(market_data="simulator", market_simulator_rate=3000, metrics_public=True)


@pytest.fixture
def client(app: FastAPI, clock: FixedClock) -> Iterator[TestClient]:
    with client_over_sample(app, clock) as test:
        yield test


def reference_of(app: FastAPI, symbol: str) -> tuple[int | None, int | None]:
    desk = desk_of(app)
    with desk.lock:
        instrument = desk.risk.instruments[symbol]
    return instrument.reference_price, instrument.reference_at_ns


def marked_now(app: FastAPI, clock: FixedClock, symbol: str) -> int:
    """Wait until the feed marked ``symbol`` at the clock's time; its reference price."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        price, stamp = reference_of(app, symbol)
        if price is not None and stamp == clock.now_ns():
            return price
        time.sleep(0.01)
    raise AssertionError(f"the feed did not mark {symbol}")


def traders(client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI) -> Any:
    alice = funded_trader(client, mailbox, clock, app, "alice")
    bob = funded_trader(client, mailbox, clock, app, "bob", kind=AccountKind.MARGIN)
    return alice, bob


def test_a_market_order_on_a_fresh_installation_fills_against_a_resting_order(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    alice, bob = traders(client, mailbox, clock, app)
    clock.advance(seconds=60)  # the loaded reference prices are a minute old now
    reference = marked_now(app, clock, "AAPL")
    alone = place(client, alice, symbol="AAPL", type="market", limit_price=None, quantity=3)
    assert alone.status_code == 201, alone.text  # accepted, not RISK_STALE_REFERENCE_PRICE
    assert alone.json()["status"] == "cancelled"  # nobody to trade with: an IOC ends unfilled
    ask = str(Price(reference))
    resting = place(client, bob, symbol="AAPL", side="sell_short", quantity=5, limit_price=ask)
    assert resting.status_code == 201, resting.text
    filled = place(client, alice, symbol="AAPL", type="market", limit_price=None, quantity=5)
    assert filled.status_code == 201, filled.text
    assert filled.json()["status"] == "filled"
    assert filled.json()["average_price"] == ask


def test_positions_and_the_account_are_marked_to_market(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    alice, bob = traders(client, mailbox, clock, app)
    clock.advance(seconds=60)
    reference = marked_now(app, clock, "MSFT")
    price = str(Price(reference))
    place(client, bob, symbol="MSFT", side="sell_short", quantity=10, limit_price=price)
    assert place(client, alice, symbol="MSFT", quantity=10, limit_price=price).status_code == 201
    runner_of(app).stop()  # the price stands still while the views are read
    mark, _ = reference_of(app, "MSFT")
    assert mark is not None
    [position] = client.get("/v1/positions", headers=alice.headers).json()
    value = Price(mark).notional(10).cents
    cost = Price(reference).notional(10).cents
    assert position["market_price"] == str(Price(mark))
    assert position["market_value"] == f"{value / 100:.2f}"
    assert position["unrealized_pnl"] == f"{(value - cost) / 100:.2f}"
    account = client.get("/v1/account", headers=alice.headers).json()
    assert account["market_value"] == position["market_value"]
    assert account["unrealized_pnl"] == position["unrealized_pnl"]
    cash = float(account["cash"])
    assert account["equity_at_market"] == f"{cash + value / 100:.2f}"


def test_a_feed_that_stops_makes_market_orders_fail_closed(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    alice, _ = traders(client, mailbox, clock, app)
    clock.advance(seconds=60)
    marked_now(app, clock, "AAPL")
    runner = runner_of(app)
    assert not runner.check()
    runner.stop()
    clock.advance(seconds=6)
    assert runner.check()  # the operations alert: no good quote within the age limit
    assert registry_of(app).market_data.check()
    refused = place(client, alice, symbol="AAPL", type="market", limit_price=None, quantity=1)
    assert reason_of(refused) == (422, "RISK_STALE_REFERENCE_PRICE")
    metrics = client.get("/metrics").text
    assert "tradeguard_market_feed_stalled 1.0" in metrics
    assert "tradeguard_market_events_accepted_total" in metrics


def test_a_venue_halt_on_the_feed_halts_the_symbol_and_is_audited(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    alice, _ = traders(client, mailbox, clock, app)
    runner = runner_of(app)
    runner.stop()
    now = clock.now_ns()
    feed = runner.feed
    assert feed.process([VenueHalt("XNYS", "AAPL", True, "news", 10**9, now)]) == 1  # noqa: FBT003
    refused = place(client, alice, symbol="AAPL", quantity=1, limit_price="229.87")
    assert reason_of(refused) == (422, "RISK_INSTRUMENT_HALTED")
    assert feed.process([VenueHalt("XNYS", "AAPL", False, "news", 10**9 + 1, now)]) == 1  # noqa: FBT003
    placed = place(client, alice, symbol="AAPL", quantity=1, limit_price="229.87")
    assert placed.status_code == 201, placed.text
    engine = registry_of(app).services.engine
    assert [kind for kind in audit_event_types(engine) if kind.startswith("market.")] == [
        "market.halt.started",
        "market.halt.ended",
    ]


def test_a_crossed_market_withdraws_the_reference_until_it_uncrosses(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    alice, _ = traders(client, mailbox, clock, app)
    runner = runner_of(app)
    runner.stop()
    clock.advance(seconds=60)
    now, feed = clock.now_ns(), runner.feed
    crossed = [
        Quote("TEST1", "AAPL", 2_300_000, 100, 2_300_200, 100, 10**9, now),
        Quote("TEST2", "AAPL", 2_300_500, 100, 2_300_700, 100, 10**9, now),
    ]
    assert feed.process(crossed) == 2
    refused = place(client, alice, symbol="AAPL", type="market", limit_price=None, quantity=1)
    assert reason_of(refused) == (422, "RISK_STALE_REFERENCE_PRICE")
    feed.process([Quote("TEST2", "AAPL", 2_300_000, 100, 2_300_200, 100, 10**9 + 1, now)])
    assert reference_of(app, "AAPL") == (2_300_100, now)
    accepted = place(client, alice, symbol="AAPL", type="market", limit_price=None, quantity=2)
    assert accepted.status_code == 201, accepted.text


def quote_every_second(feed: MarketFeed, clock: FixedClock, bid: int, seconds: int) -> None:
    """One venue quoting ACME at ``bid`` (offer two cents above), once a second."""
    for _ in range(seconds):
        clock.advance(seconds=1)
        feed.process(
            [Quote("TEST1", "ACME", bid, 100, bid + 200, 100, next(SEQUENCE), clock.now_ns())]
        )


SEQUENCE = itertools.count(1)


def test_a_symbol_held_at_its_band_pauses_five_minutes_announced_and_audited(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    alice, _ = traders(client, mailbox, clock, app)
    runner = runner_of(app)
    runner.stop()
    add_instrument(app, "ACME", "20.00")  # tier 1: band 5%, inside the collar's 10%
    feed = runner.feed
    feed.refresh_symbols()
    quote_every_second(feed, clock, 199_900, 200)  # minutes around $20.00: a steady mean
    outside = place(client, alice, symbol="ACME", quantity=1, limit_price="21.01")
    assert reason_of(outside) == (422, "RISK_PRICE_BAND")
    assert place(client, alice, symbol="ACME", quantity=1, limit_price="21.00").status_code == 201
    with client.websocket_connect("/v1/stream", headers=alice.headers) as websocket:
        assert websocket.receive_json()["type"] == "ready"
        quote_every_second(feed, clock, 210_000, 16)  # the best bid at the upper band, 15 s
        assert reason_of(place(client, alice, symbol="ACME", quantity=2, limit_price="20.50")) == (
            422,
            "RISK_INSTRUMENT_HALTED",
        )  # checked before reading the feed, which would wait for ever without a pause
        announced = websocket.receive_json()
    assert announced | {"seq": 0} == {
        "type": "market.halt",
        "symbol": "ACME",
        "venue": "LULD",
        "reason": "volatility",
        "seq": 0,
    }
    quote_every_second(feed, clock, 205_000, 300)  # five minutes later the quote reopens it
    resumed = place(client, alice, symbol="ACME", quantity=3, limit_price="20.50")
    assert resumed.status_code == 201, resumed.text
    engine = registry_of(app).services.engine
    assert [kind for kind in audit_event_types(engine) if kind.startswith("market.")] == [
        "market.halt.started",
        "market.halt.ended",
    ]
