"""Request and response shapes of the order, position and account routes.

Prices and money are decimal strings (``"187.25"``), never JSON numbers; quantities are
whole shares. Order and execution views are also the payloads of the order feed.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, model_validator

from tradeguard.core.money import MoneyStr, PriceStr
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.web.bodies import Body

ClientOrderId = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:\-]+$")
]
Symbol = Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=r"^[A-Z0-9.\-]+$")]
MAX_SHARES = 10**9


class PlaceOrderRequest(Body):
    """A new order. ``limit_price`` is required for limit orders and absent for market orders."""

    client_order_id: ClientOrderId = Field(
        description="Your id for the order, unique per account: a retry returns the original"
    )
    symbol: Symbol
    side: Side
    type: OrderType
    quantity: int = Field(gt=0, le=MAX_SHARES, strict=True)
    limit_price: PriceStr | None = None
    time_in_force: TimeInForce | None = Field(
        default=None, description="Limit orders default to day; market orders are always ioc"
    )

    @model_validator(mode="after")
    def _terms_fit_type(self) -> PlaceOrderRequest:
        if (self.type is OrderType.LIMIT) != (self.limit_price is not None):
            raise ValueError("limit orders need limit_price; market orders must not have one")
        if self.type is OrderType.MARKET and self.time_in_force not in (None, TimeInForce.IOC):
            raise ValueError("a market order never rests: its time_in_force can only be ioc")
        return self

    @property
    def effective_time_in_force(self) -> TimeInForce:
        """The time in force the order trades with."""
        if self.time_in_force is not None:
            return self.time_in_force
        return TimeInForce.IOC if self.type is OrderType.MARKET else TimeInForce.DAY


class ModifyOrderRequest(Body):
    """A new limit price and/or a new total quantity (above what has filled)."""

    limit_price: PriceStr | None = None
    quantity: int | None = Field(default=None, gt=0, le=MAX_SHARES, strict=True)

    @model_validator(mode="after")
    def _changes_something(self) -> ModifyOrderRequest:
        if self.limit_price is None and self.quantity is None:
            raise ValueError("give limit_price, quantity or both")
        return self


class OrderView(BaseModel):
    """An order as its owner sees it."""

    id: str
    client_order_id: str
    symbol: str
    side: Side
    type: OrderType
    time_in_force: TimeInForce
    quantity: int
    limit_price: PriceStr | None
    filled_quantity: int
    remaining_quantity: int
    average_price: PriceStr | None = Field(description="Rounded to 1/10,000 dollar")
    status: str = Field(description="open, partially_filled, filled or cancelled")
    cancel_reason: str | None
    created_at: str
    updated_at: str


class ExecutionView(BaseModel):
    """One fill of one of the owner's orders."""

    id: str
    order_id: str
    symbol: str
    side: Side
    quantity: int
    price: PriceStr
    liquidity: str = Field(description="maker (resting order) or taker")
    executed_at: str


class PositionView(BaseModel):
    """Shares held (negative: short) and their cost."""

    symbol: str
    quantity: int
    cost: MoneyStr = Field(description="Paid for a long position, minus received for a short")
    market_price: PriceStr | None = Field(description="The reference price; null without one")
    market_value: MoneyStr | None = Field(description="Quantity times the market price")
    unrealized_pnl: MoneyStr | None = Field(description="Market value minus cost")


class AccountView(BaseModel):
    """The caller's brokerage account: standing, cash and what it may still spend."""

    id: str
    kind: str
    status: str
    trading_state: str
    cash: MoneyStr = Field(description="Settled plus unsettled cash")
    settled_cash: MoneyStr
    unsettled_cash: MoneyStr
    reserved_cash: MoneyStr = Field(description="Held for open orders")
    equity: MoneyStr = Field(description="Cash plus positions at cost")
    market_value: MoneyStr | None = Field(
        description="Positions at their reference prices; null while one has no price"
    )
    unrealized_pnl: MoneyStr | None = Field(description="Market value minus the positions' cost")
    equity_at_market: MoneyStr | None = Field(description="Cash plus the market value")
    day_trades: int = Field(description="Day trades over the last 5 business days")
    pattern_day_trader_restricted_until: str | None
