"""Rebuilds the desk's in-memory state (risk context and order books) from the database.

Runs at start-up and after any failure to persist an order event, so the memory always
matches what was committed. Open orders re-enter their books in their stored time
priority; the risk context holds their reservations again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradeguard.core.money import Price
from tradeguard.risk.context import RiskContext
from tradeguard.risk.engine import RiskEngine
from tradeguard.risk.model import Instrument, Locate, OrderRequest, RiskLimits, TradingState
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.trading.matching.engine import Exchange
from tradeguard.trading.matching.model import Order
from tradeguard.trading.models import (
    CloseoutObligationRow,
    InstrumentRow,
    LocateRow,
    OrderRow,
    PositionRow,
    TradingAccount,
    TradingStateRow,
)
from tradeguard.trading.orders.client_ids import ClientIdFilter
from tradeguard.trading.orders.risk_state import account_risk_of

OPEN_STATUSES = ("open", "partially_filled")
GLOBAL_KEY = "*"


@dataclass(slots=True)
class DeskState:
    """Everything the desk keeps in memory."""

    risk: RiskContext
    exchange: Exchange
    account_owners: dict[str, str]
    """Account id to the user who owns it."""
    user_accounts: dict[str, str]
    """User id to their account id."""
    sequence_base: int
    """Added to the books' arrival numbers so stored time priority increases across restarts."""
    instruments_seen_ns: int = 0
    """The newest instrument change loaded (later ones are picked up while running)."""
    client_ids: ClientIdFilter = field(default_factory=ClientIdFilter)
    """Every stored (account, client order id), approximately (see ``client_ids``)."""


def instrument_of(row: InstrumentRow) -> Instrument:
    """The risk engine's view of an instrument row."""
    return Instrument(
        symbol=row.symbol,
        tier=row.tier,
        tick_size=row.tick_size,
        lot_size=row.lot_size,
        reference_price=row.reference_price,
        reference_at_ns=row.reference_at_ns,
        restricted=row.restricted,
        threshold=row.threshold,
        easy_to_borrow=row.easy_to_borrow,
        halted=row.status != "active",
    )


def load_account(db: Session, risk: RiskContext, row: TradingAccount) -> None:
    """Put one account (cash, positions, locates; no orders) into the risk context."""
    positions = db.scalars(select(PositionRow).where(PositionRow.account_id == row.id))
    risk.add_account(account_risk_of(row, positions))
    for locate in db.scalars(select(LocateRow).where(LocateRow.account_id == row.id)):
        risk.add_locate(row.id, Locate(locate.symbol, locate.quantity, locate.expires_at_ns))


def open_day_orders(db: Session, created_before_ns: int) -> Sequence[OrderRow]:
    """The open DAY orders placed before ``created_before_ns`` (expired at the close)."""
    return db.scalars(
        select(OrderRow).where(
            OrderRow.status.in_(OPEN_STATUSES),
            OrderRow.time_in_force == TimeInForce.DAY.value,
            OrderRow.created_at_ns < created_before_ns,
        )
    ).all()


def load_desk_state(
    db: Session, engine: RiskEngine, limits: RiskLimits, away: Collection[str] = ()
) -> DeskState:
    """Read every account, instrument, control and open order into a fresh state.

    Orders in ``away`` are working at outside venues: held by the risk state, not booked.
    """
    risk = engine.new_context(limits)
    seen = 0
    for instrument in db.scalars(select(InstrumentRow)):
        risk.add_instrument(instrument_of(instrument))
        seen = max(seen, instrument.updated_at_ns)
    owners: dict[str, str] = {}
    for account in db.scalars(select(TradingAccount)):
        load_account(db, risk, account)
        owners[account.id] = account.user_id
    _load_controls(db, risk)
    exchange = Exchange()
    open_orders = db.scalars(
        select(OrderRow).where(OrderRow.status.in_(OPEN_STATUSES)).order_by(OrderRow.book_sequence)
    ).all()
    _reopen(risk, exchange, open_orders, away)
    base = max((row.book_sequence for row in open_orders), default=0)
    users = {user_id: account_id for account_id, user_id in owners.items()}
    return DeskState(risk, exchange, owners, users, base, seen, _client_ids(db))


def _client_ids(db: Session) -> ClientIdFilter:
    count = db.scalar(select(func.count()).select_from(OrderRow)) or 0
    known = ClientIdFilter(count)
    query = select(OrderRow.account_id, OrderRow.client_order_id)
    for account_id, client_order_id in db.execute(query.execution_options(yield_per=10_000)):
        known.add(account_id, client_order_id)
    return known


def _load_controls(db: Session, risk: RiskContext) -> None:
    for state in db.scalars(select(TradingStateRow)):
        level = TradingState(state.state)
        if state.scope == "global":
            risk.global_state = level
        elif state.scope == "symbol":
            risk.symbol_states[state.key] = level
        else:
            risk.account_states[state.key] = level
    for obligation in db.scalars(select(CloseoutObligationRow)):
        risk.set_closeout_obligation(obligation.symbol, obligation.shares)


def _reopen(
    risk: RiskContext, exchange: Exchange, rows: Iterable[OrderRow], away: Collection[str]
) -> None:
    for row in rows:
        remaining = row.quantity - row.filled_quantity
        risk.restore(request_of(row, remaining), row.id, row.reserve_price or None)
        if row.id not in away:
            exchange.submit(resting_order(row, remaining))


def resting_order(row: OrderRow, quantity: int) -> Order:
    """The book's order for a stored limit order with ``quantity`` still to trade."""
    return Order(
        order_id=row.id,
        symbol=row.symbol,
        account=row.account_id,
        side=Side(row.side),
        quantity=quantity,
        order_type=OrderType.LIMIT,
        limit_price=Price(row.limit_price or 0),
        time_in_force=TimeInForce(row.time_in_force),
    )


def request_of(row: OrderRow, quantity: int, modifies: str | None = None) -> OrderRequest:
    """The risk engine's request for a stored order (``quantity`` still to trade)."""
    return OrderRequest(
        account_id=row.account_id,
        symbol=row.symbol,
        side=Side(row.side),
        type=OrderType(row.type),
        quantity=quantity,
        limit_price=row.limit_price,
        tif=TimeInForce(row.time_in_force),
        client_order_id=row.client_order_id,
        modifies=modifies,
    )
