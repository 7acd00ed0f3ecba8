"""What the detectors share: every open order, each symbol's book, fills by group.

State is evicted as it ages: a closed order is forgotten once no detector can still need
it, fills older than ``memory_ns`` are dropped. The book keeps only open limit orders.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field

from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.events import BUY, OrderPlaced, TradeExecuted

SIZE_EMA_WEIGHT = 0.02


@dataclass(slots=True)
class Order:
    """An order as the detectors follow it."""

    order_id: str
    account: str
    group: str
    symbol: str
    side: str
    qty: int
    price: int | None
    placed: int
    changed: int
    filled: int = 0
    open: bool = True
    best_at_placement: int | None = None

    @property
    def remaining(self) -> int:
        """Shares still open."""
        left = self.qty - self.filled
        return left if self.open and left > 0 else 0


@dataclass(frozen=True, slots=True)
class Fill:
    """One side of a trade, as its group saw it."""

    ts: int
    order_id: str
    account: str
    side: str
    qty: int
    price: int
    opposite_open: int
    """The group's open shares on the other side of the book at that moment."""
    same_open: int
    """The group's open shares on this side, after the fill."""
    counterparty: str
    aggressor: bool
    """Whether this side's order arrived (or was last changed) after the other's."""
    opposite_levels: int = 0
    """Price levels of the group's open orders on the other side at that moment."""


@dataclass(slots=True)
class Book:
    """Open limit volume by price on each side of one symbol, with each side's best price.

    The best prices are kept as levels come and go: a new level is compared with the best,
    and only when the best level empties is the side scanned again (lazily, on the next
    ``best``), so a placement does not scan every level of the book.
    """

    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)
    last_price: int | None = None
    best_bid: int | None = None
    best_ask: int | None = None
    _stale_bid: bool = False
    _stale_ask: bool = False

    def levels(self, side: str) -> dict[int, int]:
        """The side's price levels."""
        return self.bids if side == BUY else self.asks

    def add(self, side: str, price: int | None, qty: int) -> None:
        """Add (or, with a negative ``qty``, take away) open volume at a price."""
        if price is None or qty == 0:
            return
        if side == BUY:
            self.add_bid(price, qty)
        else:
            self.add_ask(price, qty)

    def add_bid(self, price: int, qty: int) -> None:
        """``add`` on the bid side, for a price that is set and a change that is not zero."""
        levels = self.bids
        left = levels.get(price, 0) + qty
        if left > 0:
            levels[price] = left
            best = self.best_bid
            if not self._stale_bid and (best is None or price > best):
                self.best_bid = price
        elif levels.pop(price, None) is not None and price == self.best_bid:
            self._stale_bid = True

    def add_ask(self, price: int, qty: int) -> None:
        """``add`` on the ask side, for a price that is set and a change that is not zero."""
        levels = self.asks
        left = levels.get(price, 0) + qty
        if left > 0:
            levels[price] = left
            best = self.best_ask
            if not self._stale_ask and (best is None or price < best):
                self.best_ask = price
        elif levels.pop(price, None) is not None and price == self.best_ask:
            self._stale_ask = True

    def best(self, side: str) -> int | None:
        """The best price on a side (highest bid, lowest ask)."""
        if side == BUY:
            if self._stale_bid:
                self.best_bid = max(self.bids) if self.bids else None
                self._stale_bid = False
            return self.best_bid
        if self._stale_ask:
            self.best_ask = min(self.asks) if self.asks else None
            self._stale_ask = False
        return self.best_ask


