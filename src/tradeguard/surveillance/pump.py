"""Pump and dump: accumulate, drive price and volume far above the baseline, sell the peak.

Checked on every sale: an account that bought in the symbol and now sold at least
``min_sold_fraction`` of it at ``min_sell_premium`` above its average buy price is a
candidate. Its group (same owner, linked accounts) and the other candidates whose
accumulation began within ``coordination_seconds`` of its own and who each bought
``min_member_share`` of the volume act together; together they alert when the peak
stood ``min_price_rise`` above the symbol's average price before their first buy, the
symbol's busiest 15 minutes since then traded ``min_volume_multiple`` times its
baseline volume per minute before, and they bought ``min_buy_share`` of all shares
traded up to the peak (they drove the rise; many small momentum buyers do not).
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass

from tradeguard.cases.model import AlertDraft
from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.alerting import episode_alert
from tradeguard.surveillance.episodes import Episodes
from tradeguard.surveillance.events import BUY, TradeExecuted, dollars
from tradeguard.surveillance.market import Fill
from tradeguard.surveillance.parameters import NS, PumpParameters

TYPOLOGY = "pump_and_dump"
MINUTE = 60 * NS
BUSY_WINDOW = 15 * MINUTE


@dataclass(slots=True)
class Position:
    """What one account bought and sold in one symbol since it started accumulating."""

    first_buy: int
    last: int
    first_price: int
    bought: int = 0
    cost: int = 0
    sold: int = 0
    proceeds: int = 0
    most_held: int = 0

    def add(self, fill: Fill) -> None:
        """Count a fill."""
        if fill.side == BUY:
            self.bought, self.cost = self.bought + fill.qty, self.cost + fill.qty * fill.price
            self.most_held = max(self.most_held, self.bought - self.sold)
        else:
            self.sold, self.proceeds = self.sold + fill.qty, self.proceeds + fill.qty * fill.price
        self.last = fill.ts


@dataclass(slots=True)
class Run:
    """A symbol's trading from the start of an accumulation: peak, volumes, baseline."""

    peak: int = 0
    volume_to_peak: int = 0
    volume: int = 0
    busiest: int = 0
    """The most shares traded in any ``BUSY_WINDOW``."""
    baseline: float | None = None
    """Shares per minute before the accumulation (None without history)."""
    price_before: float | None = None

    def add(self, bar: Minute) -> None:
        """Count one minute."""
        self.volume += bar.volume
        if bar.high > self.peak:
            self.peak = bar.high
            self.volume_to_peak = self.volume


@dataclass(slots=True)
class Minute:
    """A symbol's trading in one minute."""

    start: int
    volume: int
    high: int
    notional: int


