"""Integer pricing rules shared by the checks and the risk context.

Notional is ``price units * shares / 100`` cents. What a buyer pays is rounded up to the
cent, what a seller receives is rounded down, so rounding never favours the customer by
more than the cent it cannot split, and never loses a cent of the firm's.
"""

from __future__ import annotations

from tradeguard.core.money import CENTS_SCALE, PRICE_SCALE, Rounding, divide_rounded
from tradeguard.risk.model import BASIS_POINTS, DAY_NS, Instrument, OrderRequest, RiskLimits
from tradeguard.risk.order_terms import OrderType, Side

UNITS_PER_CENT: int = PRICE_SCALE // CENTS_SCALE
_EPOCH_WEEKDAY_OFFSET = 3  # 1970-01-01 was a Thursday: shift so Monday is day 0 of a week
_DAYS_PER_WEEK = 7
_BUSINESS_DAYS_PER_WEEK = 5


def cost_cents(exact_units: int) -> int:
    """Cents a buyer pays for ``exact_units`` (price units * shares), rounded up."""
    return divide_rounded(exact_units, UNITS_PER_CENT, Rounding.CEILING)


def proceeds_cents(exact_units: int) -> int:
    """Cents a seller receives for ``exact_units`` (price units * shares), rounded down."""
    return divide_rounded(exact_units, UNITS_PER_CENT, Rounding.FLOOR)


def requirement_cents(notional_cents: int, requirement_bps: int) -> int:
    """A margin requirement of ``requirement_bps`` on ``notional_cents``, rounded up."""
    return divide_rounded(notional_cents * requirement_bps, BASIS_POINTS, Rounding.CEILING)


def collar_top(limits: RiskLimits, instrument: Instrument) -> int | None:
    """The highest price the collar allows, or None without a reference price."""
    reference = instrument.reference_price
    if reference is None:
        return None
    return reference + limits.collar_width(reference)


def order_price(limits: RiskLimits, instrument: Instrument, order: OrderRequest) -> int | None:
    """The worst price of an order: its limit, or the collar's top for a market order."""
    if order.type is OrderType.LIMIT:
        return order.limit_price
    return collar_top(limits, instrument)


def market_order_bound(limits: RiskLimits, instrument: Instrument, side: Side) -> int | None:
    """The limit a market order trades at: the collar's edge on its side, within the band.

    A buy goes no higher than the collar's top nor the volatility band's top, a sell
    (or short sale) no lower than the collar's bottom nor the band's bottom; both on the
    tick grid. None without a reference price.
    """
    reference = instrument.reference_price
    if reference is None:
        return None
    tick, width = instrument.tick_size, limits.collar_width(reference)
    if side is Side.BUY:
        top = reference + width
        top -= top % tick
        high = instrument.band_high
        return top if high is None else min(top, high)
    bottom = reference - width
    bottom = max(bottom + (-bottom) % tick, tick)
    low = instrument.band_low
    return bottom if low is None else max(bottom, low)


def reservation_price(
    limits: RiskLimits, instrument: Instrument, order: OrderRequest
) -> int | None:
    """The price buying power is held at: short sales fill at or above their limit, so the top."""
    if order.side is Side.SELL_SHORT:
        top = collar_top(limits, instrument)
        if top is not None:
            return max(top, order.limit_price or 0)
    return order_price(limits, instrument, order)


def business_day(ns: int) -> int:
    """A count of business days since the epoch (UTC dates; a weekend counts as Friday)."""
    week, weekday = divmod(ns // DAY_NS + _EPOCH_WEEKDAY_OFFSET, _DAYS_PER_WEEK)
    return week * _BUSINESS_DAYS_PER_WEEK + min(weekday, _BUSINESS_DAYS_PER_WEEK - 1)
