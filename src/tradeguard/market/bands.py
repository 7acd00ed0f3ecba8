"""Volatility bands in the manner of Limit Up-Limit Down (LULD).

Each symbol gets a band around a reference price: the mean of its NBBO midpoints over
the preceding five minutes (one sample a second), recalculated when that mean moves 1%
or more from the band's reference. The published percentages apply by tier and price:

| reference price | tier 1 | tier 2 |
|---|---|---|
| above $3.00 | 5% | 10% |
| $0.75 to $3.00 | 20% | 20% |
| below $0.75 | the lesser of $0.15 or 75% | the same |

A symbol is in a limit state while its best bid is at or above the upper band or its
best offer at or below the lower band; a limit state that lasts 15 seconds pauses
trading in the symbol for five minutes. Prices are in 1/10,000 dollar.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.market.events import Nbbo

BASIS_POINTS = 10_000
REFERENCE_WINDOW_NS = 300 * NS_PER_SECOND
SAMPLE_EVERY_NS = NS_PER_SECOND
RECALCULATE_BPS = 100
LIMIT_STATE_NS = 15 * NS_PER_SECOND
PAUSE_NS = 300 * NS_PER_SECOND
THREE_DOLLARS = 30_000
SEVENTY_FIVE_CENTS = 7_500
FIFTEEN_CENTS = 1_500
TIER_BPS = {1: 500, 2: 1_000}
LULD = "LULD"
"""The venue named in a volatility pause: the bands, not an exchange."""
VOLATILITY = "volatility"
"""The reason of a volatility pause."""
MIDDLE_BPS = 2_000
LOW_BPS = 7_500


def band_width(tier: int, reference: int) -> int:
    """How far each side of ``reference`` the band reaches, by the published percentages."""
    if reference > THREE_DOLLARS:
        return reference * TIER_BPS[tier] // BASIS_POINTS
    if reference >= SEVENTY_FIVE_CENTS:
        return reference * MIDDLE_BPS // BASIS_POINTS
    return min(FIFTEEN_CENTS, reference * LOW_BPS // BASIS_POINTS)


@dataclass(frozen=True, slots=True)
class Band:
    """A band: its reference price and its lower and upper prices, on the tick grid."""

    reference: int
    low: int
    high: int

    @classmethod
    def around(cls, reference: int, tier: int, tick: int) -> Band:
        """The band of ``reference`` for ``tier``, rounded inward to the tick grid."""
        width = band_width(tier, reference)
        low = reference - width
        high = reference + width
        return cls(reference, max(low + (-low) % tick, tick), high - high % tick)


class BandEvent(StrEnum):
    """What a quote did to a symbol's trading: nothing, paused it, or let it resume."""

    NONE = "none"
    PAUSE = "pause"
    RESUME = "resume"


@dataclass(slots=True)
class SymbolBand:
    """One symbol's samples, band, limit state and pause."""

    samples: deque[tuple[int, int]] = field(default_factory=deque)
    total: int = 0
    band: Band | None = None
    limit_since_ns: int | None = None
    paused_until_ns: int | None = None

    def sample(self, midpoint: int, now_ns: int) -> None:
        """Add a midpoint (at most one a second) and forget those older than five minutes."""
        if not self.samples or now_ns - self.samples[-1][0] >= SAMPLE_EVERY_NS:
            self.samples.append((now_ns, midpoint))
            self.total += midpoint
        while self.samples and self.samples[0][0] <= now_ns - REFERENCE_WINDOW_NS:
            self.total -= self.samples.popleft()[1]

    def reference(self) -> int:
        """The mean of the samples in the window."""
        return self.total // len(self.samples)


class VolatilityBands:
    """Keeps every symbol's band and says when a symbol pauses or may resume."""

    def __init__(self) -> None:
        self.symbols: dict[str, SymbolBand] = {}

    def observe(self, nbbo: Nbbo, tier: int, tick: int, now_ns: int) -> BandEvent:
        """Take a symbol's NBBO: update its band and limit state; a pause or resume if due."""
        state = self.symbols.setdefault(nbbo.symbol, SymbolBand())
        if state.paused_until_ns is not None:
            return _resume_if_due(state, now_ns)
        if nbbo.crossed:
            return BandEvent.NONE
        state.sample(nbbo.midpoint, now_ns)
        _recalculate(state, tier, tick)
        return _limit_state(state, nbbo, now_ns)

    def band(self, symbol: str) -> Band | None:
        """The symbol's band now, or None before its first quote."""
        state = self.symbols.get(symbol)
        return None if state is None else state.band

    def restore_pause(self, symbol: str, paused_until_ns: int) -> None:
        """Put ``symbol`` back in a pause that ends at ``paused_until_ns`` (after a restart)."""
        state = self.symbols.setdefault(symbol, SymbolBand())
        state.paused_until_ns = paused_until_ns

    def paused(self, symbol: str) -> bool:
        """Whether the symbol is in a volatility pause."""
        state = self.symbols.get(symbol)
        return state is not None and state.paused_until_ns is not None


def _recalculate(state: SymbolBand, tier: int, tick: int) -> None:
    reference = state.reference()
    band = state.band
    if band is None or abs(reference - band.reference) * BASIS_POINTS >= (
        band.reference * RECALCULATE_BPS
    ):
        state.band = Band.around(reference, tier, tick)


def _limit_state(state: SymbolBand, nbbo: Nbbo, now_ns: int) -> BandEvent:
    band = state.band
    if band is None or not (nbbo.bid >= band.high or nbbo.ask <= band.low):
        state.limit_since_ns = None
        return BandEvent.NONE
    if state.limit_since_ns is None:
        state.limit_since_ns = now_ns
    if now_ns - state.limit_since_ns < LIMIT_STATE_NS:
        return BandEvent.NONE
    state.paused_until_ns = now_ns + PAUSE_NS
    return BandEvent.PAUSE


def _resume_if_due(state: SymbolBand, now_ns: int) -> BandEvent:
    if state.paused_until_ns is None or now_ns < state.paused_until_ns:
        return BandEvent.NONE
    state.paused_until_ns = state.limit_since_ns = None
    state.band = None  # the reopening sets a fresh band from the quotes that follow
    state.samples.clear()
    state.total = 0
    return BandEvent.RESUME
