"""Volatility bands bound market orders, and a volatility pause survives a restart.

A market order trades as an IOC limit at the collar's edge; inside a narrower LULD band
its limit is the band's edge, so it never fills outside the band. A pause lives in the
desk's memory, recorded in the trail: a reload of that memory keeps it, and a new
process (a second application over the same database) reads it back from the trail and
resumes the symbol only when its five minutes are over.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import audit_event_types, reason_of
from trading_flows import add_instrument, client_over_sample, desk_of, funded_trader, place

from support import registry_of
from tradeguard.app import create_app
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.market.events import Quote
from tradeguard.market.feed import MarketFeed
from tradeguard.notify.notifier import MemorySender, Notifier
from tradeguard.risk.model import AccountKind

SEQUENCE = itertools.count(1)


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(market_data="simulator", market_simulator_rate=10)


@pytest.fixture
def client(app: FastAPI, clock: FixedClock) -> Iterator[TestClient]:
    with client_over_sample(app, clock) as test:
        yield test


def quiet_feed(app: FastAPI) -> MarketFeed:
    """The app's feed with its simulator stopped: the test is the only source."""
    runner = registry_of(app).market_data.runner
    assert runner is not None
    runner.stop()
    runner.feed.refresh_symbols()
    return runner.feed


def quote_every_second(feed: MarketFeed, clock: FixedClock, bid: int, seconds: int) -> None:
    """One venue quoting ACME at ``bid`` (offer two cents above), once a second."""
    for _ in range(seconds):
        clock.advance(seconds=1)
        feed.process(
            [Quote("TEST1", "ACME", bid, 100, bid + 200, 100, next(SEQUENCE), clock.now_ns())]
        )


def halted(app: FastAPI, symbol: str) -> bool:
    desk = desk_of(app)
    with desk.lock:
        return desk.risk.instruments[symbol].halted


def traders(client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI) -> Any:
    alice = funded_trader(client, mailbox, clock, app, "alice")
    bob = funded_trader(client, mailbox, clock, app, "bob", kind=AccountKind.MARGIN)
    return alice, bob


def accepted(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_market_buy_never_fills_above_the_band_inside_a_wider_collar(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    alice, bob = traders(client, mailbox, clock, app)
    add_instrument(app, "ACME", "20.00")  # collar 10% ($18.00-$22.00), tier-1 band 5%
    feed = quiet_feed(app)
    accepted(place(client, bob, symbol="ACME", side="sell_short", quantity=5, limit_price="21.50"))
    quote_every_second(feed, clock, 199_900, 60)  # now the band: $19.00 to $21.00
    bought = accepted(
        place(client, alice, symbol="ACME", type="market", limit_price=None, quantity=5)
    )
    assert bought["status"] == "cancelled"  # the offer at $21.50 is outside the band
    assert bought["filled_quantity"] == 0
    accepted(place(client, bob, symbol="ACME", side="sell_short", quantity=5, limit_price="21.00"))
    filled = accepted(
        place(client, alice, symbol="ACME", type="market", limit_price=None, quantity=4)
    )
    assert filled["status"] == "filled"
    assert filled["average_price"] == "21.00"  # at the band's edge, never $21.50


def test_a_market_sell_never_fills_below_the_band(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    alice, bob = traders(client, mailbox, clock, app)
    add_instrument(app, "ACME", "20.00")
    feed = quiet_feed(app)
    accepted(place(client, alice, symbol="ACME", side="buy", quantity=5, limit_price="18.50"))
    quote_every_second(feed, clock, 199_900, 60)
    accepted(place(client, alice, symbol="ACME", side="buy", quantity=5, limit_price="19.00"))
    sold = accepted(
        place(client, bob, symbol="ACME", side="sell_short", type="market", limit_price=None,
              quantity=10)
    )  # fmt: skip
    assert sold["filled_quantity"] == 5  # the bid at $19.00; the one at $18.50 is outside
    assert sold["average_price"] == "19.00"
    assert sold["status"] == "cancelled"


def pause_acme(clock: FixedClock, app: FastAPI) -> MarketFeed:
    add_instrument(app, "ACME", "20.00")
    feed = quiet_feed(app)
    quote_every_second(feed, clock, 199_900, 200)
    quote_every_second(feed, clock, 210_000, 16)  # 15 s at the upper band: paused
    assert halted(app, "ACME")
    return feed


def second_process(
    settings: Settings, clean_database: Any, clock: FixedClock, mailbox: MemorySender
) -> FastAPI:
    """Another application over the same database: a restart of the desk's process."""
    return create_app(
        settings, clock=clock, engine=clean_database.engine, notifier=Notifier(mailbox, mailbox)
    )


def test_a_pause_survives_the_desk_reloading_its_memory(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    alice, _ = traders(client, mailbox, clock, app)
    feed = pause_acme(clock, app)
    desk_of(app).start()  # what the desk does after a failed batch
    refused = place(client, alice, symbol="ACME", quantity=1, limit_price="20.50")
    assert reason_of(refused) == (422, "RISK_INSTRUMENT_HALTED")
    quote_every_second(feed, clock, 205_000, 300)
    assert not halted(app, "ACME")


@pytest.mark.usefixtures("client")
def test_a_pause_survives_a_restart_and_ends_after_its_five_minutes(
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    settings: Settings,
    clean_database: Any,
) -> None:
    pause_acme(clock, app)
    clock.advance(seconds=60)
    restarted = second_process(settings, clean_database, clock, mailbox)
    assert halted(restarted, "ACME")  # read back from the trail
    feed = quiet_feed(restarted)
    quote_every_second(feed, clock, 205_000, 220)  # 4 min 40 s since the pause began
    assert halted(restarted, "ACME")
    quote_every_second(feed, clock, 205_000, 30)
    assert not halted(restarted, "ACME")
    engine = registry_of(restarted).services.engine
    assert [kind for kind in audit_event_types(engine) if kind.startswith("market.")] == [
        "market.halt.started",
        "market.halt.ended",
    ]
