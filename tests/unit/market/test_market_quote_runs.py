"""A provider's frames as runs of quotes, and the markets the NBBO names at each best price."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeguard.core.clock import FixedClock
from tradeguard.market.alpaca import AlpacaDecoder
from tradeguard.market.consolidation import QuoteBook, QuoteRules
from tradeguard.market.events import DropReason, LastSale, Nbbo, Quote, QuoteRun
from tradeguard.market.feed import MarketFeed
from tradeguard.market.quotes import quote_row
from tradeguard.risk.model import Instrument

NOW = 1_796_140_305_335_689_322
SECOND = 1_000_000_000
STAMP = "2026-12-01T15:51:45.335689322Z"
LATER = "2026-12-01T15:51:45.500000000Z"


def quote(**fields: Any) -> dict[str, Any]:
    return {"T": "q", "S": "AMD", "bx": "N", "bp": 87.66, "bs": 1, "ax": "Q", "ap": 87.68,
            "as": 4, "t": STAMP, "c": ["R"], "z": "C"} | fields  # fmt: skip


def frame(*messages: Any) -> str:
    return json.dumps(list(messages))


def warmed() -> AlpacaDecoder:
    """A decoder that has seen AMD and AAPL once (their first quotes take the long way)."""
    decoder = AlpacaDecoder("ALPACA", Counter())
    decoder.decode(
        frame(quote(t="2026-12-01T15:51:44Z"), quote(S="AAPL", t="2026-12-01T15:51:44Z"))
    )
    return decoder


def test_known_symbols_quotes_come_as_one_run_of_fields_with_the_exchanges_as_mics() -> None:
    decoder = warmed()
    [run] = decoder.decode(frame(quote(), quote(S="AAPL", bp=229.5, ap=229.51), quote(t=LATER)))
    assert isinstance(run, QuoteRun)
    assert run.quotes() == [
        Quote("ALPACA", "AMD", 876_600, 1, 876_800, 4, 3, NOW, "XNYS", "XNAS"),
        Quote("ALPACA", "AAPL", 2_295_000, 1, 2_295_100, 4, 4, NOW, "XNYS", "XNAS"),
        Quote("ALPACA", "AMD", 876_600, 1, 876_800, 4, 5, NOW + 164_310_678, "XNYS", "XNAS"),
    ]


def test_a_trade_between_quotes_splits_the_runs_and_keeps_the_order() -> None:
    decoder = warmed()
    trade = {"T": "t", "S": "AMD", "x": "N", "p": 87.67, "s": 100, "t": STAMP}
    events = decoder.decode(frame(quote(), trade, quote(t=LATER)))
    assert [type(event) for event in events] == [QuoteRun, LastSale, QuoteRun]


def test_a_price_beyond_any_float_or_an_exchange_code_that_is_not_text_is_never_a_crash() -> None:
    decoder = warmed()
    events = decoder.decode(frame(quote(bp=1e308), quote(S="AAPL", bx=["N"], ax={"a": 1})))
    assert decoder.drops == Counter({DropReason.MALFORMED: 1})
    [run] = events
    assert isinstance(run, QuoteRun)
    [kept] = run.quotes()
    assert (kept.symbol, kept.bid_market, kept.ask_market) == ("AAPL", "", "")


def book() -> QuoteBook:
    return QuoteBook({"ACME", "BETA"}, QuoteRules(crossed_tolerance_bps=5, max_age_ns=5 * SECOND))


def test_a_bad_last_quote_of_a_run_leaves_the_good_one_before_it_and_is_counted() -> None:
    quotes = book()
    good = ("ACME", 1_000_000, 100, 1_000_400, 100, 1, NOW, "", "")
    crossed = ("ACME", 1_002_000, 100, 1_000_000, 100, 2, NOW, "", "")
    quoted: set[str] = set()
    assert quotes.accept_run(QuoteRun("XNYS", [good, crossed]), NOW, quoted) == 1
    assert quoted == {"ACME"}
    assert quotes.drops == Counter({DropReason.CROSSED: 1})
    nbbo = quotes.nbbo("ACME", NOW)
    assert nbbo is not None
    assert (nbbo.bid, nbbo.ask) == (1_000_000, 1_000_400)


symbols = st.sampled_from(["ACME", "BETA", "NOPE"])
prices = st.integers(min_value=-5, max_value=40).map(lambda step: 1_000_000 + step * 100)
sizes = st.integers(min_value=0, max_value=3)
ages = st.integers(min_value=0, max_value=7).map(lambda seconds: NOW - seconds * SECOND)
fields = st.tuples(symbols, prices, sizes, prices, sizes, st.integers(0, 3), ages)


@settings(max_examples=200, deadline=None)
@given(st.lists(fields, max_size=40))
def test_a_run_leaves_the_book_as_its_quotes_one_at_a_time_would(
    drawn: list[tuple[str, int, int, int, int, int, int]],
) -> None:
    rows, sequence = [], 0
    for symbol, bid, bid_size, ask, ask_size, step, at_ns in drawn:
        sequence += step - 1  # 0 repeats the last number: out of sequence
        rows.append((symbol, bid, bid_size, ask, ask_size, sequence, at_ns, "", ""))
    one_by_one, as_run = book(), book()
    for row in rows:
        one_by_one.accept_quote(Quote("XNYS", *row), NOW)
    as_run.accept_run(QuoteRun("XNYS", rows), NOW, set())
    assert as_run.drops == one_by_one.drops
    for symbol in ("ACME", "BETA"):
        assert as_run.nbbo(symbol, NOW) == one_by_one.nbbo(symbol, NOW)


def test_the_feed_takes_a_providers_frame_into_the_book_and_counts_its_quotes() -> None:
    marked: list[Nbbo] = []

    class Sink:
        def mark(self, quotes: list[Nbbo]) -> None:
            marked.extend(quotes)

    decoder = warmed()
    quotes = QuoteBook({"AMD", "AAPL"}, QuoteRules(max_age_ns=5 * SECOND))
    feed = MarketFeed(quotes, Sink(), FixedClock(NOW))  # type: ignore[arg-type]
    assert feed.process(decoder.decode(frame(quote(), quote(bp=87.67, t=LATER)))) == 2
    [nbbo] = marked
    assert (nbbo.symbol, nbbo.bid, nbbo.bid_venue) == ("AMD", 876_700, "XNYS")


def test_the_nbbo_names_every_market_at_the_best_price_the_earliest_first() -> None:
    quotes = book()
    quotes.accept_quote(Quote("XNAS", "ACME", 1_000_100, 100, 1_000_500, 100, 1, NOW), NOW)
    quotes.accept_quote(Quote("XNYS", "ACME", 1_000_100, 300, 1_000_400, 100, 1, NOW - 5), NOW)
    quotes.accept_quote(Quote("ARCX", "ACME", 1_000_000, 100, 1_000_400, 100, 1, NOW + 5), NOW)
    nbbo = quotes.nbbo("ACME", NOW + 5)
    assert nbbo is not None
    assert (nbbo.bid_venue, nbbo.bid_venues) == ("XNYS", ("XNYS", "XNAS"))
    assert (nbbo.ask_venue, nbbo.ask_venues) == ("XNYS", ("XNYS", "ARCX"))


def test_a_providers_quote_names_the_exchanges_at_the_best_not_the_provider() -> None:
    quotes = book()
    quotes.accept_quote(
        Quote("ALPACA", "ACME", 1_000_100, 100, 1_000_500, 100, 1, NOW, "XNYS", "IEXG"), NOW
    )
    nbbo = quotes.nbbo("ACME", NOW)
    assert nbbo is not None
    row = quote_row(Instrument("ACME", tier=1, tick_size=100, lot_size=1), nbbo, NOW, 5 * SECOND)
    assert (row["bid_venue"], row["ask_venue"]) == ("XNYS", "IEXG")
    assert (row["bid_venues"], row["ask_venues"]) == (["XNYS"], ["IEXG"])
