"""Alpaca's stream messages as feed events: what is kept, what is dropped and counted."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from support import make_settings
from tradeguard.core.errors import ConfigurationError
from tradeguard.market.alpaca import (
    AlpacaDecoder,
    StreamProtocolError,
    control,
    subscribe_message,
)
from tradeguard.market.events import DropReason, LastSale, Quote, VenueHalt
from tradeguard.market.stream import StreamAccess, alpaca_stream
from tradeguard.production import market_data_problems

STAMP = "2026-12-01T15:51:45.335689322Z"
STAMP_NS = 1_796_140_305_335_689_322


def decoder() -> AlpacaDecoder:
    return AlpacaDecoder("ALPACA", Counter())


def frame(*messages: Any) -> str:
    return json.dumps(list(messages))


def quote(**fields: Any) -> dict[str, Any]:
    return {"T": "q", "S": "AMD", "bx": "U", "bp": 87.66, "bs": 1, "ax": "Q", "ap": 87.68,
            "as": 4, "t": STAMP, "c": ["R"], "z": "C"} | fields  # fmt: skip


def test_a_quote_becomes_a_venue_quote_in_price_units_at_the_providers_time() -> None:
    [event] = decoder().decode(frame(quote()))
    assert event == Quote("ALPACA", "AMD", 876_600, 1, 876_800, 4, 1, STAMP_NS, "MEMX", "XNAS")


def test_a_sub_penny_price_keeps_its_four_places_and_a_finer_one_is_malformed() -> None:
    decoding = decoder()
    [event] = decoding.decode(frame(quote(bp=0.1234, ap=0.1236)))
    assert isinstance(event, Quote)
    assert (event.bid, event.ask) == (1_234, 1_236)
    assert decoding.decode(frame(quote(bp=87.123456))) == []
    assert decoding.drops == Counter({DropReason.MALFORMED: 1})


def test_whole_dollar_prices_and_times_with_an_offset_are_read_exactly() -> None:
    [event] = decoder().decode(frame(quote(bp=87, ap=88, t="2026-12-01T10:51:45.5-05:00")))
    assert isinstance(event, Quote)
    assert (event.bid, event.ask, event.at_ns) == (870_000, 880_000, 1_796_140_305_500_000_000)
    [whole] = decoder().decode(frame(quote(t="2026-12-01T15:51:45Z")))
    assert whole.at_ns == 1_796_140_305_000_000_000


def test_trades_and_statuses_become_last_sales_halts_and_resumptions() -> None:
    trade = {"T": "t", "i": 96921, "S": "AAPL", "x": "D", "p": 126.55, "s": 100, "t": STAMP}
    halt = {"T": "s", "S": "AAPL", "sc": "H", "sm": "Trading Halt", "rc": "T12", "t": STAMP}
    resume = {"T": "s", "S": "AAPL", "sc": "T", "sm": "Trading Resumption", "t": STAMP}
    other = {"T": "s", "S": "AAPL", "sc": "7", "sm": "Market Imbalance Buy", "t": STAMP}
    events = decoder().decode(frame(trade, halt, other, resume))
    assert events == [
        LastSale("ALPACA", "AAPL", 1_265_500, 100, 1, STAMP_NS),
        VenueHalt("ALPACA", "AAPL", True, "T12", 2, STAMP_NS),  # noqa: FBT003
        VenueHalt("ALPACA", "AAPL", False, "Trading Resumption", 3, STAMP_NS),  # noqa: FBT003
    ]


def test_every_kept_event_is_numbered_in_one_rising_sequence() -> None:
    decoding = decoder()
    first = decoding.decode(frame(quote(), quote(S="AAPL")))
    second = decoding.decode(frame(quote(t="2026-12-01T15:51:46Z")))
    assert [event.sequence for event in first + second] == [1, 2, 3]


def test_a_quote_older_than_the_symbols_last_is_dropped_as_out_of_sequence() -> None:
    decoding = decoder()
    decoding.decode(frame(quote(t="2026-12-01T15:51:46Z")))
    assert decoding.decode(frame(quote(t="2026-12-01T15:51:45Z"))) == []
    assert decoding.drops == Counter({DropReason.OUT_OF_SEQUENCE: 1})
    assert len(decoding.decode(frame(quote(S="AAPL", t="2026-12-01T15:51:45Z")))) == 1


@pytest.mark.parametrize(
    "bad",
    [
        quote(bp="87.66"),  # a price as a string
        quote(bs=1.5),  # a fractional size
        quote(bp=10**12),  # beyond any share price
        quote(ap=None),
        quote(bs=True),
        quote(t="yesterday"),
        quote(t=None),
        quote(S=""),
        quote(S="A" * 17),
        quote(S="A\u0000B"),
        {"T": "s", "S": "AAPL", "sc": "H", "rc": "\u0007", "t": STAMP},
        "not an object",
    ],
)
def test_a_malformed_message_is_dropped_and_counted_the_rest_of_the_frame_kept(
    bad: Any,
) -> None:
    decoding = decoder()
    events = decoding.decode(frame(bad, quote(S="MSFT")))
    assert [event.symbol for event in events] == ["MSFT"]
    assert decoding.drops == Counter({DropReason.MALFORMED: 1})


@pytest.mark.parametrize("raw", ["{", '{"T": "q"}', "[1", b"\xff"])
def test_a_frame_that_is_not_a_json_array_counts_once_as_malformed(raw: str | bytes) -> None:
    decoding = decoder()
    assert decoding.decode(raw) == []
    assert decoding.drops == Counter({DropReason.MALFORMED: 1})


def test_control_messages_and_bars_are_not_events() -> None:
    subscription = {"T": "subscription", "quotes": ["AMD"]}
    bar = {"T": "b", "S": "AMD", "o": 1, "t": STAMP}
    assert decoder().decode(frame(subscription, bar)) == []


def test_an_error_control_message_raises_with_its_code() -> None:
    with pytest.raises(StreamProtocolError) as refused:
        control(frame({"T": "error", "code": 402, "msg": "auth failed"}))
    assert refused.value.code == 402
    assert control(frame({"T": "success", "msg": "authenticated"}))["msg"] == "authenticated"
    with pytest.raises(StreamProtocolError):
        control(frame({"T": "success"}, {"T": "success"}))


def test_the_subscription_asks_for_quotes_trades_and_statuses_of_every_symbol() -> None:
    asked = json.loads(subscribe_message({"MSFT", "AAPL"}))
    assert asked == {
        "action": "subscribe",
        "quotes": ["AAPL", "MSFT"],
        "trades": ["AAPL", "MSFT"],
        "statuses": ["AAPL", "MSFT"],
    }


def test_the_stream_is_not_built_without_its_credentials(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, market_data="alpaca", market_alpaca_key_id="PK")
    with pytest.raises(ConfigurationError, match="MARKET_ALPACA_SECRET_KEY"):
        alpaca_stream(settings, list, Counter())


def test_production_refuses_a_stream_without_tls(tmp_path: Path) -> None:
    plain = make_settings(tmp_path, market_data="alpaca", market_alpaca_url="ws://feed.example/v2")
    assert market_data_problems(plain) == [
        "TRADEGUARD_MARKET_ALPACA_URL must be a wss:// address in production"
    ]
    secure = make_settings(tmp_path, market_data="alpaca")
    assert market_data_problems(secure) == []


def test_an_error_in_the_data_is_logged_not_an_event() -> None:
    with capture_logs() as logged:
        events = decoder().decode(frame({"T": "error", "code": 407, "msg": "slow client"}))
    assert events == []
    assert [(line["event"], line["code"]) for line in logged] == [("market.stream.error", 407)]


def test_the_streams_secret_never_shows_in_its_representation() -> None:
    access = StreamAccess("wss://stream.example/v2/sip", "PKTEST", "do-not-show")
    assert "do-not-show" not in repr(access)
