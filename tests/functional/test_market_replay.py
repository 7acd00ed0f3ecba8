"""A recorded file replayed into the reference prices (``TRADEGUARD_MARKET_DATA=replay``)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from trading_flows import client_over_sample, desk_of

from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock


def quote(symbol: str, bid: str, ask: str, sequence: int) -> str:
    fields = {"bid": bid, "bid_size": 100, "ask": ask, "ask_size": 100, "sequence": sequence}
    return json.dumps({"type": "quote", "venue": "XNAS", "symbol": symbol, **fields})


LINES = [
    quote("AAPL", "230.00", "230.02", 1),
    "this line is not an event",
    quote("AAPL", "231.00", "230.00", 2),  # crossed
    quote("NOPE", "1.00", "1.01", 3),  # not listed
]


@pytest.fixture
def settings(settings_for: Callable[..., Settings], tmp_path: Path) -> Settings:
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return settings_for(market_data="replay", market_replay_file=recorded, metrics_public=True)


@pytest.fixture
def client(app: FastAPI, clock: FixedClock) -> Iterator[TestClient]:
    with client_over_sample(app, clock) as test:
        yield test


def test_a_replayed_file_marks_reference_prices_and_counts_what_it_dropped(
    client: TestClient, app: FastAPI
) -> None:
    desk = desk_of(app)
    deadline = time.monotonic() + 10
    while (
        time.monotonic() < deadline and desk.risk.instruments["AAPL"].reference_price != 2_300_100
    ):
        time.sleep(0.01)
    assert desk.risk.instruments["AAPL"].reference_price == 2_300_100  # the midpoint of line 1
    metrics = client.get("/metrics").text
    for reason in ("malformed", "crossed", "unknown_symbol"):
        assert f'tradeguard_market_events_dropped_total{{reason="{reason}"}} 1.0' in metrics
    assert "tradeguard_market_events_accepted_total 1.0" in metrics
