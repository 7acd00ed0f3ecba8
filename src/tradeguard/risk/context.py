"""The in-memory risk state: accounts, instruments, trading states and Reg SHO obligations.

The trading core owns one ``RiskContext`` per partition and keeps it true: it calls
``accept`` for every order the engine let through, ``cancel`` and ``fill`` as the
matching engine reports. The checks only read it.
"""

from __future__ import annotations

from collections import deque

from tradeguard.core.clock import NS_PER_SECOND, Clock
from tradeguard.risk.account import AccountRisk, OpenOrder
from tradeguard.risk.model import (
    DAY_NS,
    AccountKind,
    Instrument,
    Locate,
    OrderRequest,
    RiskLimits,
    TradingState,
)
from tradeguard.risk.order_terms import Side
from tradeguard.risk.pricing import business_day, cost_cents, reservation_price

_FINGERPRINT_PRUNE_SIZE = 64


class UnknownOrderError(KeyError):
    """An order id the context does not hold."""


class RiskContext:
    """The state the pre-trade checks read, and the updates that keep it true."""

    def __init__(self, limits: RiskLimits, clock: Clock) -> None:
        self.limits = limits
        self.clock = clock
        self.accounts: dict[str, AccountRisk] = {}
        self.instruments: dict[str, Instrument] = {}
        self.global_state = TradingState.ACTIVE
        self.symbol_states: dict[str, TradingState] = {}
        self.account_states: dict[str, TradingState] = {}
        self.closeout_obligations: dict[str, int] = {}
        self._order_accounts: dict[str, str] = {}

    def add_account(self, account: AccountRisk) -> None:
        """Load (or replace) an account's risk state."""
        self.accounts[account.account_id] = account

    def add_instrument(self, instrument: Instrument) -> None:
        """Load (or replace, e.g. with a new reference price) an instrument."""
        self.instruments[instrument.symbol] = instrument

    def add_locate(self, account_id: str, locate: Locate) -> None:
        """Record a stock-loan locate for an account (replacing the symbol's previous one)."""
        self.accounts[account_id].locates[locate.symbol] = locate

    def set_closeout_obligation(self, symbol: str, shares: int) -> None:
        """Record the firm's open Reg SHO close-out obligation in ``symbol`` (0 clears it)."""
        if shares > 0:
            self.closeout_obligations[symbol] = shares
        else:
            self.closeout_obligations.pop(symbol, None)

    def flag_pattern_day_trader(self, account_id: str) -> None:
        """Restrict a pattern day trader for the configured number of days."""
        days = self.limits.pdt_restriction_days
        self.accounts[account_id].pdt_restricted_until_ns = self.clock.now_ns() + days * DAY_NS

    def reset_pattern_day_trader(self, account_id: str) -> None:
        """Lift a pattern-day-trader restriction (a compliance decision)."""
        self.accounts[account_id].pdt_restricted_until_ns = None

    def settle(self) -> None:
        """Move every sale's proceeds that have settled into settled cash."""
        today = business_day(self.clock.now_ns())
        for account in self.accounts.values():
            account.settle(today)

    def open_order(self, order_id: str) -> OpenOrder:
        """The open order with ``order_id``; ``UnknownOrderError`` if none."""
        account_id = self._order_accounts.get(order_id)
        if account_id is None:
            raise UnknownOrderError(order_id)
        return self.accounts[account_id].open_orders[order_id]

    def accept(self, order: OrderRequest, order_id: str | None = None) -> str:
        """Record an order the engine allowed (a modify replaces its order); returns its id."""
        return self.accepted(order, order_id).order_id

    def accepted(self, order: OrderRequest, order_id: str | None = None) -> OpenOrder:
        """``accept``, returning the open order it holds (its reservation price and all)."""
        account = self.accounts[order.account_id]
        if order.modifies is not None:
            self.cancel(order.modifies)
        new_order = self._add(account, order, order_id or _default_id(order), None)
        self._remember(account, order, new_order)
        return new_order

    def restore(self, order: OrderRequest, order_id: str, reserve_at: int | None) -> None:
        """Reopen a stored open order, holding buying power at the price it was accepted at.

        Restoring is not order flow: the order rate and duplicate windows do not see it.
        """
        self._add(self.accounts[order.account_id], order, order_id, reserve_at)

    def _add(
        self, account: AccountRisk, order: OrderRequest, order_id: str, reserve_at: int | None
    ) -> OpenOrder:
        new_order = self._open_order(account, order, order_id, reserve_at)
        account.open_orders[new_order.order_id] = new_order
        self._order_accounts[new_order.order_id] = account.account_id
        account.hold(new_order, 1)
        return new_order

    def cancel(self, order_id: str) -> None:
        """Release everything an open order holds and forget it."""
        order = self.open_order(order_id)
        account = self.accounts[self._order_accounts.pop(order_id)]
        account.hold(order, -1)
        del account.open_orders[order_id]

    def fill(self, order_id: str, quantity: int, price: int) -> None:
        """Book an execution of ``quantity`` shares at ``price`` against an open order."""
        order = self.open_order(order_id)
        if not 0 < quantity <= order.remaining or price <= 0:
            raise ValueError(f"fill of {quantity} at {price} does not fit order {order_id}")
        account = self.accounts[self._order_accounts[order_id]]
        account.book_fill(order, quantity, price, business_day(self.clock.now_ns()))
        if order.remaining == 0:
            del account.open_orders[order_id]
            del self._order_accounts[order_id]

    def _open_order(
        self, account: AccountRisk, order: OrderRequest, order_id: str, reserve_at: int | None
    ) -> OpenOrder:
        instrument = self.instruments[order.symbol]
        price = reserve_at or reservation_price(self.limits, instrument, order)
        if price is None:
            raise ValueError(f"order {order_id} has no price to reserve at")
        new_order = OpenOrder(
            order_id=order_id,
            symbol=order.symbol,
            side=order.side,
            price=price,
            remaining=order.quantity,
            uses_buying_power=uses_buying_power(account, order),
            fingerprint=(order.side, order.symbol, order.quantity, order.limit_price),
        )
        new_order.reserved_cents = new_order.worst_reserved()
        new_order.open_notional_cents = cost_cents(price * order.quantity)
        return new_order

    def _remember(self, account: AccountRisk, order: OrderRequest, new_order: OpenOrder) -> None:
        now = self.clock.now_ns()
        _append_recent(account.recent_order_ns, now)
        symbol_stamps = account.recent_symbol_ns.get(order.symbol)
        if symbol_stamps is None:  # not ``setdefault``: that builds a deque on every call
            symbol_stamps = account.recent_symbol_ns[order.symbol] = deque()
        _append_recent(symbol_stamps, now)
        fingerprints = account.recent_fingerprints
        fingerprints[new_order.fingerprint] = now
        if len(fingerprints) > _FINGERPRINT_PRUNE_SIZE:
            oldest = now - self.limits.duplicate_window_ns
            for stale in [key for key, seen in fingerprints.items() if seen < oldest]:
                del fingerprints[stale]


