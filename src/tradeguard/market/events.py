"""What a market-data feed carries: venue quotes, last sales and venue halts.

Prices are fixed-point integers in 1/10,000 dollar, times nanoseconds since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Quote:
    """One venue's best bid and offer in a symbol, numbered in that venue's sequence.

    A provider's feed is one venue that relays exchanges' quotes: ``bid_market`` and
    ``ask_market`` then name the exchange at each side (a MIC); empty, the venue itself.
    """

    venue: str
    symbol: str
    bid: int
    bid_size: int
    ask: int
    ask_size: int
    sequence: int
    at_ns: int
    bid_market: str = ""
    ask_market: str = ""


@dataclass(frozen=True, slots=True)
class LastSale:
    """A trade printed by a venue."""

    venue: str
    symbol: str
    price: int
    size: int
    sequence: int
    at_ns: int


@dataclass(frozen=True, slots=True)
class VenueHalt:
    """A venue halting (``halted``) or resuming trading in a symbol, with its reason."""

    venue: str
    symbol: str
    halted: bool
    reason: str
    sequence: int
    at_ns: int


QuoteFields = tuple[str, int, int, int, int, int, int, str, str]
"""A quote's fields after its venue, in ``Quote``'s order: symbol, bid, bid size, ask, ask
size, sequence, time, bid market, ask market."""


@dataclass(frozen=True, slots=True)
class QuoteRun:
    """Consecutive quotes of one venue, as plain fields: no object per quote.

    A provider's frame carries many quotes of the same symbols; the book screens each and
    keeps each symbol's last good one, the only one its NBBO can use.
    """

    venue: str
    rows: list[QuoteFields]

    def quotes(self) -> list[Quote]:
        """The run as ``Quote`` events, in order."""
        return [Quote(self.venue, *row) for row in self.rows]


MarketEvent = Quote | LastSale | VenueHalt | QuoteRun


@dataclass(frozen=True, slots=True)
class Nbbo:
    """The national best bid and offer: the best price on each side across venues."""

    symbol: str
    bid: int
    bid_size: int
    bid_venue: str
    ask: int
    ask_size: int
    ask_venue: str
    at_ns: int
    bid_venues: tuple[str, ...] = ()
    """Every market quoting the best bid (``bid_venue`` first); empty: ``bid_venue`` alone."""
    ask_venues: tuple[str, ...] = ()
    """Every market quoting the best offer (``ask_venue`` first)."""

    @property
    def crossed(self) -> bool:
        """Whether the best bid is above the best offer (a locked market is not crossed)."""
        return self.bid > self.ask

    @property
    def midpoint(self) -> int:
        """Half way between bid and offer, rounded down to a whole price unit."""
        return (self.bid + self.ask) // 2


class DropReason(StrEnum):
    """Why a feed event was dropped, never used (the label of the drop counter)."""

    NOT_POSITIVE = "not_positive"
    CROSSED = "crossed"
    OUT_OF_SEQUENCE = "out_of_sequence"
    STALE = "stale"
    UNKNOWN_SYMBOL = "unknown_symbol"
    OUTSIDE_NBBO = "outside_nbbo"
    MALFORMED = "malformed"
