"""A small price-time matching venue that writes replay events (tests and benchmarks).

Orders and cancels go in; the venue writes ``order``, ``cancel`` and ``trade`` lines as
the surveillance replay contract describes them, matching at the resting order's price
and cancelling what a market order leaves unfilled.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

TICK = 100  # one cent in units of 1/10,000 dollar


@dataclass(slots=True)
class Resting:
    order_id: str
    account: str
    side: str
    price: int
    left: int


@dataclass(slots=True)
class Venue:
    """Books per symbol and the event lines written so far."""

    lines: list[dict[str, Any]] = field(default_factory=list)
    books: dict[str, dict[str, list[Resting]]] = field(default_factory=dict)
    last: dict[str, int] = field(default_factory=dict)
    filled: dict[str, int] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def submit(  # noqa: PLR0913, PLR0917 - an order's terms
        self, ts: int, account: str, symbol: str, side: str, qty: int, price: int | None
    ) -> str:
        """Place an order; it trades against the other side, and rests if it has a price."""
        order_id = f"o{next(self._ids)}"
        self.lines.append(
            {
                "type": "order",
                "ts": ts,
                "order_id": order_id,
                "account": account,
                "symbol": symbol,
                "side": side,
                "order_type": "limit" if price else "market",
                "qty": qty,
                "price": _dollars(price) if price else None,
            }
        )
        left = self._match(ts, order_id, account, symbol, side, qty, price)
        if left and price is not None:
            self._rest(symbol, Resting(order_id, account, side, price, left))
        elif left:
            self.lines.append({"type": "cancel", "ts": ts, "order_id": order_id})
        return order_id

    def cancel(self, ts: int, symbol: str, order_id: str) -> bool:
        """Cancel what is left of a resting order; whether anything was."""
        for side in ("buy", "sell"):
            level = self.book(symbol)[side]
            for resting in level:
                if resting.order_id == order_id:
                    level.remove(resting)
                    self.lines.append({"type": "cancel", "ts": ts, "order_id": order_id})
                    return True
        return False

    def modify(self, ts: int, symbol: str, order_id: str, qty: int, price: int) -> None:
        """Cancel/replace a resting order: new price and open quantity; it may now trade."""
        for side in ("buy", "sell"):
            for resting in self.book(symbol)[side]:
                if resting.order_id == order_id:
                    self.book(symbol)[side].remove(resting)
                    filled = self.filled.get(order_id, 0)
                    self.lines.append(
                        {
                            "type": "modify",
                            "ts": ts,
                            "order_id": order_id,
                            "qty": filled + qty,
                            "price": _dollars(price),
                        }
                    )
                    left = self._match(ts, order_id, resting.account, symbol, side, qty, price)
                    if left:
                        self._rest(symbol, Resting(order_id, resting.account, side, price, left))
                    return

    def is_open(self, symbol: str, order_id: str) -> bool:
        return any(
            r.order_id == order_id for side in ("buy", "sell") for r in self.book(symbol)[side]
        )

    def book(self, symbol: str) -> dict[str, list[Resting]]:
        return self.books.setdefault(symbol, {"buy": [], "sell": []})

    def best(self, symbol: str, side: str) -> int | None:
        level = self.book(symbol)[side]
        return level[0].price if level else None

    def mid(self, symbol: str, default: int) -> int:
        """Where quotes are centred: the last sale, else the middle of the book."""
        if symbol in self.last:
            return self.last[symbol]
        bid, ask = self.best(symbol, "buy"), self.best(symbol, "sell")
        return (bid + ask) // 2 if bid and ask else default

    def _match(  # noqa: PLR0913, PLR0917 - an order's terms
        self,
        ts: int,
        order_id: str,
        account: str,
        symbol: str,
        side: str,
        qty: int,
        price: int | None,
    ) -> int:
        other = self.book(symbol)["sell" if side == "buy" else "buy"]
        while qty and other:
            best = other[0]
            crosses = price is None or (
                best.price <= price if side == "buy" else best.price >= price
            )
            if not crosses:
                break
            if best.account == account:  # the venue prevents an account trading with itself
                break
            traded = min(qty, best.left)
            buy, sell = (order_id, best.order_id) if side == "buy" else (best.order_id, order_id)
            self.lines.append(
                {
                    "type": "trade",
                    "ts": ts,
                    "trade_id": f"t{next(self._ids)}",
                    "symbol": symbol,
                    "qty": traded,
                    "price": _dollars(best.price),
                    "buy_order_id": buy,
                    "sell_order_id": sell,
                }
            )
            self.last[symbol] = best.price
            for filled_id in (order_id, best.order_id):
                self.filled[filled_id] = self.filled.get(filled_id, 0) + traded
            qty -= traded
            best.left -= traded
            if not best.left:
                other.pop(0)
        return qty

    def _rest(self, symbol: str, resting: Resting) -> None:
        level = self.book(symbol)[resting.side]
        better = (
            (lambda r: r.price < resting.price)
            if resting.side == "buy"
            else (lambda r: r.price > resting.price)
        )
        index = next((i for i, r in enumerate(level) if better(r)), len(level))
        level.insert(index, resting)


def _dollars(units: int) -> str:
    return str(Decimal(units) / 10_000)
