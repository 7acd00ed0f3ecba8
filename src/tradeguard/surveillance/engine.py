"""The surveillance engine: one market state, every detector, one event at a time.

The same engine runs in the live watcher (events from the audit trail) and in the
replay command (events from files). It is pure: no clock, no storage; it returns the
alert drafts each event raises or extends.
"""

from __future__ import annotations

from tradeguard.cases.model import AlertDraft
from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.events import (
    MarketEvent,
    OrderCancelled,
    OrderModified,
    OrderPlaced,
    TradeExecuted,
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

    def process(self, event: MarketEvent) -> list[AlertDraft]:
        """Take in one event; the alerts it raised or extended."""
        self._seen += 1
        if self._seen % EVICT_EVERY == 0:
            self.evict(event.ts)
        if isinstance(event, OrderPlaced):  # the commonest first
            self._place(event)
            return []
        if isinstance(event, OrderCancelled):
            return self._cancel(event)
        if isinstance(event, TradeExecuted):
            return self._trade(event)
        self._modify(event)
        return []

    def _place(self, event: OrderPlaced) -> None:
        average = self.market.order_size.get(event.symbol)
        order = self.market.place(event)
        self.front_running.on_order(order, average)

    def _modify(self, event: OrderModified) -> None:
        order = self._order(event.order_id)
        self.market.modify(order, event.ts, event.qty, event.price)

    def _cancel(self, event: OrderCancelled) -> list[AlertDraft]:
        order = self._order(event.order_id)
        if not order.open:
            return []
        alerts = self.spoofing.on_cancel(order, event.ts, order.remaining)
        self.market.cancel(order, event.ts)
        self.front_running.on_close(order, event.ts)
        return alerts

    def _trade(self, event: TradeExecuted) -> list[AlertDraft]:
        buy, sell = self._order(event.buy_order_id), self._order(event.sell_order_id)
        buy_fill, sell_fill = self.market.trade(event, buy, sell)
        alerts = self.wash.on_trade(event, buy, sell)
        alerts += self.pump.on_trade(event, buy_fill, sell_fill)
        alerts += self.front_running.on_fill(buy_fill, buy)
        alerts += self.front_running.on_fill(sell_fill, sell)
        return alerts

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
