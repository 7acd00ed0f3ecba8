"""Wash trading: trades that change no beneficial ownership, or pre-arranged round trips.

Three rules, one alert per episode (typology, symbol, group or pair, gaps under the limit):
- ``wash.same_owner``: both sides held by one beneficial owner;
- ``wash.linked_accounts``: both sides in one group of accounts tied by device, IP, bank
  or address;
- ``wash.round_trip``: an unrelated pair trading back and forth with each other, with
  little net change in position, and the two orders of most trades placed together.
"""

from __future__ import annotations

from dataclasses import asdict

from tradeguard.cases.model import AlertDraft
from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.alerting import capped, episode_alert
from tradeguard.surveillance.episodes import Episode, Episodes
from tradeguard.surveillance.events import TradeExecuted, dollars
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
        facts.setdefault("trade_list", []).append(
            {
                "trade_id": event.trade_id,
                "ts": event.ts,
                "qty": event.qty,
                "price": dollars(event.price),
                "buyer": buy.account,
                "seller": sell.account,
                "orders_apart_seconds": abs(buy.placed - sell.placed) / NS,
            }
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
            "trades": capped(facts["trade_list"]),
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
        """Forget episodes that ended more than the gap ago."""
        self.episodes.evict(now)
