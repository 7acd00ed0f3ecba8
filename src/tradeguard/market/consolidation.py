"""The consolidated quote: each venue's last good quote per symbol and the NBBO over them.

Bad events are dropped and counted by reason, never used: a price or size that is not
positive, a venue quote crossed beyond the tolerance, an event older than the venue's
last one (out of sequence) or older than the age limit, a symbol the desk does not list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from itertools import count

from tradeguard.market.events import (
    DropReason,
    LastSale,
    Nbbo,
    Quote,
    QuoteFields,
    QuoteRun,
    VenueHalt,
)

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
        self._stamps: dict[str, int] = {}
        """A new number for a symbol after each change of its quotes (for views of them)."""
        self._next_stamp = count(1)

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
        self._stamps[quote.symbol] = next(self._next_stamp)
        return True

    def accept_run(self, run: QuoteRun, now_ns: int, quoted: set[str]) -> int:
        """Take in a run of one venue's quotes, each screened as ``accept_quote`` does.

        Only each symbol's last good quote of the run becomes a ``Quote`` in the book (the
        ones before it would be replaced at once); ``quoted`` gets the symbols. Returns
        how many quotes were good.
        """
        latest: dict[str, QuoteFields] = {}
        sequence = self._sequences.get(run.venue, 0)
        symbols, oldest, good = self.symbols, now_ns - self.rules.max_age_ns, 0
        for row in run.rows:
            symbol, bid, bid_size, ask, ask_size, number, at_ns, _, _ = row
            # the common case at a glance (an uncrossed quote is within any tolerance);
            # anything else is screened in full, in the order ``accept_quote`` checks
            fine = symbol in symbols and number > sequence and at_ns >= oldest
            if not (fine and 0 < bid <= ask and bid_size > 0 and ask_size > 0):
                reason = self._row_problem(row, sequence, now_ns)
                if reason is not None:
                    self.drops[reason] += 1
                    continue
            latest[symbol] = row
            sequence = number
            good += 1
        self._sequences[run.venue] = sequence
        self._keep(run.venue, latest)
        quoted.update(latest)
        return good

    def _row_problem(self, row: QuoteFields, sequence: int, now_ns: int) -> DropReason | None:
        """Why a quote of a run is dropped (the checks of ``accept_quote``), or None."""
        symbol, bid, bid_size, ask, ask_size, number, at_ns = row[:7]
        return self._screened(symbol, number, sequence, now_ns - at_ns) or _sides_problem(
            bid, bid_size, ask, ask_size, self.rules
        )

    def _keep(self, venue: str, latest: dict[str, QuoteFields]) -> None:
        """Store each symbol's last good quote of a run as the venue's quote."""
        books, stamps, stamp = self._quotes, self._stamps, self._next_stamp
        for symbol, row in latest.items():
            venues = books.get(symbol)
            if venues is None:
                venues = books[symbol] = {}
            venues[venue] = Quote(venue, *row)
            stamps[symbol] = next(stamp)

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
        last = self._sequences.get(event.venue, 0)
        return self._screened(event.symbol, event.sequence, last, now_ns - event.at_ns)

    def _screened(self, symbol: str, sequence: int, last: int, age_ns: int) -> DropReason | None:
        if symbol not in self.symbols:
            return DropReason.UNKNOWN_SYMBOL
        if sequence <= last:
            return DropReason.OUT_OF_SEQUENCE
        if age_ns > self.rules.max_age_ns:
            return DropReason.STALE
        return None


def _quote_problem(quote: Quote, rules: QuoteRules) -> DropReason | None:
    """Why a venue quote is unusable on its own terms, or None."""
    return _sides_problem(quote.bid, quote.bid_size, quote.ask, quote.ask_size, rules)


def _sides_problem(
    bid: int, bid_size: int, ask: int, ask_size: int, rules: QuoteRules
) -> DropReason | None:
    """A price or size that is not positive, or a bid above the offer beyond the tolerance."""
    if bid <= 0 or ask <= 0 or bid_size <= 0 or ask_size <= 0:
        return DropReason.NOT_POSITIVE
    if bid - ask > ask * rules.crossed_tolerance_bps // BASIS_POINTS:
        return DropReason.CROSSED
    return None


def _nbbo(symbol: str, quotes: Collection[Quote]) -> Nbbo:
    """The best bid and the best offer across ``quotes`` (the earlier quote wins a tie)."""
    best_bid = max(quotes, key=lambda quote: (quote.bid, -quote.at_ns))
    best_ask = min(quotes, key=lambda quote: (quote.ask, quote.at_ns))
    bid_venues = _at_best(
        [(q.bid_market or q.venue, q.at_ns) for q in quotes if q.bid == best_bid.bid]
    )
    ask_venues = _at_best(
        [(q.ask_market or q.venue, q.at_ns) for q in quotes if q.ask == best_ask.ask]
    )
    return Nbbo(
        symbol=symbol,
        bid=best_bid.bid,
        bid_size=best_bid.bid_size,
        bid_venue=bid_venues[0],
        ask=best_ask.ask,
        ask_size=best_ask.ask_size,
        ask_venue=ask_venues[0],
        at_ns=min(best_bid.at_ns, best_ask.at_ns),
        bid_venues=bid_venues,
        ask_venues=ask_venues,
    )


def _at_best(markets: list[tuple[str, int]]) -> tuple[str, ...]:
    """The markets at a best price, the earliest quote first, each named once."""
    return tuple(dict.fromkeys(name for name, _ in sorted(markets, key=lambda item: item[1])))
