"""Stored orders as Rule 606 records, before routing: each in the internal order book.

Every order is a held, non-directed order. Its 606 type, when no routing decision gave
one, comes from how it was handled: a market order; a limit order that traded on arrival
(an execution as taker at the moment it was placed) is a marketable limit order; any
other limit order is non-marketable. Tier 1 instruments stand for the S&P 500 section.
``routing.disclosure`` adds what the routing records say and makes the reports.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.market.rule606 import OrderKind, RoutedOrder, Venue
from tradeguard.risk.order_terms import OrderType
from tradeguard.trading.models import ExecutionRow, InstrumentRow, OrderRow

INTERNAL_BOOK = Venue("TradeGuard internal order book")
SP500_TIER = 1
LOOKUP_CHUNK = 500


def routed_orders(db: Session, orders: Sequence[OrderRow]) -> list[RoutedOrder]:
    """``orders`` as 606 records, with their executions' times and their kinds."""
    executions = _executions(db, [order.id for order in orders])
    tiers: dict[str, int] = dict(db.execute(select(InstrumentRow.symbol, InstrumentRow.tier)).all())
    return [
        RoutedOrder(
            order_id=order.id,
            placed_at_ns=order.created_at_ns,
            sp500=tiers.get(order.symbol) == SP500_TIER,
            kind=_kind(order, executions.get(order.id, [])),
            venue=INTERNAL_BOOK,
            executed_at_ns=tuple(row.executed_at_ns for row in executions.get(order.id, [])),
        )
        for order in orders
    ]


def _kind(order: OrderRow, executions: Sequence[ExecutionRow]) -> OrderKind:
    if order.type == OrderType.MARKET:
        return OrderKind.MARKET
    on_arrival = any(
        row.liquidity == "taker" and row.executed_at_ns == order.created_at_ns for row in executions
    )
    return OrderKind.MARKETABLE_LIMIT if on_arrival else OrderKind.NON_MARKETABLE_LIMIT


def _executions(db: Session, order_ids: Sequence[str]) -> dict[str, list[ExecutionRow]]:
    found: dict[str, list[ExecutionRow]] = {}
    for start in range(0, len(order_ids), LOOKUP_CHUNK):
        chunk = order_ids[start : start + LOOKUP_CHUNK]
        query = select(ExecutionRow).where(ExecutionRow.order_id.in_(chunk))
        for row in db.scalars(query.order_by(ExecutionRow.id)):
            found.setdefault(row.order_id, []).append(row)
    return found
