"""The values the matching engine takes and gives: orders, fills, cancellations, states.

Prices are ``Price`` (integer 1/10,000 dollar) and quantities are integer shares; no
float appears anywhere. Everything handed out is a frozen dataclass, so a caller can keep
it (persist it, publish it) while the book moves on.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tradeguard.core.money import Price
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce


class OrderStatus(StrEnum):
    """Where an order stands after the book has handled it."""

    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"


class CancelReason(StrEnum):
    """Why (part of) an order left the book without filling."""

    REQUESTED = "requested"
    IOC_REMAINDER = "ioc_remainder"
    NO_LIQUIDITY = "no_liquidity"
    SELF_TRADE = "self_trade"
    MASS_CANCEL = "mass_cancel"
    EXPIRED = "expired"
    VENUE_CANCELLED = "venue_cancelled"


class MatchingReason(StrEnum):
    """Stable reason codes of the requests the book refuses."""

    INVALID_QUANTITY = "ORDER_INVALID_QUANTITY"
    INVALID_PRICE = "ORDER_INVALID_PRICE"
    SYMBOL_MISMATCH = "ORDER_SYMBOL_MISMATCH"
    DUPLICATE_ORDER_ID = "ORDER_DUPLICATE_ID"
    ORDER_NOT_OPEN = "ORDER_NOT_OPEN"
    QUANTITY_NOT_ABOVE_FILLED = "ORDER_QUANTITY_NOT_ABOVE_FILLED"


class MatchingError(ValueError):
    """The book refused a request; ``reason_code`` says why, the book is unchanged."""

    def __init__(self, reason_code: MatchingReason, detail: str) -> None:
        super().__init__(f"{reason_code}: {detail}")
        self.reason_code = reason_code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Order:
    """A new order for the book; ``limit_price`` is required for limit orders only."""

    order_id: str
    symbol: str
    account: str
    side: Side
    quantity: int
    order_type: OrderType = OrderType.LIMIT
    limit_price: Price | None = None
    time_in_force: TimeInForce = TimeInForce.DAY

    def __post_init__(self) -> None:
        require_quantity(self.quantity)
        if self.order_type is OrderType.MARKET and self.limit_price is not None:
            raise MatchingError(MatchingReason.INVALID_PRICE, "a market order has no limit")
        if self.order_type is OrderType.LIMIT:
            require_price(self.limit_price)


_set_field = object.__setattr__
"""How a frozen dataclass sets its own fields."""


def checked_limit_order(  # noqa: PLR0913 - the fields of a limit order
    order_id: str,
    *,
    symbol: str,
    account: str,
    side: Side,
    quantity: int,
    limit_price: Price,
    time_in_force: TimeInForce,
) -> Order:
    """A limit order whose caller has already checked its quantity and price are positive.

    Built without ``Order.__post_init__``: for the desk, whose pre-trade checks refuse any
    other terms before an order reaches the book. Every other caller builds ``Order``.
    """
    order = object.__new__(Order)
    _set_field(order, "order_id", order_id)
    _set_field(order, "symbol", symbol)
    _set_field(order, "account", account)
    _set_field(order, "side", side)
    _set_field(order, "quantity", quantity)
    _set_field(order, "order_type", OrderType.LIMIT)
    _set_field(order, "limit_price", limit_price)
    _set_field(order, "time_in_force", time_in_force)
    return order


def require_quantity(quantity: object) -> int:
    """``quantity`` if it is a positive int, else a refusal."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        raise MatchingError(MatchingReason.INVALID_QUANTITY, "quantity must be a positive int")
    return quantity


def require_price(price: object) -> Price:
    """``price`` if it is a positive ``Price``, else a refusal."""
    if not isinstance(price, Price) or price.units <= 0:
        raise MatchingError(MatchingReason.INVALID_PRICE, "a limit price must be positive")
    return price


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution between a resting (maker) and an incoming (taker) order."""

    symbol: str
    maker_order_id: str
    taker_order_id: str
    maker_account: str
    taker_account: str
    price: Price
    quantity: int
    aggressor_side: Side
    sequence: int


@dataclass(frozen=True, slots=True)
class OrderState:
    """An order as the book sees it: how much filled, how much is still working."""

    order_id: str
    symbol: str
    account: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    limit_price: Price | None
    quantity: int
    filled_quantity: int
    remaining_quantity: int
    status: OrderStatus
    sequence: int


@dataclass(frozen=True, slots=True)
class Cancellation:
    """Quantity of an order taken out of the book unfilled, and why."""

    order_id: str
    symbol: str
    account: str
    side: Side
    cancelled_quantity: int
    filled_quantity: int
    reason: CancelReason


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """What one submit (or a re-queueing modify) did: fills, cancellations, final state."""

    order: OrderState
    fills: tuple[Fill, ...]
    cancellations: tuple[Cancellation, ...]


@dataclass(frozen=True, slots=True)
class DepthLevel:
    """One aggregated price level: total open quantity and number of orders."""

    price: Price
    quantity: int
    orders: int


@dataclass(frozen=True, slots=True)
class Depth:
    """The top levels of both sides, best price first."""

    symbol: str
    bids: tuple[DepthLevel, ...]
    asks: tuple[DepthLevel, ...]
