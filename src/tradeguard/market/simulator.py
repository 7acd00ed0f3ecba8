"""The built-in quote simulator: a random walk per symbol, quoted by several venues.

Each step moves one symbol's mid price by at most a tick and has every venue quote
around it, each with its own spread of at least a tick (``spread_bps`` of the price,
on the tick grid), so the consolidated quote is never crossed. ``rate`` is venue
quotes per second. Development and tests only: production refuses it.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from tradeguard.core.clock import Clock
from tradeguard.market.events import MarketEvent, Quote

SIMULATED_VENUES = ("XNYS", "XNAS", "ARCX")
BATCH_SECONDS = 0.05
ROUND_LOT = 100
BASIS_POINTS = 10_000
REFRESH_BATCHES = 100
"""Every this many batches the simulator takes in instruments listed since it started."""


@dataclass(frozen=True, slots=True)
class SimulatedSymbol:
    """A symbol to simulate: its tick and the price the walk starts from."""

    symbol: str
    tick: int
    price: int


class QuoteSimulator:
    """Generates venue quotes for a universe of symbols."""

    def __init__(  # noqa: PLR0913 - the universe, the clock and the knobs of the walk
        self,
        universe: Callable[[], Sequence[SimulatedSymbol]],
        clock: Clock,
        *,
        rate: int,
        spread_bps: int,
        seed: int | None = None,
        venues: Sequence[str] = SIMULATED_VENUES,
    ) -> None:
        if not venues:
            raise ValueError("the simulator needs at least one venue")
        self.universe = universe
        self.symbols: list[SimulatedSymbol] = []
        self.mids: dict[str, int] = {}
        self.clock = clock
        self.rate = rate
        self.spread_bps = spread_bps
        self.venues = list(venues)
        self._random = random.Random(seed)  # noqa: S311 - simulated prices, not secrets
        self._sequences = dict.fromkeys(self.venues, 0)

    def quotes(self, count: int) -> list[Quote]:
        """At least ``count`` venue quotes (whole steps: every venue quotes each step)."""
        out: list[Quote] = []
        while self.symbols and len(out) < count:
            out.extend(self.step())
        return out

    def step(self) -> list[Quote]:
        """Move one symbol's mid by -1, 0 or +1 tick and have every venue quote it."""
        spec = self._random.choice(self.symbols)
        mid = self._walk(spec)
        now = self.clock.now_ns()
        return [self._quote(spec, venue, mid, now) for venue in self.venues]

    def batches(self, stop: threading.Event) -> Iterator[list[MarketEvent]]:
        """``rate`` quotes a second in small batches, until ``stop`` is set."""
        per_batch = max(1, round(self.rate * BATCH_SECONDS))
        sent = 0
        while not stop.is_set():
            if sent % REFRESH_BATCHES == 0:
                self.refresh()
            yield list(self.quotes(per_batch))
            sent += 1
            stop.wait(BATCH_SECONDS)

    def refresh(self) -> int:
        """Take in symbols of the universe not simulated yet; returns how many were added."""
        new = [spec for spec in self.universe() if spec.symbol not in self.mids]
        for spec in new:
            self.symbols.append(spec)
            self.mids[spec.symbol] = spec.price
        return len(new)

    def _walk(self, spec: SimulatedSymbol) -> int:
        moved = self.mids[spec.symbol] + spec.tick * self._random.choice((-1, 0, 1))
        low, high = spec.price // 2, spec.price * 2  # the walk stays within a range
        mid = min(max(moved, low, spec.tick * 4), high)
        self.mids[spec.symbol] = mid - mid % spec.tick
        return self.mids[spec.symbol]

    def _quote(self, spec: SimulatedSymbol, venue: str, mid: int, now: int) -> Quote:
        half = max(spec.tick, mid * self.spread_bps // (2 * BASIS_POINTS))
        half += spec.tick * self._random.randrange(2) - half % spec.tick
        self._sequences[venue] += 1
        return Quote(
            venue=venue,
            symbol=spec.symbol,
            bid=mid - half,
            bid_size=ROUND_LOT * self._random.randint(1, 10),
            ask=mid + half,
            ask_size=ROUND_LOT * self._random.randint(1, 10),
            sequence=self._sequences[venue],
            at_ns=now,
        )
