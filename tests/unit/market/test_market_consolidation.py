"""The consolidated quote: the NBBO across venues and the bad quotes it drops and counts."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeguard.market.consolidation import QuoteBook, QuoteRules
from tradeguard.market.events import DropReason, LastSale, Quote, VenueHalt
from tradeguard.market.reference import reference_of

NOW = 1_700_000_000_000_000_000
SECOND = 1_000_000_000


def quote(venue: str, bid: int, ask: int, sequence: int, at_ns: int = NOW) -> Quote:
    return Quote(venue, "ACME", bid, 100, ask, 200, sequence, at_ns)


@pytest.fixture
def book() -> QuoteBook:
    return QuoteBook({"ACME", "BETA"}, QuoteRules(crossed_tolerance_bps=0, max_age_ns=5 * SECOND))


def test_nbbo_is_the_best_bid_and_the_best_offer_across_venues(book: QuoteBook) -> None:
    assert book.accept_quote(quote("XNYS", 1_000_000, 1_000_400, 1), NOW)
    assert book.accept_quote(quote("XNAS", 1_000_100, 1_000_500, 1), NOW)
    nbbo = book.nbbo("ACME", NOW)
    assert nbbo is not None
    assert (nbbo.bid, nbbo.bid_venue) == (1_000_100, "XNAS")
    assert (nbbo.ask, nbbo.ask_venue) == (1_000_400, "XNYS")
    assert not nbbo.crossed
    assert reference_of(nbbo, 100) == 1_000_200


def test_a_venue_quote_replaces_its_own_previous_quote(book: QuoteBook) -> None:
    book.accept_quote(quote("XNYS", 1_000_000, 1_000_400, 1), NOW)
    book.accept_quote(quote("XNYS", 990_000, 990_400, 2), NOW)
    nbbo = book.nbbo("ACME", NOW)
    assert nbbo is not None
    assert (nbbo.bid, nbbo.ask) == (990_000, 990_400)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"bid": -100}, DropReason.NOT_POSITIVE),
        ({"ask": 0}, DropReason.NOT_POSITIVE),
        ({"bid_size": 0}, DropReason.NOT_POSITIVE),
        ({"bid": 1_000_500, "ask": 1_000_000}, DropReason.CROSSED),
        ({"sequence": 1}, DropReason.OUT_OF_SEQUENCE),
        ({"at_ns": NOW - 6 * SECOND}, DropReason.STALE),
        ({"symbol": "NOPE"}, DropReason.UNKNOWN_SYMBOL),
    ],
)
def test_a_bad_quote_is_dropped_counted_and_never_used(
    book: QuoteBook, bad: dict[str, int | str], reason: DropReason
) -> None:
    assert book.accept_quote(quote("XNYS", 1_000_000, 1_000_400, 1), NOW)
    good = book.nbbo("ACME", NOW)
    bad_quote = replace(quote("XNYS", 1_000_000, 1_000_400, 2), **bad)  # type: ignore[arg-type]
    assert not book.accept_quote(bad_quote, NOW)
    assert book.drops == {reason: 1}
    assert book.nbbo("ACME", NOW) == good


def test_a_venue_quote_crossed_within_the_tolerance_is_kept() -> None:
    book = QuoteBook({"ACME"}, QuoteRules(crossed_tolerance_bps=10, max_age_ns=5 * SECOND))
    assert book.accept_quote(quote("XNYS", 1_000_500, 1_000_000, 1), NOW)
    nbbo = book.nbbo("ACME", NOW)
    assert nbbo is not None
    assert nbbo.crossed
    assert reference_of(nbbo, 100) is None  # a crossed market gives no reference price
    assert not book.accept_quote(quote("XNYS", 1_001_100, 1_000_000, 2), NOW)
    assert book.drops == {DropReason.CROSSED: 1}


def test_venues_crossing_each_other_make_a_crossed_nbbo(book: QuoteBook) -> None:
    book.accept_quote(quote("XNYS", 1_000_000, 1_000_400, 1), NOW)
    book.accept_quote(quote("XNAS", 1_000_600, 1_000_900, 1), NOW)
    nbbo = book.nbbo("ACME", NOW)
    assert nbbo is not None
    assert nbbo.crossed


def test_a_silent_venue_leaves_the_nbbo_once_its_quote_is_too_old(book: QuoteBook) -> None:
    book.accept_quote(quote("XNYS", 1_000_300, 1_000_400, 1), NOW)
    later = NOW + 6 * SECOND
    assert book.accept_quote(quote("XNAS", 1_000_000, 1_000_800, 1, at_ns=later), later)
    nbbo = book.nbbo("ACME", later)
    assert nbbo is not None
    assert (nbbo.bid_venue, nbbo.ask_venue) == ("XNAS", "XNAS")
    assert book.nbbo("ACME", later + 6 * SECOND) is None


def test_last_sales_outside_the_nbbo_or_out_of_sequence_are_dropped(book: QuoteBook) -> None:
    book.accept_quote(quote("XNYS", 1_000_000, 1_000_400, 1), NOW)
    assert book.accept_sale(LastSale("XNYS", "ACME", 1_000_200, 100, 2, NOW), NOW)
    assert not book.accept_sale(LastSale("XNYS", "ACME", 1_100_000, 100, 3, NOW), NOW)
    assert not book.accept_sale(LastSale("XNYS", "ACME", 1_000_200, 100, 2, NOW), NOW)
    assert not book.accept_sale(LastSale("XNYS", "ACME", 1_000_200, 0, 4, NOW), NOW)
    assert book.drops == {
        DropReason.OUTSIDE_NBBO: 1,
        DropReason.OUT_OF_SEQUENCE: 1,
        DropReason.NOT_POSITIVE: 1,
    }


def test_a_replayed_halt_is_dropped(book: QuoteBook) -> None:
    halt = VenueHalt("XNYS", "ACME", True, "news", 5, NOW)  # noqa: FBT003 - halted
    assert book.accept_halt(halt, NOW)
    assert not book.accept_halt(halt, NOW)
    assert book.drops == {DropReason.OUT_OF_SEQUENCE: 1}


prices = st.integers(min_value=1, max_value=10_000_000)


@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), prices, prices), min_size=1))
def test_the_nbbo_is_never_worse_than_any_venue_quote_kept(
    quotes: list[tuple[str, int, int]],
) -> None:
    book = QuoteBook({"ACME"}, QuoteRules(crossed_tolerance_bps=0, max_age_ns=5 * SECOND))
    kept: dict[str, Quote] = {}
    for sequence, (venue, first, second) in enumerate(quotes, start=1):
        low, high = sorted((first, second))
        venue_quote = quote(venue, low, high, sequence)
        if book.accept_quote(venue_quote, NOW):
            kept[venue] = venue_quote
    nbbo = book.nbbo("ACME", NOW)
    assert nbbo is not None
    assert nbbo.bid == max(item.bid for item in kept.values())
    assert nbbo.ask == min(item.ask for item in kept.values())
