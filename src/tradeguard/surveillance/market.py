"""What the detectors share: every open order, each symbol's book, fills by group.

State is evicted as it ages: a closed order is forgotten once no detector can still need
it, fills older than ``memory_ns`` are dropped. The book keeps only open limit orders.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.events import BUY, TradeExecuted

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
    holder: GroupSide
    """The group's open orders on this side of the symbol (this one while it is open)."""
    book: Book
    """The symbol's book."""
    filled: int = 0
    open: bool = True
    best_at_placement: int | None = None
    watched: bool = False
    """Whether the front-running detector follows it (a large client order)."""

    @property
    def remaining(self) -> int:
        """Shares still open."""
        left = self.qty - self.filled
        return left if self.open and left > 0 else 0


@dataclass(slots=True)
class GroupSide:
    """A group's open orders on one side of one symbol, and the shares they hold open.

    Each order keeps a reference to its own, so placing and cancelling touch it directly
    instead of looking it up by symbol, group and side.
    """

    volume: int = 0
    orders: dict[str, Order] = field(default_factory=dict)


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
    stale_bid: bool = False
    """Whether the best bid's level emptied (``best`` scans the bids again)."""
    stale_ask: bool = False
    """Whether the best ask's level emptied."""

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
            if not self.stale_bid and (best is None or price > best):
                self.best_bid = price
        elif levels.pop(price, None) is not None and price == self.best_bid:
            self.stale_bid = True

    def add_ask(self, price: int, qty: int) -> None:
        """``add`` on the ask side, for a price that is set and a change that is not zero."""
        levels = self.asks
        left = levels.get(price, 0) + qty
        if left > 0:
            levels[price] = left
            best = self.best_ask
            if not self.stale_ask and (best is None or price < best):
                self.best_ask = price
        elif levels.pop(price, None) is not None and price == self.best_ask:
            self.stale_ask = True

    def best(self, side: str) -> int | None:
        """The best price on a side (highest bid, lowest ask)."""
        if side == BUY:
            if self.stale_bid:
                self.best_bid = max(self.bids) if self.bids else None
                self.stale_bid = False
            return self.best_bid
        if self.stale_ask:
            self.best_ask = min(self.asks) if self.asks else None
            self.stale_ask = False
        return self.best_ask