def uses_buying_power(account: AccountRisk, order: OrderRequest) -> bool:
    """Whether an order (once it replaced its ``modifies``) must be paid for with buying power.

    Cash accounts pay for every buy. Margin accounts post Reg T margin for orders that
    open or add to a position: buys that do not only cover a short, short sales that do
    not only reduce a long.
    """
    if account.kind is AccountKind.CASH:
        return order.side is Side.BUY
    return not reduces_position(account, order)


def reduces_position(account: AccountRisk, order: OrderRequest) -> bool:
    """Whether the order, with the open orders on its side, can only shrink ``|position|``."""
    position = account.position_quantity(order.symbol)
    quantities = account.open_quantities.get(order.symbol)
    replaced = account.open_orders.get(order.modifies) if order.modifies is not None else None
    pending_replaced = replaced.remaining if replaced is not None else 0
    if order.side is Side.BUY:
        pending = (quantities.buy if quantities is not None else 0) - pending_replaced
        return position < 0 and pending + order.quantity <= -position
    pending = (quantities.sell if quantities is not None else 0) - pending_replaced
    return position > 0 and pending + order.quantity <= position


def _append_recent(stamps: deque[int], now: int) -> None:
    stamps.append(now)
    while stamps[0] <= now - NS_PER_SECOND:
        stamps.popleft()


def _default_id(order: OrderRequest) -> str:
    return f"{order.account_id}/{order.client_order_id}"
