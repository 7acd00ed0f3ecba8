"""The surveillance engine: one market state, every detector, one event at a time.

The same engine runs in the live watcher (events from the audit trail) and in the
replay command (events from files). It is pure: no clock, no storage; it returns the
alert drafts each event raises or extends.
"""

from __future__ import annotations

from tradeguard.cases.model import AlertDraft
from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.events import (
    BUY,
    MarketEvent,
    OrderCancelled,
    OrderPlaced,
    TradeExecuted,
    VenueExecution,
)
from tradeguard.surveillance.front_running import FrontRunDetector
from tradeguard.surveillance.market import Market, Order
from tradeguard.surveillance.parameters import NS, SurveillanceParameters
from tradeguard.surveillance.pump import PumpDetector
from tradeguard.surveillance.spoofing import SpoofDetector
from tradeguard.surveillance.wash import WashDetector

EVICT_EVERY = 20_000


class UnknownOrderError(LookupError):
    """An event names an order the engine has not seen (or has forgotten)."""


class Surveillance:
    """Every detector over one shared market state."""

    def __init__(self, directory: AccountDirectory, params: SurveillanceParameters) -> None:
        self.params = params
        gap = params.gap_ns
        memory = max(gap, params.front_running.unwind_seconds * NS)
        self.market = Market(directory, memory)
        self.wash = WashDetector(directory, params.wash, gap)
        self.spoofing = SpoofDetector(self.market, params.spoofing, gap)
        self.pump = PumpDetector(directory, params.pump, gap)
        self.front_running = FrontRunDetector(self.market, directory, params.front_running, gap)
        self._seen = 0
        self._large_min_qty = params.front_running.large_order_min_qty

    def process(self, event: MarketEvent) -> list[AlertDraft]:
        """Take in one event; the alerts it raised or extended."""
        if isinstance(event, OrderPlaced):  # the commonest first
            self.place(
                event.ts,
                event.order_id,
                event.account,
                event.symbol,
                event.side,
                event.qty,
                event.price,
            )
            return []
        if isinstance(event, OrderCancelled):
            return self.cancel(event.ts, event.order_id)
        if isinstance(event, TradeExecuted):
            return self.trade(event)
        if isinstance(event, VenueExecution):
            return self.venue_trade(event)
        return self.modify(event.ts, event.order_id, event.qty, event.price)

    def place(  # noqa: PLR0913, PLR0917 - an order's terms
        self,
        ts: int,
        order_id: str,
        account: str,
        symbol: str,
        side: str,
        qty: int,
        price: int | None,
    ) -> list[AlertDraft]:
        """A new order (``side`` is ``buy`` or ``sell``); it raises no alert by itself."""
        self._seen += 1  # _count, inline on the two commonest events
        if self._seen % EVICT_EVERY == 0:
            self.evict(ts)
        # the symbol's average order size before this one, asked only for a large order
        large = qty >= self._large_min_qty
        average = self.market.order_size.get(symbol) if large else None
        order = self.market.place(ts, order_id, account, symbol, side, qty, price)
        if average is not None:
            self.front_running.on_order(order, average)
        return []

    def modify(self, ts: int, order_id: str, qty: int, price: int | None) -> list[AlertDraft]:
        """A cancel/replace: the new total quantity and price."""
        self._count(ts)
        order = self._order(order_id)
        self.market.modify(order, ts, qty, price)
        return []

    def cancel(self, ts: int, order_id: str) -> list[AlertDraft]:
        """Whatever is still open of the order is cancelled."""
        self._seen += 1
        if self._seen % EVICT_EVERY == 0:
            self.evict(ts)
        order = self.market.orders.get(order_id)  # _order, inline on the second commonest event
        if order is None:
            raise UnknownOrderError(f"no order {order_id} seen")
        if not order.open:
            return []
        left = order.qty - order.filled
        alerts = self.spoofing.on_cancel(order, ts, left if left > 0 else 0)  # noqa: FURB136 - no call on the hot path
        self.market.cancel(order, ts)
        if order.watched:
            self.front_running.on_close(order, ts)
        return alerts

    def trade(self, event: TradeExecuted) -> list[AlertDraft]:
        """A trade between a buy order and a sell order."""
        self._count(event.ts)
        buy, sell = self._order(event.buy_order_id), self._order(event.sell_order_id)
        buy_fill, sell_fill = self.market.trade(event, buy, sell)
        alerts = self.wash.on_trade(event, buy, sell)
        alerts += self.pump.on_trade(event, buy_fill, sell_fill)
        alerts += self.front_running.on_fill(buy_fill, buy)
        alerts += self.front_running.on_fill(sell_fill, sell)
        return alerts

    def venue_trade(self, event: VenueExecution) -> list[AlertDraft]:
        """An outside venue filled one of our orders: a trade of that order's account.

        The venue's side is no order of ours; the fill feeds every detector that reads
        one account's trading (pump and dump, front-running), and the wash detector
        pairs it with an opposite venue fill of the same group (see ``WashDetector``).
        """
        self._count(event.ts)
        order = self._order(event.order_id)
        outside = event.trade_id  # the venue's side: no order of ours
        buy, sell = (order.order_id, outside) if order.side == BUY else (outside, order.order_id)
        trade = TradeExecuted(
            event.ts, event.trade_id, order.symbol, event.qty, event.price, buy, sell
        )
        fill = self.market.outside_trade(trade, order, event.venue)
        alerts = self.wash.on_venue_fill(trade, order)
        alerts += self.pump.on_fill(trade, fill)
        alerts += self.front_running.on_fill(fill, order)
        return alerts

    def _count(self, ts: int) -> None:
        """Count an event; every ``EVICT_EVERY`` events, evict first."""
        self._seen += 1
        if self._seen % EVICT_EVERY == 0:
            self.evict(ts)

    def _order(self, order_id: str) -> Order:
        order = self.market.orders.get(order_id)
        if order is None:
            raise UnknownOrderError(f"no order {order_id} seen")
        return order

    def evict(self, now: int) -> None:
        """Forget what no detector can still need."""
        self.market.evict(now)
        for detector in (self.wash, self.spoofing, self.pump, self.front_running):
            detector.evict(now)