class PumpDetector:
    """Positions per account and symbol, minute bars per symbol."""

    def __init__(self, directory: AccountDirectory, params: PumpParameters, gap_ns: int) -> None:
        self.directory = directory
        self.params = params
        self.episodes = Episodes(gap_ns)
        self.positions: dict[tuple[str, str], Position] = {}
        self.bars: dict[str, deque[Minute]] = {}
        self.candidates: dict[str, dict[str, Position]] = {}

    def on_trade(self, event: TradeExecuted, buy: Fill, sell: Fill) -> list[AlertDraft]:
        """Count the trade; on a sale, check whether the seller is dumping a pump."""
        self._bar(event)
        self._position(event.symbol, buy)
        return self._sale(event, sell)

    def on_fill(self, event: TradeExecuted, fill: Fill) -> list[AlertDraft]:
        """A trade of which only one side is followed (the other an outside venue's)."""
        self._bar(event)
        if fill.side == BUY:
            self._position(event.symbol, fill)
            return []
        return self._sale(event, fill)

    def _sale(self, event: TradeExecuted, sell: Fill) -> list[AlertDraft]:
        position = self._position(event.symbol, sell)
        if position is None or not self._sold_high(position):
            return []
        self.candidates.setdefault(event.symbol, {})[sell.account] = position
        return self._check(event.symbol, sell.account, event.ts)

    def _position(self, symbol: str, fill: Fill) -> Position | None:
        key = (symbol, fill.account)
        position = self.positions.get(key)
        stale = position is not None and fill.ts - position.last > self.params.lookback_seconds * NS
        if position is None or stale:
            if fill.side != BUY:
                self.positions.pop(key, None)
                return None
            position = self.positions[key] = Position(fill.ts, fill.ts, fill.price)
        position.add(fill)
        return position

    def _sold_high(self, position: Position) -> bool:
        params = self.params
        if position.bought == 0 or position.sold < params.min_sold_fraction * position.bought:
            return False
        if position.most_held < params.min_accumulation * position.bought:
            return False  # it turned over (a market maker, a day trader), it did not accumulate
        average_sell = position.proceeds / position.sold
        return average_sell >= position.cost / position.bought * (1 + params.min_sell_premium)

    def _check(self, symbol: str, account: str, now: int) -> list[AlertDraft]:
        own = self.positions[(symbol, account)]
        run = self._run_since(symbol, own.first_buy)
        if own.bought < self.params.min_member_share * run.volume_to_peak:
            return []
        members = self._members(symbol, account, run.volume_to_peak)
        first_buy = min(position.first_buy for position in members.values())
        if first_buy < own.first_buy:
            run = self._run_since(symbol, first_buy)
        bought = sum(position.bought for position in members.values())
        params = self.params
        rise = run.peak / (run.price_before or own.first_price) - 1
        share = bought / max(run.volume_to_peak, 1)
        busy = run.busiest / (BUSY_WINDOW // MINUTE)
        if rise < params.min_price_rise or share < params.min_buy_share:
            return []
        if run.baseline is not None and busy < params.min_volume_multiple * run.baseline:
            return []
        return [self._alert(symbol, members, first_buy, now, (rise, share, run, busy))]

    def _members(self, symbol: str, account: str, volume: int) -> dict[str, Position]:
        """The account, its group, and coordinated candidates that bought a real share."""
        own = self.positions[(symbol, account)]
        params = self.params
        window = params.coordination_seconds * NS
        members = {
            other: position
            for other, position in self.candidates.get(symbol, {}).items()
            if abs(position.first_buy - own.first_buy) <= window
            and position.bought >= params.min_member_share * volume
        }
        for other in self.directory.members(self.directory.group(account)):
            position = self.positions.get((symbol, other))
            if position is not None and position.bought > 0:
                members[other] = position
        members[account] = own
        return members

    def _run_since(self, symbol: str, since: int) -> Run:
        """The symbol's trading since ``since`` against its trading before."""
        run, before, notional, earliest = Run(), 0, 0, since
        window: deque[Minute] = deque()
        moving = 0
        for bar in self.bars.get(symbol, ()):
            if bar.start + MINUTE > since:
                run.add(bar)
                window.append(bar)
                moving += bar.volume
                while window[0].start <= bar.start - BUSY_WINDOW:
                    moving -= window.popleft().volume
                run.busiest = max(run.busiest, moving)
            elif bar.start >= since - self.params.lookback_seconds * NS:
                before, notional = before + bar.volume, notional + bar.notional
                earliest = min(earliest, bar.start)
        span = (since - earliest) / MINUTE
        run.baseline = before / span if before and span >= 1 else None
        run.price_before = notional / before if before else None
        return run

    def _bar(self, event: TradeExecuted) -> None:
        bars = self.bars.setdefault(event.symbol, deque())
        start = event.ts - event.ts % MINUTE
        if bars and bars[-1].start == start:
            bars[-1].volume += event.qty
            bars[-1].high = max(bars[-1].high, event.price)
            bars[-1].notional += event.qty * event.price
        else:
            bars.append(Minute(start, event.qty, event.price, event.qty * event.price))
        horizon = event.ts - 2 * self.params.lookback_seconds * NS
        while bars and bars[0].start < horizon:
            bars.popleft()

    def _alert(
        self,
        symbol: str,
        members: dict[str, Position],
        first_buy: int,
        now: int,
        measures: tuple[float, float, Run, float],
    ) -> AlertDraft:
        rise, share, run, busy = measures
        episode = self.episodes.at((TYPOLOGY, symbol), first_buy, now)
        episode.accounts |= set(members)
        evidence = {
            "accounts": {name: _position_view(position) for name, position in members.items()},
            "price_before": dollars(int(run.price_before)) if run.price_before else None,
            "peak_price": dollars(run.peak),
            "price_rise": round(rise, 4),
            "buy_share_to_peak": round(share, 4),
            "volume_since_first_buy": run.volume,
            "busiest_volume_per_minute": round(busy, 2),
            "baseline_volume_per_minute": None if run.baseline is None else round(run.baseline, 2),
        }
        score = 0.6 + min(rise, 1.0) / 5 + min(share, 1.0) / 5
        return episode_alert(
            TYPOLOGY,
            symbol,
            "",
            episode,
            "pump_and_dump.sold_into_peak",
            score,
            evidence,
            asdict(self.params),
        )

    def evict(self, now: int) -> None:
        """Forget positions, candidates and episodes past the lookback."""
        self.episodes.evict(now)
        horizon = now - self.params.lookback_seconds * NS
        for key in [key for key, position in self.positions.items() if position.last < horizon]:
            del self.positions[key]
        for candidates in self.candidates.values():
            for account in [a for a, position in candidates.items() if position.last < horizon]:
                del candidates[account]


def _position_view(position: Position) -> dict[str, object]:
    return {
        "first_buy": position.first_buy,
        "bought": position.bought,
        "average_buy": dollars(position.cost // max(position.bought, 1)),
        "sold": position.sold,
        "average_sell": dollars(position.proceeds // max(position.sold, 1)),
    }
