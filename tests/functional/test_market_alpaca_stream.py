"""The provider's stream (Alpaca market data v2) against a stand-in speaking its protocol.

The stand-in runs on loopback in the test; the stream authenticates, subscribes to the
desk's symbols, turns quotes into reference prices, reconnects with back-off when the
connection drops, and never gets past refused credentials. An application configured
with ``TRADEGUARD_MARKET_DATA=alpaca`` prices market orders from it, and fails closed
when it goes quiet or sends delayed quotes.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import reason_of
from sqlalchemy import select
from trading_flows import client_over_sample, desk_of, funded_trader, place

from alpaca_standin import KEY_ID, SECRET, AlpacaStandIn, quote, running_standin, wait_until
from support import registry_of
from tradeguard.cases.models import AlertRow
from tradeguard.config import Settings
from tradeguard.core.clock import NS_PER_SECOND, FixedClock, ns_to_rfc3339
from tradeguard.market import stream as stream_module
from tradeguard.market.events import DropReason, MarketEvent, Quote
from tradeguard.market.stream import ProviderStream, StreamAccess
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind

STAMP = "2026-12-01T15:51:45.5Z"


class Collected:
    """A stream read on a thread of its own into a list, until stopped."""

    def __init__(self, stream: ProviderStream) -> None:
        self.events: list[MarketEvent] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.stream = stream
        self.thread.start()

    def _run(self) -> None:
        for batch in self.stream.batches(self.stop):
            self.events.extend(batch)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)


@pytest.fixture
def standin() -> Iterator[AlpacaStandIn]:
    with running_standin() as server:
        yield server


def reading(
    standin: AlpacaStandIn, symbols: Callable[[], list[str]], secret: str = SECRET
) -> Collected:
    access = StreamAccess(standin.url, KEY_ID, secret)
    return Collected(ProviderStream(access, symbols, Counter(), venue="ALPACA", max_backoff=0.2))


def test_the_stream_authenticates_subscribes_and_delivers_quotes(standin: AlpacaStandIn) -> None:
    collected = reading(standin, lambda: ["MSFT", "AAPL"])
    try:
        wait_until(lambda: standin.subscribed() == 1)
        standin.publish(quote("AAPL", 229.85, 229.87, STAMP))
        wait_until(lambda: len(collected.events) == 1)
    finally:
        collected.close()
    [event] = collected.events
    assert isinstance(event, Quote)
    assert (event.symbol, event.bid, event.ask, event.venue) == (
        "AAPL",
        2_298_500,
        2_298_700,
        "ALPACA",
    )
    auth, subscribe = standin.received
    assert auth == {"action": "auth", "key": "PKTEST", "secret": "test-secret"}
    assert subscribe["quotes"] == subscribe["trades"] == subscribe["statuses"] == ["AAPL", "MSFT"]


def test_refused_credentials_never_subscribe_and_are_retried_at_the_longest_wait(
    standin: AlpacaStandIn,
) -> None:
    collected = reading(standin, lambda: ["AAPL"], secret="wrong")
    try:
        wait_until(lambda: standin.refused >= 2)
        standin.publish(quote("AAPL", 229.85, 229.87, STAMP))
    finally:
        collected.close()
    assert collected.events == []
    assert collected.stream.connections == 0
    assert all(message.get("action") == "auth" for message in standin.received)


def test_a_dropped_connection_is_made_again_and_subscribes_again(standin: AlpacaStandIn) -> None:
    collected = reading(standin, lambda: ["AAPL"])
    try:
        wait_until(lambda: standin.subscribed() == 1)
        standin.drop_all()
        wait_until(lambda: collected.stream.connections == 2 and standin.subscribed() == 1)
        standin.publish(quote("AAPL", 229.85, 229.87, STAMP))
        wait_until(lambda: len(collected.events) == 1)
    finally:
        collected.close()
    subscriptions = [message for message in standin.received if message["action"] == "subscribe"]
    assert len(subscriptions) == 2


def test_symbols_listed_later_are_subscribed_to_on_the_open_connection(
    standin: AlpacaStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_module, "SYMBOLS_EVERY_SECONDS", 0.05)
    monkeypatch.setattr(stream_module, "READ_SECONDS", 0.05)
    listed = ["AAPL"]
    collected = reading(standin, lambda: list(listed))
    try:
        wait_until(lambda: standin.subscribed() == 1)
        listed.append("ACME")
        wait_until(lambda: len(standin.received) == 3)
    finally:
        collected.close()
    assert standin.received[2]["quotes"] == ["ACME"]
    assert collected.stream.connections == 1


# -- an application on the stream --------------------------------------------------------


@pytest.fixture
def settings(settings_for: Callable[..., Settings], standin: AlpacaStandIn) -> Settings:
    return settings_for(
        market_data="alpaca",
        market_alpaca_url=standin.url,
        market_alpaca_key_id="PKTEST",
        market_alpaca_secret_key="test-secret",
        market_stream_max_backoff_seconds=0.2,
    )


@pytest.fixture
def client(app: FastAPI, clock: FixedClock) -> Iterator[TestClient]:
    with client_over_sample(app, clock) as test:
        yield test


def reference(app: FastAPI, symbol: str) -> tuple[int | None, int | None]:
    desk = desk_of(app)
    with desk.lock:
        instrument = desk.risk.instruments[symbol]
    return instrument.reference_price, instrument.reference_at_ns


def quoted_now(
    standin: AlpacaStandIn, clock: FixedClock, bid: float, ask: float, **extra: Any
) -> None:
    standin.publish(quote("AAPL", bid, ask, ns_to_rfc3339(clock.now_ns()), **extra))


def test_market_orders_are_priced_from_the_stream_and_fail_closed_when_it_stops(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    standin: AlpacaStandIn,
) -> None:
    alice = funded_trader(client, mailbox, clock, app, "alice")
    bob = funded_trader(client, mailbox, clock, app, "bob", kind=AccountKind.MARGIN)
    clock.advance(seconds=60)  # the loaded reference prices are stale now
    wait_until(lambda: standin.subscribed() == 1)
    quoted_now(standin, clock, 230.00, 230.02)
    wait_until(lambda: reference(app, "AAPL") == (2_300_100, clock.now_ns()))
    resting = place(client, bob, symbol="AAPL", side="sell_short", quantity=5, limit_price="230.01")
    assert resting.status_code == 201, resting.text
    bought = place(client, alice, symbol="AAPL", type="market", limit_price=None, quantity=5)
    assert bought.status_code == 201, bought.text
    assert bought.json()["status"] == "filled"
    runner = registry_of(app).market_data.runner
    assert runner is not None
    before = reference(app, "MSFT")
    delayed = clock.now_ns() - 15 * 60 * NS_PER_SECOND  # a 15-minute delayed quote
    standin.publish(quote("MSFT", 431.00, 431.02, ns_to_rfc3339(delayed)))
    wait_until(lambda: runner.feed.book.drops[DropReason.STALE] == 1)
    assert reference(app, "MSFT") == before  # never used
    standin.drop_all()
    clock.advance(seconds=6)
    assert registry_of(app).market_data.check()  # the stalled alert
    with registry_of(app).services.sessions() as db:
        alerts = db.scalars(select(AlertRow.typology)).all()
    assert alerts == ["market.feed.stalled"]  # in the one alert store, once
    assert registry_of(app).market_data.check()
    refused = place(client, alice, symbol="AAPL", type="market", limit_price=None, quantity=1)
    assert reason_of(refused) == (422, "RISK_STALE_REFERENCE_PRICE")
    wait_until(lambda: standin.subscribed() == 1)  # reconnected
    quoted_now(standin, clock, 230.00, 230.04)
    wait_until(lambda: reference(app, "AAPL") == (2_300_200, clock.now_ns()))
    assert not registry_of(app).market_data.check()
    again = place(client, alice, symbol="AAPL", type="market", limit_price=None, quantity=2)
    assert again.status_code == 201, again.text
