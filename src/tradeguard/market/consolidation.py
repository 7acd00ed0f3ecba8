"""The consolidated quote: each venue's last good quote per symbol and the NBBO over them.

Bad events are dropped and counted by reason, never used: a price or size that is not
positive, a venue quote crossed beyond the tolerance, an event older than the venue's
last one (out of sequence) or older than the age limit, a symbol the desk does not list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from tradeguard.market.events import DropReason, LastSale, Nbbo, Quote, VenueHalt

BASIS_POINTS = 10_000


@dataclass(frozen=True, slots=True)
class QuoteRules:
    """How much a venue quote may cross, and how old an event may be on arrival."""

    crossed_tolerance_bps: int = 0
    max_age_ns: int = 5_000_000_000


class QuoteBook:
    """Venue quotes by symbol, the NBBO they make, and the count of dropped events."""

    def __init__(self, symbols: Collection[str], rules: QuoteRules) -> None:
        self.symbols = set(symbols)
        self.rules = rules
        self.drops: Counter[DropReason] = Counter()
        self._quotes: dict[str, dict[str, Quote]] = {}
        self._sequences: dict[str, int] = {}

    def accept_quote(self, quote: Quote, now_ns: int) -> bool:
        """Take in a venue quote (``nbbo`` then includes it); False if it was dropped."""
        reason = self._screen(quote, now_ns) or _quote_problem(quote, self.rules)
        if reason is not None:
            self.drops[reason] += 1
            return False
        self._sequences[quote.venue] = quote.sequence
        venues = self._quotes.get(quote.symbol)
        if venues is None:
            venues = self._quotes[quote.symbol] = {}
        venues[quote.venue] = quote
        return True

    def accept_sale(self, sale: LastSale, now_ns: int) -> bool:
        """Whether a last sale is good: in sequence, fresh, positive and inside the NBBO."""
        reason = self._screen(sale, now_ns)
        if reason is None and (sale.price <= 0 or sale.size <= 0):
            reason = DropReason.NOT_POSITIVE
        nbbo = self.nbbo(sale.symbol, now_ns)
        if reason is None and nbbo is not None and not nbbo.bid <= sale.price <= nbbo.ask:
            reason = DropReason.OUTSIDE_NBBO
        if reason is not None:
            self.drops[reason] += 1
            return False
        self._sequences[sale.venue] = sale.sequence
        return True

    def accept_halt(self, halt: VenueHalt, now_ns: int) -> bool:
        """Whether a venue halt (or resumption) is in sequence for a listed symbol."""
        reason = self._screen(halt, now_ns + self.rules.max_age_ns)  # a halt never ages out
        if reason is not None:
            self.drops[reason] += 1
            return False
        self._sequences[halt.venue] = halt.sequence
        return True

    def nbbo(self, symbol: str, now_ns: int) -> Nbbo | None:
        """The symbol's NBBO over the venues' last good quotes still fresh, or None."""
        venues = self._quotes.get(symbol)
        return self._consolidated(symbol, venues.values(), now_ns) if venues else None

    def _consolidated(self, symbol: str, quotes: Collection[Quote], now_ns: int) -> Nbbo | None:
        """The NBBO of ``quotes`` without those older than the age limit (a silent venue)."""
        oldest = now_ns - self.rules.max_age_ns
        fresh = [quote for quote in quotes if quote.at_ns >= oldest]
        return _nbbo(symbol, fresh) if fresh else None

    def dropped(self) -> int:
        """How many events were dropped in all."""
        return sum(self.drops.values())

    def _screen(self, event: Quote | LastSale | VenueHalt, now_ns: int) -> DropReason | None:
        """The checks every event passes: a listed symbol, in sequence, not too old."""
        if event.symbol not in self.symbols:
            return DropReason.UNKNOWN_SYMBOL
        if event.sequence <= self._sequences.get(event.venue, 0):
            return DropReason.OUT_OF_SEQUENCE
        if now_ns - event.at_ns > self.rules.max_age_ns:
            return DropReason.STALE
        return None


def _quote_problem(quote: Quote, rules: QuoteRules) -> DropReason | None:
    """Why a venue quote is unusable on its own terms, or None."""
    if min(quote.bid, quote.ask, quote.bid_size, quote.ask_size) <= 0:
        return DropReason.NOT_POSITIVE
    if quote.bid - quote.ask > quote.ask * rules.crossed_tolerance_bps // BASIS_POINTS:
        return DropReason.CROSSED
    return None


def _nbbo(symbol: str, quotes: Collection[Quote]) -> Nbbo:
    """The best bid and the best offer across ``quotes`` (the earlier quote wins a tie)."""
    best_bid = max(quotes, key=lambda quote: (quote.bid, -quote.at_ns))
    best_ask = min(quotes, key=lambda quote: (quote.ask, quote.at_ns))
    return Nbbo(
        symbol=symbol,
        bid=best_bid.bid,
        bid_size=best_bid.bid_size,
        bid_venue=best_bid.venue,
        ask=best_ask.ask,
        ask_size=best_ask.ask_size,
        ask_venue=best_ask.venue,
        at_ns=min(best_bid.at_ns, best_ask.at_ns),
    )
