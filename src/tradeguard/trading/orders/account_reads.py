"""What an account holder reads about their own account: orders, fills, positions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.trading.models import ExecutionRow, OrderRow, PositionRow
from tradeguard.trading.orders.loader import OPEN_STATUSES

OrderState = Literal["open", "closed", "all"]


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """Which of an account's orders to list: state, symbol, and a page before an order id."""

    state: OrderState = "all"
    symbol: str | None = None
    before: str | None = None
    limit: int = 100


def orders_of(db: Session, account_id: str, wanted: OrderFilter) -> Sequence[OrderRow]:
    """The account's orders that ``wanted`` selects, newest first."""
    query = select(OrderRow).where(OrderRow.account_id == account_id)
    if wanted.state == "open":
        query = query.where(OrderRow.status.in_(OPEN_STATUSES))
    elif wanted.state == "closed":
        query = query.where(OrderRow.status.not_in(OPEN_STATUSES))
    if wanted.symbol is not None:
        query = query.where(OrderRow.symbol == wanted.symbol)
    if wanted.before is not None:
        query = query.where(OrderRow.id < wanted.before)
    return db.scalars(query.order_by(OrderRow.id.desc()).limit(wanted.limit)).all()


def executions_of(db: Session, order: OrderRow) -> Sequence[ExecutionRow]:
    """Every fill of ``order``, oldest first."""
    query = select(ExecutionRow).where(ExecutionRow.order_id == order.id)
    return db.scalars(query.order_by(ExecutionRow.id)).all()


def positions_of(db: Session, account_id: str) -> Sequence[PositionRow]:
    """Every symbol the account holds or is short, by symbol."""
    query = select(PositionRow).where(PositionRow.account_id == account_id)
    return db.scalars(query.order_by(PositionRow.symbol)).all()
