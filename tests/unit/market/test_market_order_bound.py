"""Property: a market order's limit never lies outside the collar nor the volatility band."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tradeguard.market.bands import Band
from tradeguard.risk.model import Instrument, RiskLimits
from tradeguard.risk.order_terms import Side
from tradeguard.risk.pricing import market_order_bound

TICKS = st.sampled_from([1, 100])
REFERENCES = st.integers(min_value=100, max_value=50_000_000)


@given(
    reference=REFERENCES,
    band_around=REFERENCES,
    tier=st.sampled_from([1, 2]),
    tick=TICKS,
    banded=st.booleans(),
)
def test_a_market_orders_limit_stays_inside_collar_and_band(
    *, reference: int, band_around: int, tier: int, tick: int, banded: bool
) -> None:
    reference -= reference % tick
    reference = max(reference, tick)
    limits = RiskLimits()
    band = Band.around(band_around, tier, tick) if banded else None
    instrument = Instrument(
        "ACME",
        tier,
        tick,
        1,
        reference_price=reference,
        band_low=None if band is None else band.low,
        band_high=None if band is None else band.high,
    )
    width = limits.collar_width(reference)
    buy = market_order_bound(limits, instrument, Side.BUY)
    sell = market_order_bound(limits, instrument, Side.SELL)
    short = market_order_bound(limits, instrument, Side.SELL_SHORT)
    assert buy is not None
    assert sell is not None
    assert buy % tick == 0
    assert sell % tick == 0
    assert short == sell
    assert buy <= reference + width
    assert sell >= reference - width
    if band is not None:
        assert buy <= band.high
        assert sell >= band.low
    else:
        assert buy > reference + width - tick  # the collar's top on the grid, no lower
        assert sell < max(reference - width, 0) + tick or sell == tick


def test_without_a_reference_price_there_is_no_bound() -> None:
    instrument = Instrument("ACME", 1, 100, 1)
    assert market_order_bound(RiskLimits(), instrument, Side.BUY) is None
