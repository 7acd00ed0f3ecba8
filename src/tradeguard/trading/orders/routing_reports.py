"""Rule 606 reports from the stored orders and executions.

Every order is a held, non-directed order handled in the internal order book, the only
venue so far. An order's 606 type comes from how it was handled: a market order; a
limit order that traded on arrival (an execution as taker at the moment it was placed)
is a marketable limit order; any other limit order is non-marketable. Tier 1
instruments stand for the S&P 500 section.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.core.clock import datetime_to_ns, ns_to_datetime
from tradeguard.market.rule606 import (
    OrderKind,
    Quarter,
    RoutedOrder,
    Venue,
    customer_routing_report,
    held_order_report,
)
from tradeguard.risk.order_terms import OrderType
from tradeguard.trading.models import ExecutionRow, InstrumentRow, OrderRow

INTERNAL_BOOK = Venue("TradeGuard internal order book")
CUSTOMER_REPORT_DAYS = 183
"""606(b)(1) covers the six months before the request."""
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


def quarterly_report(db: Session, broker: str, quarter: Quarter, now_ns: int) -> bytes:
    """The 606(a)(1) held-order report of ``quarter`` over every account's orders."""
    last = quarter.months()[-1]
    first = datetime(quarter.year, last - 2, 1, tzinfo=UTC)
    following = datetime(quarter.year + last // 12, last % 12 + 1, 1, tzinfo=UTC)
    query = select(OrderRow).where(
        OrderRow.created_at_ns >= datetime_to_ns(first),
        OrderRow.created_at_ns < datetime_to_ns(following),
    )
    orders = db.scalars(query.order_by(OrderRow.id)).all()
    return held_order_report(broker, quarter, routed_orders(db, orders), now_ns)


def customer_report(db: Session, broker: str, account_id: str, now_ns: int) -> bytes:
    """The 606(b)(1) report of one account's orders over the last six months."""
    end = ns_to_datetime(now_ns).date()
    start = end - timedelta(days=CUSTOMER_REPORT_DAYS)
    query = select(OrderRow).where(OrderRow.account_id == account_id)
    orders = db.scalars(query.order_by(OrderRow.id)).all()
    return customer_routing_report(
        account_id,
        broker,
        start=start,
        end=end,
        orders=routed_orders(db, orders),
        now_ns=now_ns,
    )


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
