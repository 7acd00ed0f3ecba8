"""The best-execution policy: where a marketable order goes, and why.

The policy is a pure function of the order, the consolidated quote (NBBO), each
reachable venue's own quote and terms, and what the internal book offers. In order:

1. **Price.** An order is only ever sent where the price is best among what can be
   reached: a venue whose quote is worse than another reachable venue's is never
   chosen (FINRA Rule 5310, Reg NMS Rule 611 order protection).
2. **Internalisation.** The internal book takes a marketable order only when it can fill
   all of it at or better than the NBBO; a market order is then capped at the NBBO, so
   it never trades through it. Otherwise the order goes out.
3. **Likelihood and speed.** Among venues at the best price: the one whose displayed
   size covers more of the order, then the one with the better fill rate, then the
   faster one.
4. **Fees and rebates.** Then the lower access fee net of rebate, as the venue charges
   them for the order's Rule 606 type (market or marketable limit here).

Payment for order flow never decides a route: it is recorded with the route and
disclosed (Rule 606). A non-marketable limit order rests in the internal book, or, a DAY
order, at the venue the settings name for resting orders (``rest_at``). With no
venue reachable, a marketable order trades in the internal book only at or better than
the NBBO and the rest is cancelled: it fails closed, never at a worse price.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple, Protocol

from tradeguard.market.rule606 import OrderKind

INTERNAL = "INTERNAL"
"""The venue code of the internal order book."""
PERCENT = 100


class Reason(StrEnum):
    """Why a route was chosen (recorded with every routing decision)."""

    NO_NBBO = "no_consolidated_quote"
    NOT_MARKETABLE = "not_marketable_rests_internally"
    REST_AT_VENUE = "not_marketable_rests_at_venue"
    INTERNAL_IMPROVES = "internal_book_improves_on_nbbo"
    INTERNAL_AT_NBBO = "internal_book_at_nbbo"
    BEST_PRICE = "venue_at_best_reachable_price"
    AT_NBBO = "venue_at_nbbo"
    NBBO_VENUE_UNREACHABLE = "nbbo_venue_unreachable"
    LARGER_SIZE = "larger_displayed_size"
    FILL_RATE = "higher_fill_rate"
    FASTER = "faster_venue"
    LOWER_FEE = "lower_net_fee"
    NO_VENUE = "no_venue_reachable_fail_closed"


@dataclass(frozen=True, slots=True)
class FeeTerms:
    """What a venue charges and pays per share for one order type (1/10,000 dollar)."""

    access_fee: int = 0
    rebate: int = 0
    pfof: int = 0

    @property
    def net_fee(self) -> int:
        """Access fee less rebate, per share."""
        return self.access_fee - self.rebate

    @property
    def net_payment(self) -> int:
        """Payment for order flow and rebate received less the fee paid, per share (606)."""
        return self.pfof + self.rebate - self.access_fee


@dataclass(frozen=True, slots=True)
class VenueTerms:
    """A venue's terms: fees, rebates, payment for order flow, fill rate, latency.

    Money per share is in price units (1/10,000 dollar). ``by_kind`` holds the terms of
    the Rule 606 order types the venue charges differently; the others pay the venue's
    own ``access_fee``, ``rebate`` and ``pfof``. The terms of each type, and the venue's
    rank among venues at the same price for each, are worked out once, when the terms
    are made (``by_kind`` is read then).
    """

    code: str
    name: str
    access_fee: int = 0
    rebate: int = 0
    pfof: int = 0
    fill_rate_pct: int = PERCENT
    latency_us: int = 1_000
    by_kind: Mapping[OrderKind, FeeTerms] = field(default_factory=dict)
    _fees: dict[OrderKind, FeeTerms] = field(init=False, repr=False, compare=False)
    _ranks: dict[OrderKind, tuple[int, int, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        own = FeeTerms(self.access_fee, self.rebate, self.pfof)
        fees = {kind: self.by_kind.get(kind, own) for kind in OrderKind}
        ranks = {
            kind: (-self.fill_rate_pct, self.latency_us, terms.net_fee)
            for kind, terms in fees.items()
        }
        object.__setattr__(self, "_fees", fees)
        object.__setattr__(self, "_ranks", ranks)

    @property
    def net_fee(self) -> int:
        """Access fee less rebate, per share."""
        return self.access_fee - self.rebate

    def fees(self, kind: OrderKind) -> FeeTerms:
        """The fee, rebate and payment for order flow per share of an order of ``kind``."""
        return self._fees[kind]

    def rank(self, kind: OrderKind) -> tuple[int, int, int]:
        """The venue's place for an order of ``kind`` among venues at one price, lowest first.

        Among venues showing as much of the order: the higher fill rate, then the lower
        latency, then the lower net fee for that type.
        """
        return self._ranks[kind]


class QuoteLike(Protocol):
    """A venue's quote as the policy reads it (``VenueQuote``, or the feed's ``Quote``)."""

    @property
    def venue(self) -> str:
        """The venue's code."""
        ...

    @property
    def bid(self) -> int:
        """Best bid."""
        ...

    @property
    def bid_size(self) -> int:
        """Shares at the bid."""
        ...

    @property
    def ask(self) -> int:
        """Best offer."""
        ...

    @property
    def ask_size(self) -> int:
        """Shares at the offer."""
        ...


