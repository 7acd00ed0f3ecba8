"""The trading tables: instruments, accounts, positions, orders, executions and controls.

Prices are integer units of 1/10,000 dollar, money is integer cents, quantities whole
shares (``tradeguard.core.money``). An account row also keeps the risk bookkeeping the
checks need across restarts (unsettled proceeds, the day's activity, day trades) as a
JSON document written in the same transaction as the execution that changed it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.db.base import Base

ID_LENGTH = 36
SYMBOL_LENGTH = 16
CLIENT_ORDER_ID_LENGTH = 64


class InstrumentRow(Base):
    """A tradable security and the reference data the pre-trade checks read."""

    __tablename__ = "instruments"

    symbol: Mapped[str] = mapped_column(String(SYMBOL_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    tier: Mapped[int] = mapped_column(Integer)
    tick_size: Mapped[int] = mapped_column(BigInteger)
    lot_size: Mapped[int] = mapped_column(Integer)
    reference_price: Mapped[int | None] = mapped_column(BigInteger)
    reference_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    threshold: Mapped[bool] = mapped_column(Boolean, default=False)
    easy_to_borrow: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    """``active``, ``halted`` (a venue halt from the reference data) or ``inactive``."""
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)


class TradingAccount(Base):
    """A user's brokerage account: its kind, standing, cash and risk bookkeeping."""

    __tablename__ = "trading_accounts"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    trading_permission: Mapped[bool] = mapped_column(Boolean, default=True)
    settled_cash_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    unsettled_cash_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    equity_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    pdt_restricted_until_ns: Mapped[int | None] = mapped_column(BigInteger)
    risk_state: Mapped[str] = mapped_column(Text, default="{}")
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)


class AccountRestrictionRow(Base):
    """One reason an account is restricted, held by whoever placed it until they lift it.

    The account's status stays ``restricted`` while any of its restrictions stands.
    """

    __tablename__ = "account_restrictions"

    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("trading_accounts.id"), primary_key=True
    )
    holder: Mapped[str] = mapped_column(String(32), primary_key=True)
    """``sanctions``, ``ach_return``, ``staff`` (``trading/controls/restrictions.py``)."""
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(96))
    placed_at_ns: Mapped[int] = mapped_column(BigInteger)


class PositionRow(Base):
    """Signed shares held in one symbol and their signed cost in cents."""

    __tablename__ = "positions"

    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("trading_accounts.id"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(String(SYMBOL_LENGTH), primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    cost_cents: Mapped[int] = mapped_column(BigInteger)
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)


class OrderRow(Base):
    """An accepted order and where it stands; ``client_order_id`` is unique per account."""

    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("account_id", "client_order_id"),
        # The open orders are a few among all ever placed: the desk's start and the
        # expiry at the close find them through it, not by reading the whole table.
        Index("ix_orders_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("trading_accounts.id"), index=True
    )
    client_order_id: Mapped[str] = mapped_column(String(CLIENT_ORDER_ID_LENGTH))
    symbol: Mapped[str] = mapped_column(String(SYMBOL_LENGTH))
    side: Mapped[str] = mapped_column(String(12))
    type: Mapped[str] = mapped_column(String(8))
    time_in_force: Mapped[str] = mapped_column(String(4))
    quantity: Mapped[int] = mapped_column(BigInteger)
    limit_price: Mapped[int | None] = mapped_column(BigInteger)
    placed_quantity: Mapped[int] = mapped_column(BigInteger)
    placed_limit_price: Mapped[int | None] = mapped_column(BigInteger)
    """The terms as first placed (a retried submit must repeat them, even after a modify)."""
    reserve_price: Mapped[int] = mapped_column(BigInteger, default=0)
    """The price buying power was held at when the order was accepted (restored on restart)."""
    filled_quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    filled_units: Mapped[int] = mapped_column(BigInteger, default=0)
    """Sum of price units times shares over the fills (the average price, exactly)."""
    status: Mapped[str] = mapped_column(String(20))
    cancel_reason: Mapped[str | None] = mapped_column(String(20))
    book_sequence: Mapped[int] = mapped_column(BigInteger, default=0)
    """The order's place in its price level's time priority (re-queued by some modifies)."""
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)
    placed_via: Mapped[str] = mapped_column(String(48))
    """``session`` or the public id of the API key that placed the order."""


class ExecutionRow(Base):
    """One side of a trade: an order filled ``quantity`` at ``price``."""

    __tablename__ = "executions"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    trade_sequence: Mapped[int] = mapped_column(BigInteger, index=True)
    order_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("orders.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    symbol: Mapped[str] = mapped_column(String(SYMBOL_LENGTH))
    side: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[int] = mapped_column(BigInteger)
    liquidity: Mapped[str] = mapped_column(String(8))
    """``maker`` (the resting order) or ``taker`` (the incoming one)."""
    executed_at_ns: Mapped[int] = mapped_column(BigInteger)


class LocateRow(Base):
    """A stock-loan locate: shares an account may still sell short in a symbol, until expiry."""

    __tablename__ = "locates"

    account_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("trading_accounts.id"), primary_key=True
    )
    symbol: Mapped[str] = mapped_column(String(SYMBOL_LENGTH), primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    expires_at_ns: Mapped[int] = mapped_column(BigInteger)
    granted_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    granted_at_ns: Mapped[int] = mapped_column(BigInteger)


class TradingStateRow(Base):
    """A kill switch that is not ACTIVE: platform (key ``*``), symbol or account."""

    __tablename__ = "trading_states"

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    state: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(200))
    set_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    set_at_ns: Mapped[int] = mapped_column(BigInteger)


class RiskLimitRow(Base):
    """One limit value: firm-wide (``firm``), per tier (``tier:N``) or per account."""

    __tablename__ = "risk_limits"

    scope: Mapped[str] = mapped_column(String(48), primary_key=True)
    name: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    updated_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)


class CloseoutObligationRow(Base):
    """The firm's open Reg SHO close-out obligation in a threshold security."""

    __tablename__ = "closeout_obligations"

    symbol: Mapped[str] = mapped_column(String(SYMBOL_LENGTH), primary_key=True)
    shares: Mapped[int] = mapped_column(BigInteger)
    fails_since_ns: Mapped[int] = mapped_column(BigInteger)
    updated_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)
