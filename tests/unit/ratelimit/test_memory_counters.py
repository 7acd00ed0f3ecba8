"""The in-process counters: fixed windows from a key's first increment, expired lazily."""

from __future__ import annotations

import sys
import threading

from tradeguard.ratelimit.counters import MemoryCounters


class Wall:
    """A wall clock the test moves."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_incr_when_counted_within_the_window_then_the_counts_add_up_and_the_end_stays() -> None:
    wall = Wall()
    counters = MemoryCounters(wall)

    first = counters.incr("ip:1", 60)
    wall.now += 59
    second = counters.incr("ip:1", 60, amount=3)

    assert (first, second, counters.get("ip:1")) == (1, 4, 4)
    assert counters.get_expiry("ip:1") == 1_000_060.0


def test_incr_when_the_window_has_ended_then_a_new_one_starts_from_zero() -> None:
    wall = Wall()
    counters = MemoryCounters(wall)
    counters.incr("ip:1", 60, amount=5)

    wall.now += 60
    assert counters.get("ip:1") == 0
    assert counters.get_expiry("ip:1") == wall.now
    assert counters.incr("ip:1", 30) == 1
    assert counters.get_expiry("ip:1") == wall.now + 30


def test_clear_when_a_key_is_counted_then_it_starts_again() -> None:
    counters = MemoryCounters(Wall())
    counters.incr("user:a", 60, amount=7)

    counters.clear("user:a")

    assert counters.get("user:a") == 0
    assert counters.incr("user:a", 60) == 1


def test_sweep_when_keys_expired_long_ago_then_they_are_dropped_from_memory() -> None:
    wall = Wall()
    counters = MemoryCounters(wall)
    for number in range(100):
        counters.incr(f"ip:{number}", 1)

    wall.now += MemoryCounters.SWEEP_SECONDS
    counters.incr("ip:live", 60)

    assert counters._counts.keys() == {"ip:live"}  # what memory holds


def test_incr_when_threads_count_together_then_no_increment_is_lost() -> None:
    counters = MemoryCounters()

    def count() -> None:
        for _ in range(2000):
            counters.incr("shared", 60)

    threads = [threading.Thread(target=count) for _ in range(8)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch between nearly any two bytecodes
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)

    assert counters.get("shared") == 16_000