class Market:
    """Orders, books, open volume per group and side, recent fills per group and symbol."""

    def __init__(self, directory: AccountDirectory, memory_ns: int) -> None:
        self.directory = directory
        self.memory_ns = memory_ns
        self.orders: dict[str, Order] = {}
        self.books: defaultdict[str, Book] = defaultdict(Book)
        self.open_volume: defaultdict[tuple[str, str, str], int] = defaultdict(int)
        self.fills: defaultdict[tuple[str, str], deque[Fill]] = defaultdict(deque)
        self.order_size: dict[str, float] = {}
        self.open_orders: defaultdict[tuple[str, str, str], dict[str, Order]] = defaultdict(dict)
        self._closed: deque[tuple[int, str]] = deque()

    def place(self, event: OrderPlaced) -> Order:
        """A new order enters the book."""
        group = self.directory.group(event.account)
        book = self.books[event.symbol]
        order = Order(
            event.order_id,
            event.account,
            group,
            event.symbol,
            event.side,
            event.qty,
            event.price,
            event.ts,
            event.ts,
            best_at_placement=book.best(event.side),
        )
        self.orders[event.order_id] = order
        self._open(order, order.remaining)
        average = self.order_size.get(event.symbol)
        self.order_size[event.symbol] = (
            float(event.qty)
            if average is None
            else average + SIZE_EMA_WEIGHT * (event.qty - average)
        )
        return order

    def modify(self, order: Order, ts: int, qty: int, price: int | None) -> None:
        """A cancel/replace: new total quantity and price."""
        self._open(order, -order.remaining)
        order.qty, order.price, order.changed = qty, price, ts
        self._open(order, order.remaining)

    def cancel(self, order: Order, ts: int) -> int:
        """Close the order; the shares that were still open."""
        left = order.remaining
        order.open = False
        self._open(order, -left)
        self._closed.append((ts, order.order_id))
        return left

    def trade(self, event: TradeExecuted, buy: Order, sell: Order) -> tuple[Fill, Fill]:
        """Fill both orders; the two fills as their groups saw them."""
        for order in (buy, sell):
            taken = min(event.qty, order.remaining)
            order.filled += event.qty
            self._open(order, -taken)
        self.books[event.symbol].last_price = event.price
        return self._fill(event, buy, sell), self._fill(event, sell, buy)

    def recent_fills(self, symbol: str, group: str) -> deque[Fill]:
        """The group's fills in the symbol that are still remembered."""
        return self.fills[(symbol, group)]

    def evict(self, now: int) -> None:
        """Forget closed orders and fills older than ``memory_ns``."""
        horizon = now - self.memory_ns
        closed = self._closed
        while closed and closed[0][0] < horizon:
            self.orders.pop(closed.popleft()[1], None)
        for key in [key for key, fills in self.fills.items() if fills and fills[-1].ts < horizon]:
            del self.fills[key]

    def _fill(self, event: TradeExecuted, order: Order, other_order: Order) -> Fill:
        other = "sell" if order.side == BUY else BUY
        opposite = self.open_orders[(order.symbol, order.group, other)]
        fill = Fill(
            event.ts,
            order.order_id,
            order.account,
            order.side,
            event.qty,
            event.price,
            self.open_volume[(order.symbol, order.group, other)],
            self.open_volume[(order.symbol, order.group, order.side)],
            other_order.account,
            order.changed > other_order.changed,
            len({open_order.price for open_order in opposite.values()}) if opposite else 0,
        )
        fills = self.fills[(order.symbol, order.group)]
        fills.append(fill)
        while fills and fills[0].ts < event.ts - self.memory_ns:
            fills.popleft()
        if order.qty <= order.filled and order.open:
            order.open = False
            self.open_orders[(order.symbol, order.group, order.side)].pop(order.order_id, None)
            self._closed.append((event.ts, order.order_id))
        return fill

    def group_open_orders(self, symbol: str, group: str, side: str) -> dict[str, Order]:
        """The group's open orders on one side of a symbol, by id."""
        return self.open_orders[(symbol, group, side)]

    def _open(self, order: Order, qty: int) -> None:
        key = (order.symbol, order.group, order.side)
        self.open_volume[key] += qty
        price = order.price
        if price is not None and qty != 0:
            book = self.books[order.symbol]
            if order.side == BUY:
                book.add_bid(price, qty)
            else:
                book.add_ask(price, qty)
        if order.open and order.qty > order.filled:
            self.open_orders[key][order.order_id] = order
        else:
            self.open_orders[key].pop(order.order_id, None)