class Market:
    """Orders, books, open volume per group and side, recent fills per group and symbol."""

    def __init__(self, directory: AccountDirectory, memory_ns: int) -> None:
        self.directory = directory
        self.memory_ns = memory_ns
        self.orders: dict[str, Order] = {}
        self.books: defaultdict[str, Book] = defaultdict(Book)
        self.sides: dict[tuple[str, str, str], GroupSide] = {}
        self.fills: defaultdict[tuple[str, str], deque[Fill]] = defaultdict(deque)
        self.order_size: dict[str, float] = {}
        self._closed: deque[tuple[int, str]] = deque()
        self._placing: dict[tuple[str, str, str], tuple[str, GroupSide, Book]] = {}
        """Where an account's orders go, by symbol, account and side (groups do not change)."""

    @property
    def open_volume(self) -> dict[tuple[str, str, str], int]:
        """Open shares by symbol, group and side."""
        return {key: holder.volume for key, holder in self.sides.items()}

    def place(  # noqa: PLR0913, PLR0917 - an order's terms
        self,
        ts: int,
        order_id: str,
        account: str,
        symbol: str,
        side: str,
        qty: int,
        price: int | None,
    ) -> Order:
        """A new order enters the book."""
        placing = self._placing.get((symbol, account, side))
        if placing is None:
            placing = self._placing[(symbol, account, side)] = self._where(symbol, account, side)
        group, holder, book = placing
        # book.best(side), inline: the kept best price unless its level has emptied
        if side == BUY:
            best = book.best(BUY) if book.stale_bid else book.best_bid
        else:
            best = book.best(side) if book.stale_ask else book.best_ask
        order = Order(order_id, account, group, symbol, side, qty, price, ts, ts, holder, book)
        order.best_at_placement = best
        self.orders[order_id] = order
        if qty > 0:
            holder.volume += qty
            holder.orders[order_id] = order
            if price is not None:
                if side == BUY:
                    book.add_bid(price, qty)
                else:
                    book.add_ask(price, qty)
        average = self.order_size.get(symbol)
        self.order_size[symbol] = (
            float(qty) if average is None else average + SIZE_EMA_WEIGHT * (qty - average)
        )
        return order

    def _where(self, symbol: str, account: str, side: str) -> tuple[str, GroupSide, Book]:
        """The account's group, the group's side of the symbol and the symbol's book."""
        group = self.directory.group(account)
        book = self.books[symbol]
        holder = self.sides.get((symbol, group, side))
        if holder is None:
            holder = self.sides[(symbol, group, side)] = GroupSide()
        return group, holder, book

    def modify(self, order: Order, ts: int, qty: int, price: int | None) -> None:
        """A cancel/replace: new total quantity and price."""
        self._open(order, -order.remaining)
        order.qty, order.price, order.changed = qty, price, ts
        self._open(order, order.remaining)

    def cancel(self, order: Order, ts: int) -> int:
        """Close the order; the shares that were still open."""
        left = order.qty - order.filled if order.open else 0  # order.remaining, inline
        left = left if left > 0 else 0  # noqa: FURB136 - no call on the hot path
        order.open = False
        if left:
            order.holder.volume -= left
            price = order.price
            if price is not None:
                if order.side == BUY:
                    order.book.add_bid(price, -left)
                else:
                    order.book.add_ask(price, -left)
        order.holder.orders.pop(order.order_id, None)
        self._closed.append((ts, order.order_id))
        return left

    def trade(self, event: TradeExecuted, buy: Order, sell: Order) -> tuple[Fill, Fill]:
        """Fill both orders; the two fills as their groups saw them."""
        for order in (buy, sell):
            taken = min(event.qty, order.remaining)
            order.filled += event.qty
            self._open(order, -taken)
        buy.book.last_price = event.price
        return (
            self._fill(event, buy, sell.account, aggressor=buy.changed > sell.changed),
            self._fill(event, sell, buy.account, aggressor=sell.changed > buy.changed),
        )

    def outside_trade(self, event: TradeExecuted, order: Order, venue: str) -> Fill:
        """Fill ``order`` at an outside venue (the counterparty is the venue); its fill.

        The order went out to take the venue's liquidity, so it counts as the aggressor.
        """
        taken = min(event.qty, order.remaining)
        order.filled += event.qty
        self._open(order, -taken)
        order.book.last_price = event.price
        return self._fill(event, order, venue, aggressor=True)

    def recent_fills(self, symbol: str, group: str) -> Sequence[Fill]:
        """The group's fills in the symbol that are still remembered."""
        return self.fills.get((symbol, group), ())

    def evict(self, now: int) -> None:
        """Forget closed orders and fills older than ``memory_ns``."""
        horizon = now - self.memory_ns
        closed = self._closed
        while closed and closed[0][0] < horizon:
            self.orders.pop(closed.popleft()[1], None)
        for key in [key for key, fills in self.fills.items() if fills and fills[-1].ts < horizon]:
            del self.fills[key]

    def _fill(
        self, event: TradeExecuted, order: Order, counterparty: str, *, aggressor: bool
    ) -> Fill:
        other = "sell" if order.side == BUY else BUY
        opposite = self.group_open_orders(order.symbol, order.group, other)
        fill = Fill(
            event.ts,
            order.order_id,
            order.account,
            order.side,
            event.qty,
            event.price,
            self._open_shares(order.symbol, order.group, other),
            order.holder.volume,
            counterparty,
            aggressor,
            len({open_order.price for open_order in opposite.values()}) if opposite else 0,
        )
        fills = self.fills[(order.symbol, order.group)]
        fills.append(fill)
        while fills and fills[0].ts < event.ts - self.memory_ns:
            fills.popleft()
        if order.qty <= order.filled and order.open:
            order.open = False
            order.holder.orders.pop(order.order_id, None)
            self._closed.append((event.ts, order.order_id))
        return fill

    def group_open_orders(self, symbol: str, group: str, side: str) -> dict[str, Order]:
        """The group's open orders on one side of a symbol, by id."""
        holder = self.sides.get((symbol, group, side))
        return {} if holder is None else holder.orders

    def _open_shares(self, symbol: str, group: str, side: str) -> int:
        holder = self.sides.get((symbol, group, side))
        return 0 if holder is None else holder.volume

    def _open(self, order: Order, qty: int) -> None:
        holder = order.holder
        holder.volume += qty
        price = order.price
        if price is not None and qty != 0:
            order.book.add(order.side, price, qty)
        if order.open and order.qty > order.filled:
            holder.orders[order.order_id] = order
        else:
            holder.orders.pop(order.order_id, None)
