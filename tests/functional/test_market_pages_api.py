"""Quotes through the API, and the public Rule 606(a)(1) page rendered from its XML."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import reason_of
from trading_flows import add_instrument, client_over_sample, funded_trader, place

from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock, ns_to_datetime
from tradeguard.core.errors import ProblemError
from tradeguard.market.feed import MarketData, remote_quotes
from tradeguard.market.rule606_page import published_quarters
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind

QUOTES = "/v1/market/quotes"
PAGE = "/disclosures/order-routing"
DAY_SECONDS = 86_400


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    return settings_for(market_data="simulator", market_simulator_rate=3000)


@pytest.fixture
def client(app: FastAPI, clock: FixedClock) -> Iterator[TestClient]:
    with client_over_sample(app, clock) as test:
        yield test


def quoted(client: TestClient, headers: dict[str, str], symbols: str) -> list[dict[str, Any]]:
    """The quotes of ``symbols`` once the simulator has quoted each of them."""
    for _ in range(500):
        answer = client.get(QUOTES, params={"symbols": symbols}, headers=headers)
        assert answer.status_code == 200, answer.text
        rows: list[dict[str, Any]] = answer.json()
        if all(row["fresh"] for row in rows):
            return rows
        time.sleep(0.02)
    raise AssertionError("no fresh quotes")


def test_a_trader_reads_the_nbbo_reference_and_band_of_the_symbols_asked_for(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    alice = funded_trader(client, mailbox, clock, app, "alice")
    aapl, msft = quoted(client, alice.headers, "AAPL,MSFT")
    assert (aapl["symbol"], msft["symbol"]) == ("AAPL", "MSFT")
    assert aapl["bid_venue"] in {"XNYS", "XNAS", "ARCX"}
    assert float(aapl["bid"]) < float(aapl["ask"])
    assert aapl["band_low"] is not None
    assert float(aapl["band_low"]) < float(aapl["reference_price"]) < float(aapl["band_high"])
    assert aapl["halted"] is False
    every = client.get(QUOTES, headers=alice.headers).json()
    assert [row["symbol"] for row in every] == sorted(row["symbol"] for row in every)


@pytest.mark.parametrize(
    ("symbols", "expected"),
    [
        ("AAPL,NOPE", (404, "MARKET_UNKNOWN_SYMBOL")),
        ("aapl", (422, "VALIDATION_FAILED")),
        ("AAPL,,MSFT", (422, "VALIDATION_FAILED")),
        (",".join(["AAPL"] * 201), (422, "VALIDATION_FAILED")),
        ("AAPL<script>", (422, "VALIDATION_FAILED")),
    ],
)
def test_bad_symbols_are_refused_with_a_reason(
    client: TestClient, trader: Any, symbols: str, expected: tuple[int, str]
) -> None:
    alice = trader
    assert reason_of(client.get(QUOTES, params={"symbols": symbols}, headers=alice.headers)) == (
        expected
    )


def test_quotes_need_a_signed_in_caller(client: TestClient) -> None:
    assert client.get(QUOTES).status_code == 401


def test_without_a_feed_quotes_are_unavailable_and_a_lost_desk_process_too() -> None:
    with pytest.raises(ProblemError) as off:
        MarketData(None).quotes(None)
    assert (off.value.status, off.value.reason_code) == (409, "MARKET_DATA_OFF")

    class Gone:
        def call(self, method: str, *args: Any, **kwargs: Any) -> Any:  # noqa: ARG002 - a channel's
            raise ConnectionError(method)

    with pytest.raises(ProblemError) as lost:
        MarketData(None, remote_quotes(Gone())).quotes(["AAPL"])
    assert lost.value.status == 503

    class Answering:
        def call(self, method: str, *args: Any, **kwargs: Any) -> Any:  # noqa: ARG002 - a channel's
            assert method == "market.quotes"
            return [{"symbol": args[0][0]}]

    assert MarketData(None, remote_quotes(Answering())).quotes(["AAPL"]) == [{"symbol": "AAPL"}]


@pytest.fixture
def trader(client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI) -> Any:
    return funded_trader(client, mailbox, clock, app, "alice")


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_quarterly_report_is_a_public_page_once_the_quarter_has_ended(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    alice = funded_trader(client, mailbox, clock, app, "alice")
    bob = funded_trader(client, mailbox, clock, app, "bob", kind=AccountKind.MARGIN)
    add_instrument(app, "ACME", "100.00", tier=2)
    place(client, alice, symbol="ACME", quantity=5, limit_price="100.00")
    place(client, bob, symbol="ACME", side="sell_short", quantity=5, limit_price="99.00")
    placed = ns_to_datetime(clock.now_ns())
    quarter = (placed.month - 1) // 3 + 1
    early = client.get(PAGE, params={"year": placed.year, "quarter": quarter})
    assert early.status_code == 404  # the quarter has not ended
    clock.advance(seconds=100 * DAY_SECONDS)
    assert published_quarters(clock.now_ns())[0].number == quarter
    page = client.get(PAGE)  # no sign-in: the report is public
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert "Content-Security-Policy" in page.headers
    shown = text_of(page.text)
    assert f"Q{quarter} {placed.year}" in shown
    assert "TradeGuard Securities" in shown
    assert "Other stocks" in shown  # tier 2
    assert "TradeGuard internal order book" in shown
    assert "100.00" in shown  # every order went to the one venue
    assert "50.00" in shown  # one marketable and one non-marketable limit order


@pytest.mark.parametrize(
    "query",
    [{"year": "1999", "quarter": "1"}, {"year": "2026", "quarter": "5"}, {"quarter": "x"}],
)
def test_a_quarter_out_of_range_is_refused(client: TestClient, query: dict[str, str]) -> None:
    assert reason_of(client.get(PAGE, params=query))[0] == 422


def test_a_quarter_given_half_is_not_a_published_one(client: TestClient) -> None:
    assert client.get(PAGE, params={"year": "2025"}).status_code == 404
