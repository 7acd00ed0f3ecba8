"""The venue quotes routing reads: each venue's fresh quote and the best prices over them,
made once per change of a symbol's quotes and never older than the book."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeguard.market import venue_book
from tradeguard.market.consolidation import QuoteRules
from tradeguard.market.events import Quote, QuoteRun
from tradeguard.market.venue_book import VenueQuoteBook, VenueView

NOW = 1_700_000_000_000_000_000
SECOND = 1_000_000_000


def quote(venue: str, bid: int, ask: int, sequence: int, at_ns: int = NOW) -> Quote:
    return Quote(venue, "ACME", bid, 100, ask, 200, sequence, at_ns)


def seen(view: VenueView) -> tuple[list[str], int | None, int | None]:
    return [item.venue for item in view.quotes], view.bid, view.ask


@pytest.fixture
def book() -> VenueQuoteBook:
    return VenueQuoteBook({"ACME"}, QuoteRules(max_age_ns=5 * SECOND))


def test_the_view_follows_every_quote_taken_in_one_by_one_or_in_runs(
    book: VenueQuoteBook,
) -> None:
    assert seen(book.venue_view("ACME", NOW)) == ([], None, None)
    book.accept_quote(quote("XNYS", 1_000, 1_004, 1), NOW)
    assert seen(book.venue_view("ACME", NOW)) == (["XNYS"], 1_000, 1_004)
    book.accept_quote(quote("XNAS", 1_001, 1_005, 1), NOW)
    assert seen(book.venue_view("ACME", NOW)) == (["XNYS", "XNAS"], 1_001, 1_004)
    run = QuoteRun("XNYS", [("ACME", 999, 100, 1_003, 200, 2, NOW, "", "")])
    book.accept_run(run, NOW, set())
    assert seen(book.venue_view("ACME", NOW)) == (["XNYS", "XNAS"], 1_001, 1_003)


def test_a_quote_too_old_is_left_out_at_a_later_time_and_kept_at_an_earlier_one(
    book: VenueQuoteBook,
) -> None:
    book.accept_quote(quote("XNYS", 1_000, 1_002, 1), NOW)
    book.accept_quote(quote("XNAS", 999, 1_004, 1, at_ns=NOW + 3 * SECOND), NOW + 3 * SECOND)
    assert seen(book.venue_view("ACME", NOW + 5 * SECOND)) == (["XNYS", "XNAS"], 1_000, 1_002)
    assert seen(book.venue_view("ACME", NOW + 6 * SECOND)) == (["XNAS"], 999, 1_004)
    assert seen(book.venue_view("ACME", NOW + 9 * SECOND)) == ([], None, None)
    assert seen(book.venue_view("ACME", NOW + SECOND)) == (["XNYS", "XNAS"], 1_000, 1_002)


def test_a_view_made_while_a_quote_comes_in_is_made_again_at_the_next_read(
    book: VenueQuoteBook, monkeypatch: pytest.MonkeyPatch
) -> None:
    book.accept_quote(quote("XNYS", 1_000, 1_004, 1), NOW)
    made = venue_book._view  # the view's maker, to let a quote in mid-way

    def with_a_quote_arriving(*args: object) -> VenueView:
        view = made(*args)  # type: ignore[arg-type]
        book.accept_quote(quote("XNAS", 1_001, 1_003, 1), NOW)  # before the view is kept
        return view

    monkeypatch.setattr(venue_book, "_view", with_a_quote_arriving)
    assert seen(book.venue_view("ACME", NOW)) == (["XNYS"], 1_000, 1_004)
    monkeypatch.setattr(venue_book, "_view", made)
    assert seen(book.venue_view("ACME", NOW)) == (["XNYS", "XNAS"], 1_001, 1_003)


STEPS = st.lists(
    st.tuples(
        st.booleans(),
        st.sampled_from(["XNYS", "XNAS", "ARCX"]),
        st.integers(990, 1_000),
        st.integers(0, 10),
        st.integers(-8, 12),
    ),
    max_size=30,
)
"""Quotes taken in (a venue, its bid and spread, its age in seconds) and reads of the view
(the seconds after the first quote), in any order."""


@given(STEPS)
def test_every_view_read_is_the_book_worked_out_afresh(
    steps: list[tuple[bool, str, int, int, int]],
) -> None:
    book = VenueQuoteBook({"ACME"}, QuoteRules(max_age_ns=5 * SECOND))
    last: dict[str, Quote] = {}
    for number, (read, venue, bid, spread, seconds) in enumerate(steps, start=1):
        if not read:
            item = quote(venue, bid, bid + spread, number, NOW - abs(seconds) * SECOND)
            if book.accept_quote(item, NOW):
                last[venue] = item
            continue
        now = NOW + seconds * SECOND
        fresh = [item for item in last.values() if item.at_ns >= now - 5 * SECOND]
        view = book.venue_view("ACME", now)
        assert list(view.quotes) == fresh
        assert view.bid == max((item.bid for item in fresh), default=None)
        assert view.ask == min((item.ask for item in fresh), default=None)