@dataclass(frozen=True, slots=True)
class VenueQuote:
    """One reachable venue's quote in the symbol (price units, shares)."""

    venue: str
    bid: int
    bid_size: int
    ask: int
    ask_size: int


# What is made on every decision is a named tuple: immutable like the dataclasses above,
# and made at about half their cost.
class Market(NamedTuple):
    """What the policy sees: the NBBO (None without one), venue quotes, the internal book.

    ``internal_depth`` is the internal book's opposite side, best first, as (price,
    quantity) levels.
    """

    nbbo_bid: int | None
    nbbo_ask: int | None
    quotes: Sequence[QuoteLike]
    internal_depth: Sequence[tuple[int, int]]


class RouteAsk(NamedTuple):
    """The order to route: ``buy`` or not, shares, and its limit (None: a market order)."""

    buy: bool
    quantity: int
    limit: int | None

    @property
    def marketable_kind(self) -> OrderKind:
        """The Rule 606 type the order has when it goes out marketable."""
        return OrderKind.MARKET if self.limit is None else OrderKind.MARKETABLE_LIMIT


class Decision(NamedTuple):
    """Where the order goes, the price it may trade at, at most, and why.

    ``cap`` is the worst price the order may trade at where it goes (None: its own
    limit or collar).
    """

    venue: str
    cap: int | None
    reasons: tuple[Reason, ...]

    @property
    def internal(self) -> bool:
        """Whether the order stays in the internal book."""
        return self.venue == INTERNAL


NO_NBBO = Decision(INTERNAL, None, (Reason.NO_NBBO,))
NOT_MARKETABLE = Decision(INTERNAL, None, (Reason.NOT_MARKETABLE,))
_AT_NBBO = (Reason.AT_NBBO, Reason.BEST_PRICE)
_NBBO_UNREACHABLE = (Reason.NBBO_VENUE_UNREACHABLE, Reason.BEST_PRICE)
_LARGER_SIZE, _FILL_RATE, _FASTER, _LOWER_FEE = (
    Reason.LARGER_SIZE,
    Reason.FILL_RATE,
    Reason.FASTER,
    Reason.LOWER_FEE,
)  # members bound once: reading an enum's member is slow next to a global


def decide(ask: RouteAsk, market: Market, terms: Mapping[str, VenueTerms]) -> Decision:
    """The route of ``ask`` under the best-execution policy (see the module's text)."""
    best = market.nbbo_ask if ask.buy else market.nbbo_bid
    if best is None:
        return NO_NBBO
    if ask.limit is not None and not _within(ask.buy, best, ask.limit):
        return NOT_MARKETABLE
    internal = _internal(ask, market.internal_depth, best)
    if internal is not None:
        return internal
    venue = _best_venue(ask, market.quotes, terms, best)
    if venue is not None:
        return venue
    return Decision(INTERNAL, _capped(ask, best), (Reason.NO_VENUE,))


