"""The market events the detectors read, whether from replay files or from the audit trail.

Prices are integer units of 1/10,000 dollar; quantities whole shares; times nanoseconds.
``side`` is ``buy`` or ``sell`` (a short sale is a sell).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

PRICE_SCALE = 10_000
BUY, SELL = "buy", "sell"


@dataclass(frozen=True, slots=True)
class OrderPlaced:
    """A new order."""

    ts: int
    order_id: str
    account: str
    symbol: str
    side: str
    qty: int
    price: int | None


@dataclass(frozen=True, slots=True)
class OrderModified:
    """A cancel/replace: the new total quantity (filled shares included) and price."""

    ts: int
    order_id: str
    qty: int
    price: int | None


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    """Whatever is still open of the order is cancelled."""

    ts: int
    order_id: str


@dataclass(frozen=True, slots=True)
class TradeExecuted:
    """A trade between a buy order and a sell order."""

    ts: int
    trade_id: str
    symbol: str
    qty: int
    price: int
    buy_order_id: str
    sell_order_id: str


@dataclass(frozen=True, slots=True)
class VenueExecution:
    """An outside venue's execution of one of our orders; the venue's counterparty is unknown.

    Orders routed to another venue fill there: the venue reports each execution of our
    order (over FIX) and nothing of the order it met.
    """

    ts: int
    trade_id: str
    symbol: str
    qty: int
    price: int
    order_id: str
    venue: str


MarketEvent = OrderPlaced | OrderModified | OrderCancelled | TradeExecuted | VenueExecution


def side_of(text: str) -> str:
    """``buy``, or ``sell`` for a sell or a short sale; ValueError otherwise."""
    if text == BUY:
        return BUY
    if text in {"sell", "short", "sell_short"}:
        return SELL
    raise ValueError(f"unknown side {text!r}")


def opposite(side: str) -> str:
    """The other side."""
    return SELL if side == BUY else BUY


def price_units(text: object) -> int | None:
    """A decimal dollar price as units of 1/10,000 dollar; None for no price."""
    if text is None:
        return None
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        raise ValueError(f"not a price: {text!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a price: {text!r}")
    return int(value * PRICE_SCALE)


def dollars(units: int | None) -> str | None:
    """Units of 1/10,000 dollar as a decimal string."""
    return None if units is None else str(Decimal(units) / PRICE_SCALE)
