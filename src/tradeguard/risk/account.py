"""One account's risk state and the bookkeeping that keeps it true as orders fill.

Cash and equity are cents. A position keeps its signed share count and its signed cost
in cents (long: what was paid; short: minus what was received), so closing part of it
realises ``cash received - cost removed`` exactly and equity always equals
``settled + unsettled cash + the positions at cost`` plus whatever the owner marked.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from tradeguard.core.money import Rounding, divide_rounded
from tradeguard.risk.model import AccountKind, AccountStatus, Locate
from tradeguard.risk.order_terms import Side
from tradeguard.risk.pricing import cost_cents, proceeds_cents

Fingerprint = tuple[Side, str, int, int | None]


@dataclass(slots=True)
class Position:
    """A signed share count and its signed cost in cents."""

    quantity: int = 0
    cost_cents: int = 0

    def apply(self, delta: int, cash_flow: int) -> tuple[int, int]:
        """Trade ``delta`` shares for ``cash_flow`` cents; returns (shares closed, opened)."""
        closing = min(abs(delta), abs(self.quantity)) if delta * self.quantity < 0 else 0
        if closing:
            closing_flow = divide_rounded(cash_flow * closing, abs(delta), Rounding.DOWN)
            removed = divide_rounded(self.cost_cents * closing, abs(self.quantity), Rounding.DOWN)
            self.cost_cents -= removed
            self.quantity += closing if delta > 0 else -closing
            cash_flow -= closing_flow
        opening = abs(delta) - closing
        if opening:
            self.cost_cents -= cash_flow
            self.quantity += opening if delta > 0 else -opening
        return closing, opening


@dataclass(slots=True)
class OpenQuantities:
    """Shares on open orders in one symbol: buys, all sells, and short sales among them."""

    buy: int = 0
    sell: int = 0
    short: int = 0

    def add(self, side: Side, shares: int) -> None:
        """Count ``shares`` (negative to remove) on ``side``."""
        if side is Side.BUY:
            self.buy += shares
            return
        self.sell += shares
        if side is Side.SELL_SHORT:
            self.short += shares


@dataclass(slots=True)
class OpenOrder:
    """An accepted order still working, with the money it holds."""

    order_id: str
    symbol: str
    side: Side
    price: int
    remaining: int
    uses_buying_power: bool
    fingerprint: Fingerprint
    filled_exact: int = 0
    settled_cents: int = 0
    reserved_cents: int = 0
    open_notional_cents: int = 0
    day_traded: bool = False

    def worst_reserved(self) -> int:
        """Buying power this order still needs at worst (0 if it needs none)."""
        if not self.uses_buying_power:
            return 0
        if self.side is Side.BUY:
            return cost_cents(self.filled_exact + self.price * self.remaining) - self.settled_cents
        return cost_cents(self.price * self.remaining)

    def record_fill(self, quantity: int, price: int) -> int:
        """Fill ``quantity`` at ``price``; returns the signed cash flow, rounded per order."""
        self.filled_exact += price * quantity
        self.remaining -= quantity
        if self.side is Side.BUY:
            total = cost_cents(self.filled_exact)
            flow = self.settled_cents - total
        else:
            total = proceeds_cents(self.filled_exact)
            flow = total - self.settled_cents
        self.settled_cents = total
        return flow


@dataclass(slots=True)
class AccountRisk:
    """Everything the checks know about one account."""

    account_id: str
    kind: AccountKind
    status: AccountStatus = AccountStatus.ACTIVE
    trading_permission: bool = True
    mfa_enrolled: bool = True
    settled_cash_cents: int = 0
    unsettled_cash_cents: int = 0
    reserved_cents: int = 0
    equity_cents: int = 0
    gross_cost_cents: int = 0
    open_notional_cents: int = 0
    positions: dict[str, Position] = field(default_factory=dict)
    open_orders: dict[str, OpenOrder] = field(default_factory=dict)
    open_quantities: dict[str, OpenQuantities] = field(default_factory=dict)
    unsettled: deque[tuple[int, int]] = field(default_factory=deque)
    activity_day: int = -1
    executed_today_cents: int = 0
    opened_today: dict[str, int] = field(default_factory=dict)
    day_trade_days: list[int] = field(default_factory=list)
    pdt_restricted_until_ns: int | None = None
    recent_order_ns: deque[int] = field(default_factory=deque)
    recent_symbol_ns: dict[str, deque[int]] = field(default_factory=dict)
    recent_fingerprints: dict[Fingerprint, int] = field(default_factory=dict)
    locates: dict[str, Locate] = field(default_factory=dict)

    def position_quantity(self, symbol: str) -> int:
        """The signed shares held in ``symbol``."""
        position = self.positions.get(symbol)
        return 0 if position is None else position.quantity

    def executed_today(self, today: int) -> int:
        """Cents executed on business day ``today``."""
        return self.executed_today_cents if self.activity_day == today else 0

    def day_trades(self, today: int, window: int) -> int:
        """Day trades over the ``window`` business days ending ``today``."""
        return sum(1 for day in self.day_trade_days if day > today - window)

    def opened_on(self, symbol: str, today: int) -> int:
        """Shares of ``symbol`` opened on business day ``today``."""
        return self.opened_today.get(symbol, 0) if self.activity_day == today else 0

    def hold(self, order: OpenOrder, sign: int) -> None:
        """Add (``sign`` 1) or release (-1) what an open order holds."""
        self.reserved_cents += sign * order.reserved_cents
        self.open_notional_cents += sign * order.open_notional_cents
        quantities = self.open_quantities.get(order.symbol)
        if quantities is None:  # not ``setdefault``: that builds one on every call
            quantities = self.open_quantities[order.symbol] = OpenQuantities()
        quantities.add(order.side, sign * order.remaining)

    def settle(self, today: int) -> None:
        """Move sale proceeds due on or before business day ``today`` into settled cash."""
        while self.unsettled and self.unsettled[0][0] <= today:
            _, cents = self.unsettled.popleft()
            self.unsettled_cash_cents -= cents
            self.settled_cash_cents += cents

    def book_fill(self, order: OpenOrder, quantity: int, price: int, today: int) -> None:
        """Move one execution into cash, position, equity and the day's activity."""
        self.hold(order, -1)
        flow = order.record_fill(quantity, price)
        order.reserved_cents = order.worst_reserved()
        order.open_notional_cents = cost_cents(order.price * order.remaining)
        self.hold(order, 1)
        self._book_cash(order.side, flow, today)
        closed, opened = self._book_position(order.symbol, order.side, quantity, flow)
        self._book_activity(order, abs(flow), closed, opened, today)

    def _book_cash(self, side: Side, flow: int, today: int) -> None:
        if self.kind is AccountKind.CASH and side is not Side.BUY:
            # Sale proceeds settle T+1 and are no buying power until then.
            self.unsettled.append((today + 1, flow))
            self.unsettled_cash_cents += flow
        else:
            self.settled_cash_cents += flow

    def _book_position(self, symbol: str, side: Side, quantity: int, flow: int) -> tuple[int, int]:
        position = self.positions.setdefault(symbol, Position())
        cost_before = position.cost_cents
        delta = quantity if side is Side.BUY else -quantity
        closed, opened = position.apply(delta, flow)
        self.equity_cents += flow + position.cost_cents - cost_before
        self.gross_cost_cents += abs(position.cost_cents) - abs(cost_before)
        return closed, opened

    def _book_activity(
        self, order: OpenOrder, cents: int, closed: int, opened: int, today: int
    ) -> None:
        if self.activity_day != today:
            self.activity_day, self.executed_today_cents = today, 0
            self.opened_today.clear()
        self.executed_today_cents += cents
        if opened:
            self.opened_today[order.symbol] = self.opened_today.get(order.symbol, 0) + opened
        if closed and not order.day_traded and self.opened_today.get(order.symbol, 0) > 0:
            order.day_traded = True
            self.day_trade_days.append(today)
        if order.side is Side.SELL_SHORT:
            self._use_locate(order.symbol, opened)

    def _use_locate(self, symbol: str, shares: int) -> None:
        locate = self.locates.get(symbol)
        if locate is not None and shares:
            remaining = max(locate.quantity - shares, 0)
            self.locates[symbol] = Locate(symbol, remaining, locate.expires_at_ns)
