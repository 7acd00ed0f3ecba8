"""Fixed-window counters in memory whose time is a test's own (for windows that end)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from limits.errors import StorageError

from tradeguard.ratelimit.counters import CounterCall, run_each


@dataclass
class WallClock:
    """Unix seconds that move only when told."""

    now: float = 1_795_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class ClockedCounters:
    """The storage calls the rate limits make, with expiry on ``wall``."""

    wall: WallClock
    counts: dict[str, int] = field(default_factory=dict)
    expiries: dict[str, float] = field(default_factory=dict)
    failing: bool = False

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        self._check()
        self._expire(key)
        if key not in self.counts:
            self.expiries[key] = self.wall() + expiry
        self.counts[key] = self.counts.get(key, 0) + amount
        return self.counts[key]

    def get(self, key: str) -> int:
        self._check()
        self._expire(key)
        return self.counts.get(key, 0)

    def get_expiry(self, key: str) -> float:
        self._check()
        return self.expiries.get(key, self.wall())

    def clear(self, key: str) -> None:
        self._check()
        self.counts.pop(key, None)
        self.expiries.pop(key, None)

    def _expire(self, key: str) -> None:
        if self.expiries.get(key, float("inf")) <= self.wall():
            self.clear(key)

    def _check(self) -> None:
        if self.failing:
            raise StorageError(ConnectionError("the store is down"))


@dataclass
class BatchedClockedCounters(ClockedCounters):
    """Clocked counters that take calls in batches, as the desk process does, and keep them."""

    batches: list[list[CounterCall]] = field(default_factory=list)

    def run_calls(self, calls: Sequence[CounterCall]) -> list[float]:
        self.batches.append(list(calls))
        return run_each(self, calls)


@dataclass
class AwaitedClockedCounters(BatchedClockedCounters):
    """Batched clocked counters an event loop awaits; the threads that awaited are kept."""

    awaited_on: list[int] = field(default_factory=list)

    async def run_calls_async(self, calls: Sequence[CounterCall]) -> list[float]:
        self.awaited_on.append(threading.get_ident())
        return self.run_calls(calls)
