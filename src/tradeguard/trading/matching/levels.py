"""The book's working parts: working orders, price levels (FIFO queues) and book sides.

Mutable and private to the matching engine; callers only ever see the frozen values of
``matching.model``.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from typing import TYPE_CHECKING

from tradeguard.trading.matching.model import (
    Cancellation,
    CancelReason,
    Order,
    OrderState,
    OrderStatus,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tradeguard.core.money import Price


class WorkingOrder:
    """An order while the book handles it; mutable, never handed out."""

    __slots__ = (
        "account",
        "active",
        "filled",
        "order",
        "order_id",
        "price",
        "quantity",
        "remaining",
        "sequence",
    )

    def __init__(self, order: Order, price: Price | None, quantity: int, sequence: int) -> None:
        self.order = order
        self.order_id = order.order_id
        self.account = order.account
        self.price = price
        self.quantity = quantity
        self.filled = 0
        self.remaining = quantity
        self.sequence = sequence
        self.active = False

    def requeued(self, price: Price, quantity: int, sequence: int) -> WorkingOrder:
        """A fresh working order for a modify that loses time priority."""
        replacement = WorkingOrder(self.order, price, quantity, sequence)
        replacement.filled = self.filled
        replacement.remaining = quantity - self.filled
        return replacement

    def state(self, status: OrderStatus) -> OrderState:
        """The caller's view of this order with ``status``."""
        order = self.order
        return OrderState(
            order_id=self.order_id,
            symbol=order.symbol,
            account=self.account,
            side=order.side,
            order_type=order.order_type,
            time_in_force=order.time_in_force,
            limit_price=self.price,
            quantity=self.quantity,
            filled_quantity=self.filled,
            remaining_quantity=self.remaining if self.active else 0,
            status=status,
            sequence=self.sequence,
        )

    def open_state(self) -> OrderState:
        """The view of a resting order: open or partially filled."""
        return self.state(OrderStatus.PARTIALLY_FILLED if self.filled else OrderStatus.OPEN)

    def cancellation(self, reason: CancelReason) -> Cancellation:
        """The report of this order's unfilled quantity leaving the book."""
        order = self.order
        return Cancellation(
            order_id=self.order_id,
            symbol=order.symbol,
            account=self.account,
            side=order.side,
            cancelled_quantity=self.remaining,
            filled_quantity=self.filled,
            reason=reason,
        )


class PriceLevel:
    """The working orders at one price, oldest first, with their open quantity."""

    __slots__ = ("dead", "live", "price", "quantity", "queue")

    def __init__(self, price: Price) -> None:
        self.price = price
        self.queue: deque[WorkingOrder] = deque()
        self.quantity = 0
        self.live = 0
        self.dead = 0

    def compact(self) -> None:
        """Drop the inactive entries left behind by cancels."""
        self.queue = deque(working for working in self.queue if working.active)
        self.dead = 0


class BookSide:
    """The price levels of one side; the best level is under the last key."""

    __slots__ = ("keys", "levels", "sign")

    def __init__(self, sign: int) -> None:
        self.sign = sign
        self.levels: dict[int, PriceLevel] = {}
        self.keys: list[int] = []

    def add(self, working: WorkingOrder, price: Price) -> None:
        """Queue ``working`` behind the orders already at ``price``."""
        key = self.sign * price.units
        level = self.levels.get(key)
        if level is None:
            level = self.levels[key] = PriceLevel(price)
            insort(self.keys, key)
        level.queue.append(working)
        level.quantity += working.remaining
        level.live += 1

    def level_of(self, working: WorkingOrder) -> tuple[int, PriceLevel]:
        """The key and level a resting order sits in."""
        assert working.price is not None  # noqa: S101 - only limit orders rest
        key = self.sign * working.price.units
        return key, self.levels[key]

    def remove_level(self, key: int) -> None:
        """Forget an emptied level."""
        del self.levels[key]
        del self.keys[bisect_left(self.keys, key)]

    def best_price(self) -> Price | None:
        """The best price on this side, or None when it is empty."""
        return self.levels[self.keys[-1]].price if self.keys else None

    def best_levels(self, count: int) -> list[PriceLevel]:
        """The ``count`` best levels (fewer when the side has fewer), best price first."""
        levels = self.levels
        return [levels[key] for key in self.keys[: -count - 1 : -1]] if count > 0 else []

    def levels_best_first(self) -> Iterator[PriceLevel]:
        """Every level, best price first."""
        levels = self.levels
        for key in reversed(self.keys):
            yield levels[key]
