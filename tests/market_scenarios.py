"""A seeded market day with manipulation episodes and innocent look-alikes, for replay.

Background: market makers re-quoting both sides every few seconds (they cancel nearly
every order), noise traders, day traders making round trips against whoever is there,
linked households trading on their own, a momentum run on news bought by unrelated
accounts, and a proprietary desk that fills a large client order and then hedges.
Injected episodes (the truth): wash trades between accounts of one owner or of linked
accounts, spoofing and layering around a genuine execution, a pump and dump by a linked
group, and an employee trading ahead of a large client order and unwinding.
Everything is driven by one ``random.Random(seed)``; times are nanoseconds.
"""

from __future__ import annotations

import csv
import heapq
import itertools
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from market_sim import TICK, Venue

S = 1_000_000_000
DAY_START = 1_795_253_400 * S  # 2026-11-21 09:30 UTC


@dataclass(frozen=True)
class Truth:
    typology: str
    symbol: str
    accounts: tuple[str, ...]
    start: int
    end: int


@dataclass
class Day:
    venue: Venue = field(default_factory=Venue)
    accounts: list[tuple[str, str, str]] = field(default_factory=list)
    links: list[tuple[str, str, str]] = field(default_factory=list)
    truths: list[Truth] = field(default_factory=list)

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        with (directory / "accounts.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["account", "kind", "owner"])
            writer.writerows(self.accounts)
        with (directory / "links.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["account_a", "account_b", "kind"])
            writer.writerows(self.links)
        with (directory / "events.jsonl").open("w") as handle:
            for line in self.venue.lines:
                handle.write(json.dumps(line) + "\n")


class Schedule:
    """Actions in time order; an action may schedule more."""

    def __init__(self) -> None:
        self.queue: list[tuple[int, int, Callable[[int], None]]] = []
        self.counter = itertools.count()

    def at(self, ts: int, action: Callable[[int], None]) -> None:
        heapq.heappush(self.queue, (ts, next(self.counter), action))

    def run(self, until: int) -> None:
        while self.queue and self.queue[0][0] <= until:
            ts, _, action = heapq.heappop(self.queue)
            action(ts)


@dataclass
class Config:
    symbols: int = 6
    hours: float = 4.0
    noise_traders: int = 60
    wash: int = 2
    spoofing: int = 2
    layering: int = 2
    pump: int = 1
    front_running: int = 2


class Generator:
    def __init__(self, seed: int, config: Config | None = None) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
        self.config = config or Config()
        self.day = Day()
        self.venue = self.day.venue
        self.schedule = Schedule()
        self.end = DAY_START + int(self.config.hours * 3600 * S)
        self.symbols = [f"SYM{n}" for n in range(self.config.symbols)]
        self.base = {symbol: self.rng.randint(10, 120) * 10_000 for symbol in self.symbols}
        self.owner_counter = itertools.count(1)
        self.busy: set[str] = set()  # symbols with an injected episode (one at a time)
        self.noise: list[str] = []

    # accounts ---------------------------------------------------------------------

    def account(self, kind: str = "client", owner: str | None = None) -> str:
        name = f"A{len(self.day.accounts) + 1:04d}"
        self.day.accounts.append((name, kind, owner or f"P{next(self.owner_counter):04d}"))
        return name

    def link(self, first: str, second: str, kind: str) -> None:
        self.day.links.append((first, second, kind))

    # helpers ----------------------------------------------------------------------

    def price(self, symbol: str) -> int:
        return self.venue.mid(symbol, self.base[symbol])

    def shares(self, low: int, high: int) -> int:
        return self.rng.randint(low, high) * 100

    def start_time(self, needs_minutes: float = 15) -> int:
        """A start that leaves ``needs_minutes`` before the end, after a 20-minute warm-up."""
        warmup = 20 * 60 * S
        span = self.end - DAY_START - warmup - int(needs_minutes * 60 * S)
        return DAY_START + warmup + self.rng.randrange(max(span, 1))

    def submit(  # noqa: PLR0913, PLR0917 - an order's terms
        self, ts: int, account: str, symbol: str, side: str, qty: int, price: int | None
    ) -> str:
        return self.venue.submit(ts, account, symbol, side, qty, price)

    # background -------------------------------------------------------------------

    def market_maker(self, symbol: str, levels: int) -> None:
        account = self.account(self.rng.choice(["client", "proprietary"]))
        live: list[str] = []

        def requote(ts: int) -> None:
            for order_id in live:
                self.venue.cancel(ts, symbol, order_id)
            live.clear()
            mid = self.price(symbol)
            size = self.shares(1, 5)
            for level in range(levels):
                offset = (self.rng.randint(1, 2) + level) * TICK
                live.append(self.submit(ts, account, symbol, "buy", size, mid - offset))
                live.append(self.submit(ts, account, symbol, "sell", size, mid + offset))
            self.schedule.at(ts + self.rng.randint(2, 12) * S, requote)

        self.schedule.at(DAY_START + self.rng.randint(0, 5) * S, requote)

    def noise_trader(self, account: str, rate_seconds: int) -> None:
        def act(ts: int) -> None:
            symbol = self.rng.choice(self.symbols)
            side = self.rng.choice(["buy", "sell"])
            if self.rng.random() < 0.6:
                self.submit(ts, account, symbol, side, self.shares(1, 5), None)
            else:
                mid = self.price(symbol)
                offset = self.rng.randint(0, 4) * TICK
                order_id = self.submit(
                    ts,
                    account,
                    symbol,
                    side,
                    self.shares(1, 5),
                    mid - offset if side == "buy" else mid + offset,
                )
                wait = self.rng.randint(20, 600) * S
                self.schedule.at(ts + wait, lambda t: self.venue.cancel(t, symbol, order_id))
            self.schedule.at(ts + int(self.rng.expovariate(1 / rate_seconds) * S) + S, act)

        self.schedule.at(DAY_START + self.rng.randint(0, rate_seconds) * S, act)

    def day_trader(self, account: str) -> None:
        def round_trip(ts: int) -> None:
            symbol = self.rng.choice(self.symbols)
            qty = self.shares(1, 10)
            first, second = self.rng.sample(["buy", "sell"], 2)
            self.submit(ts, account, symbol, first, qty, None)
            later = ts + self.rng.randint(30, 1200) * S
            self.schedule.at(later, lambda t: self.submit(t, account, symbol, second, qty, None))
            self.schedule.at(later + self.rng.randint(60, 900) * S, round_trip)

        self.schedule.at(DAY_START + self.rng.randint(0, 600) * S, round_trip)

    def households(self, pairs: int) -> None:
        for _ in range(pairs):
            first, second = self.account(), self.account()
            self.link(first, second, self.rng.choice(["same_address", "same_ip", "same_device"]))
            self.noise_trader(first, 90)
            self.noise_trader(second, 90)

    def momentum(self, symbol: str, start: int) -> None:
        buyers = [self.account() for _ in range(15)]

        def buy(ts: int, step: int) -> None:
            account = self.rng.choice(buyers)
            price = self.price(symbol) * (1000 + self.rng.randint(2, 6)) // 1000
            self.submit(ts, account, symbol, "buy", self.shares(1, 6), price - price % TICK)
            if step < 60:
                self.schedule.at(ts + self.rng.randint(5, 25) * S, lambda t: buy(t, step + 1))

        self.schedule.at(start, lambda t: buy(t, 0))
        for account in buyers[:6]:  # some take profit much later, without coordination
            later = start + self.rng.randint(40, 100) * 60 * S
            self.schedule.at(
                later, lambda t, a=account: self.submit(t, a, symbol, "sell", 100, None)
            )

    def hedging_desk(self, symbol: str, start: int) -> None:
        client, desk = self.account(), self.account("proprietary")
        qty = self.shares(30, 60)

        def facilitate(ts: int) -> None:
            ask = self.price(symbol) + TICK
            self.submit(ts, desk, symbol, "sell", qty, ask)
            self.submit(ts + S, client, symbol, "buy", qty, ask)
            for n in range(5):
                self.schedule.at(
                    ts + (30 + 40 * n) * S,
                    lambda t: self.submit(t, desk, symbol, "buy", qty // 5, None),
                )

        self.schedule.at(start, facilitate)

    # manipulation -----------------------------------------------------------------

    def wash(self, symbol: str, start: int) -> None:
        if self.rng.random() < 0.5:
            owner = f"P{next(self.owner_counter):04d}"
            first, second = self.account(owner=owner), self.account(owner=owner)
        else:
            first, second = self.account(), self.account()
            self.link(first, second, self.rng.choice(["same_device", "same_bank"]))
        trades = self.rng.randint(3, 6)
        times = [start]
        for _ in range(trades - 1):
            times.append(times[-1] + self.rng.randint(60, 300) * S)

        def cross(ts: int, n: int) -> None:
            seller, buyer = (first, second) if n % 2 == 0 else (second, first)
            bid, ask = self.venue.best(symbol, "buy"), self.venue.best(symbol, "sell")
            price = ((bid + ask) // 2) if bid and ask else self.price(symbol)
            qty = self.shares(2, 10)
            self.submit(ts, seller, symbol, "sell", qty, price)
            self.submit(ts + self.rng.randint(1, 15) * S, buyer, symbol, "buy", qty, price)

        for n, ts in enumerate(times):
            self.schedule.at(ts, lambda t, n=n: cross(t, n))
        self.truth("wash_trading", symbol, (first, second), start, times[-1] + 20 * S)

    def spoof(self, symbol: str, start: int, levels: int) -> None:
        spoofer = self.account()
        cycles = self.rng.randint(3, 5)
        times = [start]
        for _ in range(cycles - 1):
            times.append(times[-1] + self.rng.randint(60, 400) * S)

        def cycle(ts: int) -> None:
            spoof_side = self.rng.choice(["buy", "sell"])
            genuine_side = "sell" if spoof_side == "buy" else "buy"
            genuine_qty = self.shares(1, 3)
            spoof_qty = genuine_qty * self.rng.randint(10, 40) // levels
            touch = self.venue.best(symbol, spoof_side) or self.price(symbol)
            step = TICK if spoof_side == "buy" else -TICK
            spoofs = [
                self.submit(
                    ts + n * S // 5, spoofer, symbol, spoof_side, spoof_qty, touch + step * (1 - n)
                )
                for n in range(levels)
            ]
            near = self.venue.best(symbol, genuine_side) or self.price(symbol)
            genuine = self.submit(ts + 2 * S, spoofer, symbol, genuine_side, genuine_qty, near)
            taker = self.rng.choice(self.noise)
            filled_at = ts + self.rng.randint(3, 8) * S
            self.schedule.at(filled_at, lambda t: self.take(t, taker, symbol, spoof_side, genuine))
            cancel_at = filled_at + self.rng.randint(1, 10) * S
            for order_id in spoofs:
                self.schedule.at(cancel_at, lambda t, o=order_id: self.venue.cancel(t, symbol, o))
            self.schedule.at(cancel_at + 30 * S, lambda t: self.venue.cancel(t, symbol, genuine))

        for ts in times:
            self.schedule.at(ts, cycle)
        typology = "layering" if levels >= 3 else "spoofing"
        self.truth(typology, symbol, (spoofer,), start, times[-1] + 30 * S)

    def take(self, ts: int, taker: str, symbol: str, side: str, order_id: str) -> None:
        """The traders the spoof drew in: they trade through the queue up to the order."""
        queue = self.venue.book(symbol)["sell" if side == "buy" else "buy"]
        ahead = 0
        for resting in queue:
            ahead += resting.left
            if resting.order_id == order_id:
                self.submit(ts, taker, symbol, side, ahead, None)
                return

    def pump_and_dump(self, symbol: str, start: int) -> None:
        PumpAndDump(self, symbol, start)

    def front_run(self, symbol: str, start: int) -> None:
        client = self.account()
        runner = self.account(self.rng.choice(["employee", "proprietary"]))
        qty = self.shares(50, 120)

        def arrive(ts: int) -> None:
            bid = self.venue.best(symbol, "buy") or self.price(symbol)
            order_id = self.submit(ts, client, symbol, "buy", qty, bid + TICK)
            ahead = self.shares(5, 20)
            self.schedule.at(
                ts + self.rng.randint(5, 60) * S,
                lambda t: self.submit(t, runner, symbol, "buy", ahead, None),
            )
            work_at = ts + self.rng.randint(90, 240) * S
            self.schedule.at(work_at, lambda t: work(t, order_id, ahead))

        def work(ts: int, order_id: str, ahead: int) -> None:
            # the desk works the order: it raises the limit until it takes what is offered
            for n in range(4):
                self.schedule.at(
                    ts + n * 20 * S,
                    lambda t, n=n: self.venue.modify(
                        t,
                        symbol,
                        order_id,
                        qty - self.venue.filled.get(order_id, 0),
                        self.price(symbol) + (n + 2) * TICK,
                    ),
                )
            self.schedule.at(
                ts + 100 * S, lambda t: self.submit(t, runner, symbol, "sell", ahead, None)
            )

        self.schedule.at(start, arrive)
        self.truth("front_running", symbol, (runner,), start, start + 400 * S)

    def truth(
        self, typology: str, symbol: str, accounts: tuple[str, ...], start: int, end: int
    ) -> None:
        self.day.truths.append(Truth(typology, symbol, accounts, start, end))

    # the day ----------------------------------------------------------------------

    def build(self) -> Day:
        config = self.config
        for symbol in self.symbols:
            self.market_maker(symbol, 1)
            self.market_maker(symbol, self.rng.choice([1, 3]))
        self.noise = [self.account() for _ in range(config.noise_traders)]
        for account in self.noise:
            self.noise_trader(account, 120)
        for _ in range(8):
            self.day_trader(self.account())
        self.households(6)
        self.momentum(self.rng.choice(self.symbols), self.start_time(100))
        self.hedging_desk(self.rng.choice(self.symbols), self.start_time())
        self.inject()
        self.schedule.run(self.end)
        return self.day

    def inject(self) -> None:
        config = self.config
        plans = (
            [(self.wash, {})] * config.wash
            + [(self.spoof, {"levels": 1})] * config.spoofing
            + [(self.spoof, {"levels": 4})] * config.layering
            + [(self.pump_and_dump, {})] * config.pump
            + [(self.front_run, {})] * config.front_running
        )
        for make, extra in plans:
            make(
                self.rng.choice(self.symbols),
                self.start_time(20 if make != self.pump_and_dump else 110),
                **extra,
            )


class PumpAndDump:
    """Promoters accumulate quietly, promote (unrelated investors buy on the promotion and
    the group marks the price up with them) and sell what they accumulated into that
    demand at the peak, as the published pump-and-dump cases run."""

    def __init__(self, generator: Generator, symbol: str, start: int) -> None:
        self.gen, self.symbol, self.rng = generator, symbol, generator.rng
        owner = f"P{next(generator.owner_counter):04d}"
        group = [generator.account(owner=owner), generator.account(owner=owner)]
        third = generator.account()
        generator.link(group[1], third, "same_device")
        self.group = [*group, third]
        self.promoted = [generator.account() for _ in range(self.rng.randint(20, 40))]
        self.orders: dict[str, list[tuple[str, int]]] = {account: [] for account in self.group}
        self.rise = self.rng.uniform(0.3, 0.8)
        self.pump = start + 40 * 60 * S
        self.promotion_ends = generator.end
        self.accumulated = 0
        generator.schedule.at(start, self.buy_quietly)
        generator.schedule.at(self.pump, self.promote)
        generator.truth("pump_and_dump", symbol, tuple(self.group), start, start + 105 * 60 * S)

    def held(self, account: str) -> int:
        filled = self.gen.venue.filled
        return sum(sign * filled.get(o, 0) for o, sign in self.orders[account])

    def holding(self) -> int:
        return sum(self.held(account) for account in self.group)

    def order(  # noqa: PLR0913, PLR0917 - an order's terms
        self, ts: int, account: str, side: str, qty: int, price: int, life: int
    ) -> None:
        symbol, venue = self.symbol, self.gen.venue
        order_id = venue.submit(ts, account, symbol, side, qty, price - price % TICK)
        if account in self.orders:
            self.orders[account].append((order_id, 1 if side == "buy" else -1))
        self.gen.schedule.at(ts + life * S, lambda t: venue.cancel(t, symbol, order_id))

    def buy_quietly(self, ts: int) -> None:
        # the bulk of the position, before the promotion and at the prices of before
        # (taking the offer in small lots): what they later sell into the peak
        ask = self.gen.venue.best(self.symbol, "sell") or self.gen.price(self.symbol)
        self.order(ts, self.rng.choice(self.group), "buy", self.gen.shares(3, 8), ask, 50)
        later = ts + self.rng.randint(15, 35) * S
        if later < self.pump:
            self.gen.schedule.at(later, self.buy_quietly)

    def promote(self, ts: int) -> None:
        self.accumulated = self.holding()
        self.outside(ts)
        target = int(self.gen.price(self.symbol) * (1 + self.rise))
        self.push(ts, 0, target)

    def outside(self, ts: int) -> None:
        # investors unrelated to the group buy on the promotion while it lasts
        price = self.gen.price(self.symbol) * (1000 + self.rng.randint(5, 12)) // 1000
        account = self.rng.choice(self.promoted)
        self.order(ts, account, "buy", self.gen.shares(1, 5), price, 30)
        if ts < self.promotion_ends:
            self.gen.schedule.at(ts + self.rng.randint(2, 8) * S, self.outside)

    def push(self, ts: int, n: int, target: int) -> None:
        # the group marks the price up alongside them until it stands where it sells,
        # buying on the ramp no more than it accumulated before
        room = 2 * self.accumulated - self.holding()
        if room > 0:
            price = self.gen.price(self.symbol) * 1012 // 1000
            qty = min(self.gen.shares(2, 5), room)
            self.order(ts, self.rng.choice(self.group), "buy", qty, price, 4)
        later = ts + self.rng.randint(5, 20) * S
        if n < 120 and self.gen.price(self.symbol) < target:
            self.gen.schedule.at(later, lambda t: self.push(t, n + 1, target))
        else:  # and sell what it holds into their demand
            self.gen.schedule.at(later, lambda t: self.sell(t, 0))

    def sell(self, ts: int, n: int) -> None:
        holders = [account for account in self.group if self.held(account) > 0]
        if not holders or n > 120:  # the promotion stops; its buyers fade soon after
            self.promotion_ends = ts + self.rng.randint(2, 6) * 60 * S
            return
        account = self.rng.choice(holders)
        # offered at the price: the promoted buyers' bids above it take it at once
        qty = min(self.gen.shares(10, 20), self.held(account))
        self.order(ts, account, "sell", qty, self.gen.price(self.symbol), 10)
        self.gen.schedule.at(ts + self.rng.randint(10, 30) * S, lambda t: self.sell(t, n + 1))


def generate(seed: int, config: Config | None = None) -> Day:
    return Generator(seed, config).build()


def scores(
    truths: list[Truth], alerts: list[dict[str, Any]], slack_ns: int = 60 * S
) -> dict[str, dict[str, float]]:
    """Precision, recall and F1 per typology: an alert matches a truth of its typology and
    symbol whose window overlaps its own and that shares an account."""
    result: dict[str, dict[str, float]] = {}
    for typology in sorted({t.typology for t in truths} | {a["typology"] for a in alerts}):
        wanted = [t for t in truths if t.typology == typology]
        raised = [a for a in alerts if a["typology"] == typology]
        hits = [a for a in raised if any(matches(a, t, slack_ns) for t in wanted)]
        found = [t for t in wanted if any(matches(a, t, slack_ns) for a in raised)]
        precision = len(hits) / len(raised) if raised else 1.0
        recall = len(found) / len(wanted) if wanted else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[typology] = {
            "alerts": len(raised),
            "episodes": len(wanted),
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    return result


def tagged(
    seed: int, truths: list[Truth], alerts: list[dict[str, Any]]
) -> tuple[list[Truth], list[dict[str, Any]]]:
    """Truths and alerts of one day with the seed in their symbols, so days pool safely."""
    marked = [Truth(t.typology, f"{seed}:{t.symbol}", t.accounts, t.start, t.end) for t in truths]
    return marked, [alert | {"symbol": f"{seed}:{alert['symbol']}"} for alert in alerts]


def matches(alert: dict[str, Any], truth: Truth, slack: int = 60 * S) -> bool:
    """Whether the alert is about the true episode: symbol, overlapping window, an account."""
    return (
        alert["symbol"] == truth.symbol
        and alert["start_ts"] <= truth.end + slack
        and alert["end_ts"] >= truth.start - slack
        and bool(set(alert["accounts"]) & set(truth.accounts))
    )
