"""Rolling windows of a customer's transactions with running totals, pruned by time."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from tradeguard.aml.transactions import Transaction


@dataclass(slots=True)
class RollingWindow:
    """The transactions of the last ``span_ns`` nanoseconds and their total in cents.

    ``first_ts`` is the oldest transaction's time while the window holds any: whether
    anything fell out is answered without reading that transaction, which a monitor last
    touched long ago (a cache miss on every call).
    """

    span_ns: int
    items: deque[Transaction]
    total: int = 0
    first_ts: int = 0

    def add(self, txn: Transaction) -> None:
        """Append ``txn`` (transactions arrive in time order) and drop what fell out of the span."""
        items = self.items
        items.append(txn)
        self.total += txn.cents
        oldest = txn.ts - self.span_ns
        if self.first_ts < oldest or len(items) == 1:
            while items[0].ts < oldest:
                self.total -= items.popleft().cents
            self.first_ts = items[0].ts

    def prune(self, now: int) -> None:
        """Drop the transactions older than ``now - span_ns``."""
        items, oldest = self.items, now - self.span_ns
        if not items or self.first_ts >= oldest:
            return
        while items and items[0].ts < oldest:
            self.total -= items.popleft().cents
        if items:
            self.first_ts = items[0].ts

    def since(self, ts: int) -> int:
        """The total of the transactions at or after ``ts``."""
        return sum(t.cents for t in self.items if t.ts >= ts)

    @property
    def start_ts(self) -> int:
        """When the oldest transaction in the window happened (0 when empty)."""
        return self.first_ts if self.items else 0


def rolling(span_ns: int) -> RollingWindow:
    """An empty window of ``span_ns`` nanoseconds."""
    return RollingWindow(span_ns, deque())


def ids_of(window: RollingWindow) -> tuple[str, ...]:
    """The transaction ids in the window, oldest first."""
    return tuple(t.txn_id for t in window.items)


def accounts_of(window: RollingWindow) -> frozenset[str]:
    """The accounts the window's transactions touched."""
    return frozenset(t.account for t in window.items)
