"""The matching engine: one continuous limit order book per symbol, price-time priority.

Pure in-memory logic: no database, no clock, no I/O. A book is not thread-safe; its owner
serialises the calls for one symbol (different books are independent).

Structure: each side keeps its price levels in a dict keyed by a signed price (bids by
``price``, asks by ``-price``) and those keys in an ascending list, so the best level is
always the last key (``bisect`` inserts, ``pop`` when it empties). A level is a FIFO
``deque`` of working orders with its open quantity; an index maps order ids to working
orders, so a cancel finds its order in O(1) and only marks it inactive (the dead entry is
skipped when it reaches the head, or dropped when its level empties or is compacted).

Self-trade prevention is "cancel resting": when an incoming order reaches a resting
order of the same account at a price it would trade at, the resting order is cancelled
(reported with reason ``self_trade``) and the incoming order goes on matching behind it.
The account's newest instruction wins, and no account ever trades with itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.trading.matching.levels import BookSide, PriceLevel, WorkingOrder
from tradeguard.trading.matching.model import (
    Cancellation,
    CancelReason,
    Depth,
    DepthLevel,
    Fill,
    MatchingError,
    MatchingReason,
    Order,
    OrderState,
    OrderStatus,
    SubmitResult,
    require_price,
    require_quantity,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tradeguard.core.money import Price

__all__ = [
    "CancelReason",
    "Cancellation",
    "Depth",
    "DepthLevel",
    "Exchange",
    "Fill",
    "MatchingError",
    "MatchingReason",
    "Order",
    "OrderBook",
    "OrderState",
    "OrderStatus",
    "OrderType",
    "Side",
    "SubmitResult",
    "TimeInForce",
]

DEFAULT_DEPTH = 5
# A level rewrites its queue once dead entries outnumber live ones and exceed this many,
# so cancels behind a long-lived head order cannot grow a queue without bound.
_COMPACT_AFTER_DEAD = 64


class OrderBook:
    """A continuous limit order book for one symbol with price-time priority."""

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self._bids = BookSide(1)
        self._asks = BookSide(-1)
        self._index: dict[str, WorkingOrder] = {}
        self._arrivals = 0
        self._executions = 0

    @property
    def best_bid(self) -> Price | None:
        """The highest open buy price, or None."""
        return self._bids.best_price()

    @property
    def best_ask(self) -> Price | None:
        """The lowest open sell price, or None."""
        return self._asks.best_price()

    def submit(self, order: Order) -> SubmitResult:
        """Match ``order`` against the opposite side; rest a DAY/GTC limit remainder."""
        if order.symbol != self.symbol:
            raise MatchingError(MatchingReason.SYMBOL_MISMATCH, f"this book is {self.symbol}")
        if order.order_id in self._index:
            raise MatchingError(MatchingReason.DUPLICATE_ORDER_ID, "that order id is open")
        taker = WorkingOrder(order, order.limit_price, order.quantity, self._next_arrival())
        return self._execute(taker)

    def cancel(self, order_id: str) -> Cancellation:
        """Take an open order out of the book."""
        working = self._open(order_id)
        self._withdraw(working)
        return working.cancellation(CancelReason.REQUESTED)

    def modify(
        self, order_id: str, new_price: Price | None = None, new_quantity: int | None = None
    ) -> SubmitResult:
        """Change an open order's limit price and/or total quantity.

        A quantity decrease at the same price keeps time priority; a price change or a
        quantity increase re-queues the order behind its level, and it may then cross.
        The new quantity must stay above what has already filled.
        """
        working = self._open(order_id)
        price = working.price if new_price is None else require_price(new_price)
        quantity = working.quantity if new_quantity is None else require_quantity(new_quantity)
        if quantity <= working.filled:
            raise MatchingError(
                MatchingReason.QUANTITY_NOT_ABOVE_FILLED,
                f"{working.filled} already filled; the quantity must be above it",
            )
        assert price is not None  # noqa: S101 - resting orders are limit orders
        if price == working.price and quantity <= working.quantity:
            self._reduce(working, quantity)
            return SubmitResult(working.open_state(), (), ())
        self._withdraw(working)
        return self._execute(working.requeued(price, quantity, self._next_arrival()))

    def cancel_all(self, account: str | None = None) -> list[Cancellation]:
        """Cancel every open order (of ``account`` if given), oldest first."""
        chosen = [w for w in self._index.values() if account is None or w.account == account]
        return self._withdraw_all(chosen, CancelReason.MASS_CANCEL)

    def expire_day_orders(self) -> list[Cancellation]:
        """At the close: cancel every open DAY order, oldest first; GTC orders stay."""
        day = TimeInForce.DAY
        chosen = [w for w in self._index.values() if w.order.time_in_force is day]
        return self._withdraw_all(chosen, CancelReason.EXPIRED)

    def open_order(self, order_id: str) -> OrderState | None:
        """The state of an order still in the book, or None (unknown, filled, cancelled)."""
        working = self._index.get(order_id)
        return None if working is None else working.open_state()

    def open_orders(self) -> tuple[OrderState, ...]:
        """Every open order: bids then asks, each in priority order."""
        return tuple(working.open_state() for working in self._resting())

    def depth(self, levels: int = DEFAULT_DEPTH) -> Depth:
        """The top ``levels`` price levels of each side, aggregated."""
        return Depth(self.symbol, _top(self._bids, levels), _top(self._asks, levels))

    def top_levels(self, *, asks: bool, levels: int) -> list[tuple[int, int]]:
        """One side's top ``levels`` as (price units, open quantity), best price first.

        What ``depth`` shows of that side, without the other side or objects per level.
        """
        side = self._asks if asks else self._bids
        return [(level.price.units, level.quantity) for level in side.best_levels(levels)]

    def _withdraw_all(self, chosen: list[WorkingOrder], reason: CancelReason) -> list[Cancellation]:
        chosen.sort(key=lambda working: working.sequence)
        for working in chosen:
            self._withdraw(working)
        return [working.cancellation(reason) for working in chosen]

    def _resting(self) -> Iterator[WorkingOrder]:
        for side in (self._bids, self._asks):
            for level in side.levels_best_first():
                yield from (working for working in level.queue if working.active)

    def _next_arrival(self) -> int:
        self._arrivals += 1
        return self._arrivals

    def _open(self, order_id: str) -> WorkingOrder:
        working = self._index.get(order_id)
        if working is None:
            raise MatchingError(MatchingReason.ORDER_NOT_OPEN, "no open order with that id")
        return working

    def _side_of(self, working: WorkingOrder) -> BookSide:
        return self._bids if working.order.side is Side.BUY else self._asks

    def _execute(self, taker: WorkingOrder) -> SubmitResult:
        fills: list[Fill] = []
        cancellations: list[Cancellation] = []
        self._match(taker, fills, cancellations)
        if taker.remaining == 0:
            state = taker.state(OrderStatus.FILLED)
        elif taker.price is not None and taker.order.time_in_force is not TimeInForce.IOC:
            self._rest(taker)
            state = taker.open_state()
        else:
            cancellations.append(taker.cancellation(_remainder_reason(taker)))
            state = taker.state(OrderStatus.CANCELLED)
        return SubmitResult(state, tuple(fills), tuple(cancellations))

    def _rest(self, working: WorkingOrder) -> None:
        assert working.price is not None  # noqa: S101 - only limit orders rest
        working.active = True
        self._side_of(working).add(working, working.price)
        self._index[working.order_id] = working

    def _match(self, taker: WorkingOrder, fills: list[Fill], cancels: list[Cancellation]) -> None:
        opposite = self._asks if taker.order.side is Side.BUY else self._bids
        keys, levels = opposite.keys, opposite.levels
        # A level crosses when its key is at least the limit's key on the opposite side.
        floor = None if taker.price is None else opposite.sign * taker.price.units
        while taker.remaining and keys:
            key = keys[-1]
            if floor is not None and key < floor:
                return
            level = levels[key]
            self._match_level(taker, level, fills, cancels)
            if level.live == 0:
                keys.pop()
                del levels[key]

    def _match_level(
        self, taker: WorkingOrder, level: PriceLevel, fills: list[Fill], cancels: list[Cancellation]
    ) -> None:
        queue = level.queue
        while queue and taker.remaining:
            maker = queue[0]
            if not maker.active:
                queue.popleft()
                level.dead -= 1
            elif maker.account == taker.account:
                queue.popleft()
                cancels.append(maker.cancellation(CancelReason.SELF_TRADE))
                self._retire(maker, level)
            else:
                fills.append(self._trade(maker, taker, level))
                if maker.remaining == 0:
                    queue.popleft()
                    self._retire(maker, level)

    def _trade(self, maker: WorkingOrder, taker: WorkingOrder, level: PriceLevel) -> Fill:
        quantity = min(maker.remaining, taker.remaining)
        maker.filled += quantity
        maker.remaining -= quantity
        taker.filled += quantity
        taker.remaining -= quantity
        level.quantity -= quantity
        self._executions += 1
        return Fill(
            symbol=self.symbol,
            maker_order_id=maker.order_id,
            taker_order_id=taker.order_id,
            maker_account=maker.account,
            taker_account=taker.account,
            price=level.price,
            quantity=quantity,
            aggressor_side=taker.order.side.book_side,
            sequence=self._executions,
        )

    def _retire(self, working: WorkingOrder, level: PriceLevel) -> None:
        """Take a working order out of its level's counts and the index."""
        working.active = False
        level.live -= 1
        level.quantity -= working.remaining
        del self._index[working.order_id]

    def _withdraw(self, working: WorkingOrder) -> None:
        """Retire a resting order wherever it sits; its queue entry is left dead."""
        side = self._side_of(working)
        key, level = side.level_of(working)
        self._retire(working, level)
        level.dead += 1
        if level.live == 0:
            side.remove_level(key)
        elif level.dead > _COMPACT_AFTER_DEAD and level.dead > level.live:
            level.compact()

    def _reduce(self, working: WorkingOrder, quantity: int) -> None:
        _, level = self._side_of(working).level_of(working)
        level.quantity -= working.quantity - quantity
        working.quantity = quantity
        working.remaining = quantity - working.filled


