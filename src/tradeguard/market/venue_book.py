"""The consolidated quote book that also answers with each venue's own quote.

Routing needs where the NBBO's prices are, and what every other venue shows.
"""

from __future__ import annotations

from tradeguard.market.consolidation import QuoteBook
from tradeguard.market.events import Quote


class VenueQuoteBook(QuoteBook):
    """A ``QuoteBook`` whose venue quotes can be read, fresh ones only."""

    @classmethod
    def replacing(cls, book: QuoteBook) -> VenueQuoteBook:
        """A book with ``book``'s symbols, rules and drop counter, to take its place."""
        replacement = cls(book.symbols, book.rules)
        replacement.drops = book.drops
        return replacement

    def venue_quotes(self, symbol: str, now_ns: int) -> list[Quote]:
        """Each venue's last good quote in ``symbol`` not older than the age limit."""
        venues = self._quotes.get(symbol)
        if not venues:
            return []
        oldest = now_ns - self.rules.max_age_ns
        return [quote for quote in list(venues.values()) if quote.at_ns >= oldest]

    def venue_quote(self, symbol: str, venue: str) -> Quote | None:
        """``venue``'s last good quote in ``symbol``, however old."""
        return self._quotes.get(symbol, {}).get(venue)
