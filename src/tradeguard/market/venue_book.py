"""The consolidated quote book that also answers with each venue's own quote.

Routing needs where the NBBO's prices are, and what every other venue shows. It reads
them as a view of a symbol's fresh quotes, made once per change of the symbol's quotes
and kept while it holds: the book stamps a symbol anew after each change (after the
change is in place), and a view made after reading a stamp is only used while that stamp
is the symbol's, so a view read while a quote came in is made again at the next call.
"""

from __future__ import annotations

from collections.abc import Collection
from math import inf
from typing import NamedTuple

from tradeguard.market.consolidation import QuoteBook, QuoteRules
from tradeguard.market.events import Quote


class VenueView(NamedTuple):
    """A symbol's fresh venue quotes and their best bid and offer (None without quotes).

    It holds while the symbol's quotes are unchanged (``stamp``) and the age limit's
    cutoff (the oldest time still fresh) is above ``left_out``, the newest of the quotes
    left out as too old, and at most ``kept``, the oldest of those kept.
    """

    quotes: tuple[Quote, ...]
    bid: int | None
    ask: int | None
    stamp: int
    left_out: float
    kept: float


class VenueQuoteBook(QuoteBook):
    """A ``QuoteBook`` whose venue quotes can be read, fresh ones only."""

    def __init__(self, symbols: Collection[str], rules: QuoteRules) -> None:
        super().__init__(symbols, rules)
        self._views: dict[str, VenueView] = {}

    @classmethod
    def replacing(cls, book: QuoteBook) -> VenueQuoteBook:
        """A book with ``book``'s symbols, rules and drop counter, to take its place."""
        replacement = cls(book.symbols, book.rules)
        replacement.drops = book.drops
        return replacement

    def venue_view(self, symbol: str, now_ns: int) -> VenueView:
        """Each venue's last good quote in ``symbol`` not older than the age limit."""
        cutoff = now_ns - self.rules.max_age_ns
        stamp = self._stamps.get(symbol, 0)  # read before the quotes: see the module
        view = self._views.get(symbol)
        if view is None or view.stamp != stamp or not view.left_out < cutoff <= view.kept:
            view = self._views[symbol] = _view(self._quotes.get(symbol, {}), cutoff, stamp)
        return view

    def venue_quote(self, symbol: str, venue: str) -> Quote | None:
        """``venue``'s last good quote in ``symbol``, however old."""
        return self._quotes.get(symbol, {}).get(venue)


def _view(venues: dict[str, Quote], cutoff: int, stamp: int) -> VenueView:
    """The view of ``venues``' quotes at ``cutoff`` (those older are left out)."""
    quotes = list(venues.values())
    fresh = tuple(quote for quote in quotes if quote.at_ns >= cutoff)
    return VenueView(
        fresh,
        max((quote.bid for quote in fresh), default=None),
        min((quote.ask for quote in fresh), default=None),
        stamp,
        max((quote.at_ns for quote in quotes if quote.at_ns < cutoff), default=-inf),
        min((quote.at_ns for quote in fresh), default=inf),
    )
