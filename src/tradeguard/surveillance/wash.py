"""Wash trading: trades that change no beneficial ownership, or pre-arranged round trips.

Three rules, one alert per episode (typology, symbol, group or pair, gaps under the limit):
- ``wash.same_owner``: both sides held by one beneficial owner;
- ``wash.linked_accounts``: both sides in one group of accounts tied by device, IP, bank
  or address;
- ``wash.round_trip``: an unrelated pair trading back and forth with each other, with
  little net change in position, and the two orders of most trades placed together.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict

from tradeguard.cases.model import AlertDraft
from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.alerting import EVIDENCE_LIMIT, capped, episode_alert
from tradeguard.surveillance.episodes import Episode, Episodes
from tradeguard.surveillance.events import BUY, TradeExecuted, dollars
from tradeguard.surveillance.market import Order
from tradeguard.surveillance.parameters import NS, WashParameters

TYPOLOGY = "wash_trading"


class WashDetector:
    """Watches every trade for the three wash rules."""

    def __init__(self, directory: AccountDirectory, params: WashParameters, gap_ns: int) -> None:
        self.directory = directory
        self.params = params
        self.episodes = Episodes(gap_ns)
        self.trade_counts: dict[tuple[str, str], int] = {}
        self.venue_fills: dict[str, deque[tuple[TradeExecuted, Order]]] = {}
        """Outside venues' fills not yet paired, by symbol, oldest first."""

    def on_trade(self, event: TradeExecuted, buy: Order, sell: Order) -> list[AlertDraft]:
        """Count the trade toward its group's or its pair's episode; the alert once it counts."""
        if buy.account == sell.account:
            return []
        for group in {buy.group, sell.group}:
            key = (event.symbol, group)
            self.trade_counts[key] = self.trade_counts.get(key, 0) + 1
        if buy.group == sell.group:
            return self._within_group(event, buy, sell)
        return self._pair(event, buy, sell)

    def on_venue_fill(self, event: TradeExecuted, order: Order) -> list[AlertDraft]:
        """Pair an outside venue's fill with an opposite one of the same group; count the pair.

        The venue names no counterparty, so two accounts of one group meeting there are
        seen as two fills. An opposite fill of another account of the group, of the same
        size at the same price within ``prearranged_seconds``, is taken as their trade
        with each other: orders of substantially the same size, time and price on both
        sides for the same parties are the matched orders of the wash-trading cases
        (Exchange Act section 9(a)(1)). The pair then counts as one trade of the group.
        """
        waiting = self.venue_fills.setdefault(event.symbol, deque())
        horizon = event.ts - self.params.prearranged_seconds * NS
        while waiting and waiting[0][0].ts < horizon:
            waiting.popleft()
        for index, (other_event, other) in enumerate(waiting):
            if (
                other.side != order.side
                and other.group == order.group
                and other.account != order.account
                and other_event.qty == event.qty
                and other_event.price == event.price
            ):
                del waiting[index]
                buy, sell = (order, other) if order.side == BUY else (other, order)
                pair = TradeExecuted(
                    event.ts,
                    f"{other_event.trade_id}+{event.trade_id}",
                    event.symbol,
                    event.qty,
                    event.price,
                    buy.order_id,
                    sell.order_id,
                )
                return self.on_trade(pair, buy, sell)
        waiting.append((event, order))
        return []

    def _within_group(self, event: TradeExecuted, buy: Order, sell: Order) -> list[AlertDraft]:
        episode = self._record(("group", event.symbol, buy.group), event, buy, sell)
        same_owner = self.directory.same_owner(buy.account, sell.account)
        facts = episode.facts
        facts["same_owner_trades"] = facts.get("same_owner_trades", 0) + same_owner
        if facts["same_owner_trades"] >= self.params.same_owner_min_trades:
            return [self._alert(event.symbol, buy.group, episode, "wash.same_owner", 0.9)]
        if facts["trades"] - facts["same_owner_trades"] >= self.params.linked_min_trades:
            return [self._alert(event.symbol, buy.group, episode, "wash.linked_accounts", 0.75)]
        return []

    def _pair(self, event: TradeExecuted, buy: Order, sell: Order) -> list[AlertDraft]:
        first, second = sorted((buy.group, sell.group))
        episode = self._record(("pair", event.symbol, first, second), event, buy, sell)
        facts = episode.facts
        counts = self.trade_counts
        facts.setdefault(
            "base", (counts[(event.symbol, first)] - 1, counts[(event.symbol, second)] - 1)
        )
        exclusive = min(
            facts["trades"] / (counts[(event.symbol, group)] - base)
            for group, base in zip((first, second), facts["base"], strict=True)
        )
        facts["net_first"] = facts.get("net_first", 0) + (
            event.qty if buy.group == first else -event.qty
        )
        facts.setdefault("directions", set()).add(buy.group)
        params = self.params
        prearranged = facts["prearranged"] / facts["trades"]
        net = abs(facts["net_first"]) / facts["volume"]
        facts["exclusive"] = round(exclusive, 3)
        if (
            facts["trades"] >= params.pair_min_trades
            and len(facts["directions"]) == 2  # noqa: PLR2004 - both ways
            and net <= params.pair_max_net_fraction
            and prearranged >= params.pair_min_prearranged_fraction
            and exclusive >= params.pair_min_exclusive_fraction
        ):
            score = 0.5 + 0.4 * prearranged
            return [
                self._alert(event.symbol, f"{first}+{second}", episode, "wash.round_trip", score)
            ]
        return []

    def _record(
        self, key: tuple[str, ...], event: TradeExecuted, buy: Order, sell: Order
    ) -> Episode:
        episode = self.episodes.at(key, event.ts, event.ts)
        episode.accounts |= {buy.account, sell.account}
        facts = episode.facts
        facts["trades"] = facts.get("trades", 0) + 1
        facts["volume"] = facts.get("volume", 0) + event.qty
        facts["prearranged"] = facts.get("prearranged", 0) + self._matched(event, buy, sell)
        trades = facts.setdefault("trade_list", [])
        if len(trades) < EVIDENCE_LIMIT:  # only the first ones are ever shown
            apart = abs(buy.placed - sell.placed)
            trades.append(
                (event.trade_id, event.ts, event.qty, event.price, buy.account, sell.account, apart)
            )
        return episode

    def _matched(self, event: TradeExecuted, buy: Order, sell: Order) -> bool:
        """Whether the two orders look arranged: same size, filled by each other, close in time."""
        close = abs(buy.placed - sell.placed) <= self.params.prearranged_seconds * NS
        return close and buy.qty == sell.qty == event.qty

    def _alert(
        self, symbol: str, group: str, episode: Episode, rule: str, base: float
    ) -> AlertDraft:
        facts = episode.facts
        evidence = {
            "trades": [_trade_view(*trade) for trade in capped(facts["trade_list"])],
            "trade_count": facts["trades"],
            "volume": facts["volume"],
            "prearranged_trades": facts["prearranged"],
            "net_position_change": facts.get("net_first", 0),
            "share_of_each_sides_trades": facts.get("exclusive"),
        }
        score = base + min(facts["trades"], 10) / 100
        return episode_alert(
            TYPOLOGY, symbol, group, episode, rule, score, evidence, asdict(self.params)
        )

    def evict(self, now: int) -> None:
        """Forget episodes that ended more than the gap ago, and unpaired venue fills."""
        self.episodes.evict(now)
        horizon = now - self.params.prearranged_seconds * NS
        stale = [
            symbol
            for symbol, fills in self.venue_fills.items()
            if not fills or fills[-1][0].ts < horizon
        ]
        for symbol in stale:
            del self.venue_fills[symbol]


def _trade_view(  # noqa: PLR0913, PLR0917 - a trade as the episode keeps it
    trade_id: str, ts: int, qty: int, price: int, buyer: str, seller: str, apart: int
) -> dict[str, object]:
    """A trade of the evidence (kept as a tuple until an alert shows it)."""
    return {
        "trade_id": trade_id,
        "ts": ts,
        "qty": qty,
        "price": dollars(price),
        "buyer": buyer,
        "seller": seller,
        "orders_apart_seconds": apart / NS,
    }
