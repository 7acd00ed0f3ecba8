"""What an account holder reads about their own account: orders, fills, positions.

``AccountReads`` answers for the caller: the desk finds their account (403 without one)
and their order (404 for another account's); the queries below read the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.trading.models import ExecutionRow, OrderRow, PositionRow
from tradeguard.trading.orders.loader import OPEN_STATUSES

if TYPE_CHECKING:
    from tradeguard.trading.desk_port import DeskPort

OrderState = Literal["open", "closed", "all"]


@dataclass(frozen=True, slots=True)
class AccountReads:
    """The caller's own orders, fills and positions, over the trading desk."""

    desk: DeskPort

    def orders(self, db: Session, caller: Caller, wanted: OrderFilter) -> Sequence[OrderRow]:
        """The caller's orders that ``wanted`` selects, newest first."""
        return orders_of(db, self.desk.account_id(db, caller), wanted)

    def executions(self, db: Session, caller: Caller, order_id: str) -> Sequence[ExecutionRow]:
        """Every fill of one of the caller's orders, oldest first."""
        return executions_of(db, self.desk.own_order(db, caller, order_id))

    def positions(self, db: Session, caller: Caller) -> Sequence[PositionRow]:
        """Every symbol the caller's account holds or is short, by symbol."""
        return positions_of(db, self.desk.account_id(db, caller))

    def market_prices(self, symbols: Iterable[str]) -> dict[str, int | None]:
        """The reference price of each symbol now (None for one without a price)."""
        return self.desk.market_prices(list(symbols))


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
