"""Front-running: a firm or employee account trades ahead of a large client order.

A client order of at least ``large_order_multiple`` times the symbol's average order
size (and ``large_order_min_qty`` shares) is watched from its arrival until it is done.
A proprietary or employee account that places an order on the same side after it
arrived (within ``max_ahead_seconds``) and takes liquidity with it while the client
order is still being worked, not against the client and not after having traded
against it (a hedge), has traded ahead (a market maker's resting quote that is hit is
not trading ahead). When the client order then trades and the firm side sells (or buys
back) at least ``min_unwind_fraction`` of that within ``unwind_seconds`` of trading
ahead, it unwound: one alert per episode, naming the firm-side accounts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from tradeguard.cases.model import AlertDraft
from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.alerting import capped, episode_alert
from tradeguard.surveillance.episodes import Episodes
from tradeguard.surveillance.events import dollars
from tradeguard.surveillance.market import Fill, Market, Order
from tradeguard.surveillance.parameters import NS, FrontRunParameters

TYPOLOGY = "front_running"


@dataclass(slots=True)
class ClientOrder:
    """A large client order being worked, and who traded ahead of it."""

    order: Order
    first_fill: int | None = None
    last_fill: int | None = None
    done: int | None = None
    ahead_since: dict[str, int] = field(default_factory=dict)
    hedgers: set[str] = field(default_factory=set)
    ahead: dict[str, int] = field(default_factory=dict)
    unwound: dict[str, int] = field(default_factory=dict)
    fills: dict[str, list[dict[str, object]]] = field(default_factory=dict)


class FrontRunDetector:
    """Large client orders per symbol and the firm-side trading around them."""

    def __init__(
        self, market: Market, directory: AccountDirectory, params: FrontRunParameters, gap_ns: int
    ) -> None:
        self.market = market
        self.directory = directory
        self.params = params
        self.episodes = Episodes(gap_ns)
        self.watched: dict[str, dict[str, ClientOrder]] = {}

    def on_order(self, order: Order, average_size: float | None) -> None:
        """Start watching a large client order."""
        if average_size is None:
            return
        params = self.params
        large = max(params.large_order_min_qty, params.large_order_multiple * average_size)
        if order.qty >= large and not self.directory.is_firm_side(order.account):
            self.watched.setdefault(order.symbol, {})[order.order_id] = ClientOrder(order)
            order.watched = True

    def on_fill(self, fill: Fill, order: Order) -> list[AlertDraft]:
        """Follow a fill of a watched client order or of a firm-side account."""
        watched = self.watched.get(order.symbol)
        if not watched:
            return []
        client = watched.get(order.order_id)
        if client is not None:
            self._client_filled(client, fill)
            return []
        if not self.directory.is_firm_side(order.account):
            return []
        alerts = []
        for candidate in watched.values():
            alert = self._firm_fill(candidate, fill, order)
            if alert is not None:
                alerts.append(alert)
        return alerts

    def on_close(self, order: Order, ts: int) -> None:
        """A watched client order is done."""
        orders = self.watched.get(order.symbol)
        client = orders.get(order.order_id) if orders else None
        if client is not None and client.done is None:
            client.done = ts

    def _client_filled(self, client: ClientOrder, fill: Fill) -> None:
        if client.first_fill is None:
            client.first_fill = fill.ts
        client.last_fill = fill.ts
        counterparty = self.directory.group(fill.counterparty)
        if self.directory.is_firm_side(fill.counterparty) and counterparty not in client.ahead:
            client.hedgers.add(counterparty)  # it traded with the client: later trades hedge
        if client.order.filled >= client.order.qty:
            client.done = fill.ts

    def _firm_fill(self, client: ClientOrder, fill: Fill, order: Order) -> AlertDraft | None:
        group = order.group
        if group in client.hedgers:
            return None
        params = self.params
        if order.side == client.order.side:
            if fill.counterparty == client.order.account or not fill.aggressor:
                return None  # trading ahead takes liquidity; a resting quote was there before
            arrived = client.order.placed
            ahead = arrived <= order.placed <= arrived + params.max_ahead_seconds * NS
            if ahead and client.done is None:
                client.ahead_since.setdefault(group, fill.ts)
                client.ahead[group] = client.ahead.get(group, 0) + fill.qty
                client.fills.setdefault(group, []).append(_fill_view(fill, "ahead"))
            return None
        return self._unwind(client, fill, group)

    def _unwind(self, client: ClientOrder, fill: Fill, group: str) -> AlertDraft | None:
        ahead = client.ahead.get(group, 0)
        since = client.ahead_since.get(group)
        if not ahead or since is None or fill.ts - since > self.params.unwind_seconds * NS:
            return None
        if client.last_fill is None or client.last_fill <= since:
            return None  # the client order has not traded since: nothing was front-run yet
        client.unwound[group] = client.unwound.get(group, 0) + fill.qty
        client.fills[group].append(_fill_view(fill, "unwind"))
        if client.unwound[group] < self.params.min_unwind_fraction * ahead:
            return None
        return self._alert(client, group, fill.ts)

    def _alert(self, client: ClientOrder, group: str, now: int) -> AlertDraft:
        fills = client.fills[group]
        start = min(int(str(view["ts"])) for view in fills)
        symbol = client.order.symbol
        episode = self.episodes.at((TYPOLOGY, symbol, group), start, now)
        episode.accounts |= {str(view["account"]) for view in fills}
        evidence = {
            "client_order": client.order.order_id,
            "client_account": client.order.account,
            "client_side": client.order.side,
            "client_qty": client.order.qty,
            "client_received": client.order.placed,
            "client_first_fill": client.first_fill,
            "client_last_fill": client.last_fill,
            "ahead_since": client.ahead_since[group],
            "ahead_qty": client.ahead[group],
            "unwound_qty": client.unwound[group],
            "firm_fills": capped(fills),
        }
        score = 0.7 + min(client.unwound[group] / client.ahead[group], 1.0) / 5
        return episode_alert(
            TYPOLOGY,
            symbol,
            group,
            episode,
            "front_running.ahead_and_unwound",
            score,
            evidence,
            asdict(self.params),
        )

    def evict(self, now: int) -> None:
        """Forget client orders done longer ago than the unwind window."""
        self.episodes.evict(now)
        horizon = now - self.params.unwind_seconds * NS
        for orders in self.watched.values():
            for order_id in [
                k for k, c in orders.items() if c.done is not None and c.done < horizon
            ]:
                del orders[order_id]


def _fill_view(fill: Fill, role: str) -> dict[str, object]:
    return {
        "role": role,
        "account": fill.account,
        "order_id": fill.order_id,
        "side": fill.side,
        "qty": fill.qty,
        "price": dollars(fill.price),
        "ts": fill.ts,
    }