def _remainder_reason(taker: WorkingOrder) -> CancelReason:
    if taker.order.order_type is OrderType.MARKET:
        return CancelReason.NO_LIQUIDITY
    return CancelReason.IOC_REMAINDER


def _top(side: BookSide, count: int) -> tuple[DepthLevel, ...]:
    return tuple(
        DepthLevel(level.price, level.quantity, level.live) for level in side.best_levels(count)
    )


class Exchange:
    """The order books of every symbol, created on first use."""

    def __init__(self) -> None:
        self._books: dict[str, OrderBook] = {}

    @property
    def symbols(self) -> tuple[str, ...]:
        """The symbols that have a book, sorted."""
        return tuple(sorted(self._books))

    def book(self, symbol: str) -> OrderBook:
        """The book of ``symbol``, created empty if it has none yet."""
        book = self._books.get(symbol)
        if book is None:
            book = self._books[symbol] = OrderBook(symbol)
        return book

    def submit(self, order: Order) -> SubmitResult:
        """Submit ``order`` to its symbol's book."""
        return self.book(order.symbol).submit(order)

    def cancel(self, symbol: str, order_id: str) -> Cancellation:
        """Cancel an open order of ``symbol``."""
        return self._existing(symbol).cancel(order_id)

    def modify(
        self,
        symbol: str,
        order_id: str,
        new_price: Price | None = None,
        new_quantity: int | None = None,
    ) -> SubmitResult:
        """Modify an open order of ``symbol`` (see ``OrderBook.modify``)."""
        return self._existing(symbol).modify(order_id, new_price, new_quantity)

    def cancel_all(
        self, account: str | None = None, symbol: str | None = None
    ) -> list[Cancellation]:
        """Cancel open orders, narrowed to ``account`` and/or ``symbol`` when given."""
        if symbol is not None:
            book = self._books.get(symbol)
            return [] if book is None else book.cancel_all(account)
        return [
            cancelled for book in self._books.values() for cancelled in book.cancel_all(account)
        ]

    def expire_day_orders(self) -> list[Cancellation]:
        """At the close: cancel every open DAY order in every book."""
        return [expired for book in self._books.values() for expired in book.expire_day_orders()]

    def _existing(self, symbol: str) -> OrderBook:
        book = self._books.get(symbol)
        if book is None:
            raise MatchingError(MatchingReason.ORDER_NOT_OPEN, f"no open orders in {symbol}")
        return book
