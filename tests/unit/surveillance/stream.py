"""A hand-written event stream for detector tests: orders, cancels and trades by name."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from tradeguard.cases.model import AlertDraft
from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.engine import Surveillance
from tradeguard.surveillance.events import OrderCancelled, OrderPlaced, TradeExecuted
from tradeguard.surveillance.parameters import SurveillanceParameters

S = 1_000_000_000
T0 = 1_795_253_400 * S


@dataclass
class Stream:
    directory: AccountDirectory = field(default_factory=AccountDirectory)
    params: SurveillanceParameters = field(default_factory=SurveillanceParameters)
    alerts: dict[str, AlertDraft] = field(default_factory=dict)
    engine: Surveillance | None = None
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def run(self) -> Surveillance:
        if self.engine is None:
            self.engine = Surveillance(self.directory, self.params)
        return self.engine

    def feed(self, event: OrderPlaced | OrderCancelled | TradeExecuted) -> None:
        for draft in self.run().process(event):
            self.alerts[draft.key("test")] = draft

    def order(  # noqa: PLR0913, PLR0917 - an order's terms
        self,
        at: float,
        account: str,
        side: str,
        qty: int,
        price: float | None,
        symbol: str = "ACME",
    ) -> str:
        order_id = f"o{next(self.ids)}"
        units = None if price is None else round(price * 10_000)
        self.feed(OrderPlaced(T0 + int(at * S), order_id, account, symbol, side, qty, units))
        return order_id

    def cancel(self, at: float, order_id: str) -> None:
        self.feed(OrderCancelled(T0 + int(at * S), order_id))

    def trade(  # noqa: PLR0913, PLR0917 - a trade's terms
        self, at: float, buy: str, sell: str, qty: int, price: float, symbol: str = "ACME"
    ) -> None:
        event = TradeExecuted(
            T0 + int(at * S), f"t{next(self.ids)}", symbol, qty, round(price * 10_000), buy, sell
        )
        self.feed(event)

    def cross(  # noqa: PLR0913, PLR0917 - two orders' terms
        self, at: float, seller: str, buyer: str, qty: int, price: float, apart: float = 2
    ) -> None:
        """``seller`` rests a sell, ``buyer`` takes it ``apart`` seconds later."""
        sell = self.order(at, seller, "sell", qty, price)
        buy = self.order(at + apart, buyer, "buy", qty, price)
        self.trade(at + apart, buy, sell, qty, price)

    def raised(self, typology: str | None = None) -> list[AlertDraft]:
        return [a for a in self.alerts.values() if typology is None or a.typology == typology]
