"""Stored orders, executions, positions and accounts as their owner sees them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.money import Money, Price, Rounding, divide_rounded
from tradeguard.risk.account import AccountRisk
from tradeguard.risk.model import Instrument
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.trading.models import ExecutionRow, OrderRow, PositionRow
from tradeguard.trading.orders.schemas import AccountView, ExecutionView, OrderView, PositionView


def order_status(row: OrderRow) -> str:
    """Where an order stands, from its fills and whether it left the book."""
    if row.cancel_reason is not None:
        return "cancelled"
    if row.filled_quantity >= row.quantity:
        return "filled"
    return "partially_filled" if row.filled_quantity else "open"


def order_view(row: OrderRow) -> OrderView:
    """An order for the REST API and the feed."""
    average = (
        Price(divide_rounded(row.filled_units, row.filled_quantity, Rounding.HALF_EVEN))
        if row.filled_quantity
        else None
    )
    return OrderView(
        id=row.id,
        client_order_id=row.client_order_id,
        symbol=row.symbol,
        side=Side(row.side),
        type=OrderType(row.type),
        time_in_force=TimeInForce(row.time_in_force),
        quantity=row.quantity,
        limit_price=None if row.limit_price is None else Price(row.limit_price),
        filled_quantity=row.filled_quantity,
        remaining_quantity=0 if row.cancel_reason else row.quantity - row.filled_quantity,
        average_price=average,
        status=row.status,
        cancel_reason=row.cancel_reason,
        created_at=ns_to_rfc3339(row.created_at_ns),
        updated_at=ns_to_rfc3339(row.updated_at_ns),
    )


def order_json(row: OrderRow) -> dict[str, Any]:
    """``order_view(row)`` as JSON, built directly: the feed sends one per touched order."""
    filled = row.filled_quantity
    average = (
        str(Price(divide_rounded(row.filled_units, filled, Rounding.HALF_EVEN))) if filled else None
    )
    return {
        "id": row.id,
        "client_order_id": row.client_order_id,
        "symbol": row.symbol,
        "side": row.side,
        "type": row.type,
        "time_in_force": row.time_in_force,
        "quantity": row.quantity,
        "limit_price": None if row.limit_price is None else str(Price(row.limit_price)),
        "filled_quantity": filled,
        "remaining_quantity": 0 if row.cancel_reason else row.quantity - filled,
        "average_price": average,
        "status": row.status,
        "cancel_reason": row.cancel_reason,
        "created_at": ns_to_rfc3339(row.created_at_ns),
        "updated_at": ns_to_rfc3339(row.updated_at_ns),
    }


def execution_view(row: ExecutionRow) -> ExecutionView:
    """One fill for the REST API and the feed."""
    return ExecutionView(
        id=row.id,
        order_id=row.order_id,
        symbol=row.symbol,
        side=Side(row.side),
        quantity=row.quantity,
        price=Price(row.price),
        liquidity=row.liquidity,
        executed_at=ns_to_rfc3339(row.executed_at_ns),
    )


def execution_json(row: ExecutionRow) -> dict[str, Any]:
    """``execution_view(row)`` as JSON, built directly for the feed."""
    return {
        "id": row.id,
        "order_id": row.order_id,
        "symbol": row.symbol,
        "side": row.side,
        "quantity": row.quantity,
        "price": str(Price(row.price)),
        "liquidity": row.liquidity,
        "executed_at": ns_to_rfc3339(row.executed_at_ns),
    }


def position_view(row: PositionRow, market_price: int | None) -> PositionView:
    """One position, valued at ``market_price`` (the reference price) when there is one."""
    value = None if market_price is None else market_value_cents(row.quantity, market_price)
    return PositionView(
        symbol=row.symbol,
        quantity=row.quantity,
        cost=Money(row.cost_cents),
        market_price=None if market_price is None else Price(market_price),
        market_value=None if value is None else Money(value),
        unrealized_pnl=None if value is None else Money(value - row.cost_cents),
    )


def market_value_cents(quantity: int, price: int) -> int:
    """What ``quantity`` shares (negative: short) are worth at ``price``, in cents."""
    return Price(price).notional(quantity).cents


def marked_value_cents(account: AccountRisk, instruments: Mapping[str, Instrument]) -> int | None:
    """The account's positions at their reference prices; None if one has no price."""
    total = 0
    for symbol, position in account.positions.items():
        if not position.quantity:
            continue
        instrument = instruments.get(symbol)
        if instrument is None or instrument.reference_price is None:
            return None
        total += market_value_cents(position.quantity, instrument.reference_price)
    return total


def account_view(
    account: AccountRisk,
    *,
    trading_state: str,
    day_trades: int,
    now_ns: int,
    instruments: Mapping[str, Instrument],
) -> AccountView:
    """The account as the risk checks see it right now, its positions marked to market."""
    until = account.pdt_restricted_until_ns
    value = marked_value_cents(account, instruments)
    cash = account.settled_cash_cents + account.unsettled_cash_cents
    at_cost = account.equity_cents - cash
    return AccountView(
        id=account.account_id,
        kind=account.kind.value,
        status=account.status.value,
        trading_state=trading_state,
        cash=Money(account.settled_cash_cents + account.unsettled_cash_cents),
        settled_cash=Money(account.settled_cash_cents),
        unsettled_cash=Money(account.unsettled_cash_cents),
        reserved_cash=Money(account.reserved_cents),
        equity=Money(account.equity_cents),
        market_value=None if value is None else Money(value),
        unrealized_pnl=None if value is None else Money(value - at_cost),
        equity_at_market=None if value is None else Money(cash + value),
        day_trades=day_trades,
        pattern_day_trader_restricted_until=(
            ns_to_rfc3339(until) if until is not None and until > now_ns else None
        ),
    )