def rest_at(decision: Decision, venue: str | None) -> Decision:
    """``decision``, or resting at ``venue`` when it keeps a non-marketable order inside.

    ``venue`` is None when the order may not rest outside (not a DAY order, no resting
    venue configured, or that venue out of reach).
    """
    if venue is None or decision.reasons != NOT_MARKETABLE.reasons:
        return decision
    return Decision(venue, None, (Reason.REST_AT_VENUE,))


def _internal(ask: RouteAsk, depth: Sequence[tuple[int, int]], best: int) -> Decision | None:
    """Internalise when the book fills all of it at or better than the NBBO."""
    available = 0
    for price, quantity in depth:
        if not _within(ask.buy, price, best):
            break
        available += quantity
        if available >= ask.quantity:
            top = depth[0][0]
            reason = Reason.INTERNAL_AT_NBBO if top == best else Reason.INTERNAL_IMPROVES
            return Decision(INTERNAL, _capped(ask, best), (reason,))
    return None


_Candidate = tuple[tuple[int, tuple[int, int, int]], int, VenueTerms]
"""A venue at the best price: its rank (shares of the order shown, then its own rank),
the shares it shows, its terms."""


def _best_venue(
    ask: RouteAsk, quotes: Sequence[QuoteLike], terms: Mapping[str, VenueTerms], nbbo: int
) -> Decision | None:
    """The reachable venue at the best price, ties broken by size, fill rate, speed, fee.

    One pass over the quotes keeps the best price and the first two venues at it in rank
    order (an earlier quote first when they rank the same).
    """
    buy, quantity, kind = ask.buy, ask.quantity, ask.marketable_kind
    top = 0
    first: _Candidate | None = None
    second: _Candidate | None = None
    for quote in quotes:
        venue = terms.get(quote.venue)
        price, size = (quote.ask, quote.ask_size) if buy else (quote.bid, quote.bid_size)
        if venue is None or size <= 0:
            continue
        if first is not None and price != top and not _within(buy, price, top):
            continue  # worse than the best so far
        candidate = ((-min(size, quantity), venue.rank(kind)), size, venue)
        if first is None or price != top:
            top, first, second = price, candidate, None
        elif candidate[0] < first[0]:
            first, second = candidate, first
        elif second is None or candidate[0] < second[0]:
            second = candidate
    if first is None:
        return None
    if ask.limit is not None and not _within(buy, top, ask.limit):
        return None
    reasons: tuple[Reason, ...] = _AT_NBBO if top == nbbo else _NBBO_UNREACHABLE
    if second is not None:
        reasons = (*reasons, _tie_break(quantity, first, second))
    return Decision(first[2].code, None, reasons)


def _tie_break(quantity: int, first: _Candidate, second: _Candidate) -> Reason:
    """Which criterion put the chosen venue ahead of the runner-up (fees come last)."""
    (_, size_a, a), (_, size_b, b) = first, second
    if min(size_a, quantity) != min(size_b, quantity):
        return _LARGER_SIZE
    if a.fill_rate_pct != b.fill_rate_pct:
        return _FILL_RATE
    if a.latency_us != b.latency_us:
        return _FASTER
    return _LOWER_FEE


def order_kind(ask: RouteAsk, opposite: int | None) -> OrderKind:
    """The order's Rule 606 type on receipt against the best opposite price (None: none).

    A limit order is marketable when it could trade at once: a buy at or above the best
    offer, a sell at or below the best bid.
    """
    if ask.limit is None:
        return OrderKind.MARKET
    if opposite is not None and _within(ask.buy, opposite, ask.limit):
        return OrderKind.MARKETABLE_LIMIT
    return OrderKind.NON_MARKETABLE_LIMIT


def _capped(ask: RouteAsk, best: int) -> int | None:
    """A market order trades no worse than the NBBO; a limit order keeps its limit."""
    return best if ask.limit is None else None


def _within(buy: bool, price: int, limit: int) -> bool:  # noqa: FBT001 - the side, plainly
    """Whether ``price`` is at or better than ``limit`` for the side."""
    return price <= limit if buy else price >= limit
