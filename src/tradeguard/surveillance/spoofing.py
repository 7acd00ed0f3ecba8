"""Spoofing and layering: orders placed to be cancelled, around a genuine opposite execution.

Trillium's three steps, checked when an order is cancelled:
1. the order was on the book only briefly, barely filled, at or near the best price on
   its side (it added depth or improved the price);
2. while it was open, an order of the same group on the other side executed (the
   genuine order), and the group's open volume on the spoof side at that moment was far
   larger than the genuine order and whatever else the group had open on the genuine
   side (``min_size_ratio``): a market maker quoting both sides does not qualify;
3. the order was cancelled soon after that execution.
The cancelled orders around one genuine execution form a cycle; a cycle whose spoof
orders stood at ``layering_min_levels`` price levels or more is layering, else spoofing;
the levels are counted when the genuine order executed (the layers standing then, as in
the published layering cases) and among the orders cancelled, whichever is more: a
layer hit before the others are cancelled was still a layer.
Cycles of one group and symbol with no long gap are one episode, one alert.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from tradeguard.cases.model import AlertDraft
from tradeguard.surveillance.alerting import capped, episode_alert
from tradeguard.surveillance.episodes import Episodes
from tradeguard.surveillance.events import BUY, dollars, opposite
from tradeguard.surveillance.market import Fill, Market, Order
from tradeguard.surveillance.parameters import NS, SpoofParameters

BPS = 10_000


@dataclass(slots=True)
class Cycle:
    """The spoof orders cancelled around one genuine execution."""

    genuine: Fill
    levels: set[int]
    orders: dict[str, dict[str, object]] = field(default_factory=dict)
    cancelled: int = 0
    placed: int = 0


class SpoofDetector:
    """Checks each cancellation against the group's recent opposite-side executions."""

    def __init__(self, market: Market, params: SpoofParameters, gap_ns: int) -> None:
        self.market = market
        self.params = params
        self.episodes = Episodes(gap_ns)
        self.cycles: dict[str, Cycle] = {}
        self._max_lifetime_ns = params.max_lifetime_seconds * NS

    def on_cancel(self, order: Order, ts: int, left: int) -> list[AlertDraft]:
        """Whether this cancellation completes a spoofing or layering cycle."""
        fills = self.market.fills.get((order.symbol, order.group))
        # the commonest case first: no fill of the group since the order came
        if not fills or fills[-1].ts < order.placed or not self._looks_placed_to_cancel(order, ts):
            return []
        genuine = self._genuine_fill(order, ts)
        if genuine is None:
            return []
        genuine_qty = self._genuine_qty(genuine)
        if genuine.opposite_open < self.params.min_size_ratio * (genuine_qty + genuine.same_open):
            return []  # a two-sided quoter has as much open on the genuine side
        if order.qty < self.params.min_order_size_ratio * genuine_qty:
            return []  # a quoter's orders are the size of the one that filled
        cycle = self._cycle(order, genuine)
        cycle.orders[order.order_id] = _spoof_view(order, ts)
        cycle.cancelled += left
        cycle.placed += order.qty
        if cycle.cancelled < self.params.min_cancel_ratio * cycle.placed:
            return []
        return self._alert(order, cycle, genuine_qty, ts)

    def _looks_placed_to_cancel(self, order: Order, ts: int) -> bool:
        if order.price is None or ts - order.placed > self._max_lifetime_ns:
            return False
        if order.filled and order.filled > self.params.max_fill_fraction * order.qty:
            return False
        best = order.best_at_placement
        if best is None:
            return True
        reach = best * self.params.near_touch_bps // BPS
        return order.price >= best - reach if order.side == BUY else order.price <= best + reach

    def _genuine_fill(self, order: Order, ts: int) -> Fill | None:
        """The group's latest opposite execution while the order was open, not long ago."""
        fills = self.market.recent_fills(order.symbol, order.group)
        if not fills or fills[-1].ts < order.placed:
            return None  # the commonest case: no fill of the group since the order came
        wanted = opposite(order.side)
        horizon = ts - self.params.max_cancel_after_fill_seconds * NS
        for fill in reversed(fills):
            if fill.ts < max(order.placed, horizon):
                return None
            if fill.side == wanted and fill.ts <= ts:
                return fill
        return None

    def _genuine_qty(self, fill: Fill) -> int:
        genuine = self.market.orders.get(fill.order_id)
        return max(genuine.filled, fill.qty) if genuine is not None else fill.qty

    def _cycle(self, order: Order, genuine: Fill) -> Cycle:
        cycle = self.cycles.get(genuine.order_id)
        if cycle is None:
            still_open = self.market.group_open_orders(order.symbol, order.group, order.side)
            levels = {o.price for o in still_open.values() if o.price is not None}
            cycle = self.cycles[genuine.order_id] = Cycle(genuine, levels)
        if order.price is not None:
            cycle.levels.add(order.price)
        return cycle

    def _alert(self, order: Order, cycle: Cycle, genuine_qty: int, ts: int) -> list[AlertDraft]:
        levels = max(len(cycle.levels), cycle.genuine.opposite_levels)
        layered = levels >= self.params.layering_min_levels
        typology = "layering" if layered else "spoofing"
        start = min(int(str(view["placed"])) for view in cycle.orders.values())
        episode = self.episodes.at((typology, order.symbol, order.group), start, ts)
        episode.accounts |= {order.account, cycle.genuine.account}
        cycles = episode.facts.setdefault("cycles", {})
        ratio = cycle.genuine.opposite_open / genuine_qty
        cycles[cycle.genuine.order_id] = _cycle_view(cycle, genuine_qty, ratio, levels)
        strongest = max(float(str(view["size_ratio"])) for view in cycles.values())
        params = self.params
        if len(cycles) < params.min_cycles and strongest < params.single_cycle_min_ratio:
            return []
        evidence = {"cycles": capped(list(cycles.values())), "cycle_count": len(cycles)}
        score = 0.5 + min(len(cycles), 5) / 20 + min(strongest / params.min_size_ratio, 5.0) / 20
        rule = f"{typology}.cancel_after_opposite_fill"
        return [
            episode_alert(
                typology, order.symbol, order.group, episode, rule, score, evidence, asdict(params)
            )
        ]

    def evict(self, now: int) -> None:
        """Forget cycles and episodes too old to grow."""
        self.episodes.evict(now)
        horizon = now - self.episodes.gap_ns
        for key in [key for key, cycle in self.cycles.items() if cycle.genuine.ts < horizon]:
            del self.cycles[key]


def _spoof_view(order: Order, ts: int) -> dict[str, object]:
    return {
        "order_id": order.order_id,
        "account": order.account,
        "side": order.side,
        "qty": order.qty,
        "filled": order.filled,
        "price": dollars(order.price),
        "best_at_placement": dollars(order.best_at_placement),
        "placed": order.placed,
        "lifetime_seconds": (ts - order.placed) / NS,
    }


def _cycle_view(cycle: Cycle, genuine_qty: int, ratio: float, levels: int) -> dict[str, object]:
    fill = cycle.genuine
    return {
        "genuine_order": fill.order_id,
        "genuine_account": fill.account,
        "genuine_side": fill.side,
        "genuine_filled": genuine_qty,
        "fill_price": dollars(fill.price),
        "fill_ts": fill.ts,
        "spoof_side_open_at_fill": fill.opposite_open,
        "size_ratio": round(ratio, 2),
        "cancel_ratio": round(cycle.cancelled / max(cycle.placed, 1), 3),
        "price_levels": levels,
        "spoof_orders": capped(list(cycle.orders.values()), 20),
    }
