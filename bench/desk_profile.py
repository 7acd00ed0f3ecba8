"""Where the desk's batch leader spends its CPU: ``bench_desk``'s SQLite run, profiled.

Every batch runs on whichever caller leads it; batches never overlap, so one cProfile
profiler timed with ``time.thread_time`` is switched on around each batch on the
leader's thread: its times are the leader's CPU, not the wall clock. A second, unprofiled
run gives the leader's CPU per order (``thread_time`` summed over batches) and the whole
process's. ``python desk_profile.py [orders] [top]`` prints both and the top functions
by cumulative time per order (profiling slows small calls: read its shares).
"""

from __future__ import annotations

import cProfile
import gc
import io
import itertools
import pstats
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_desk import desk_app, drive, prepare, registry_of
from tradeguard.core.collector import freeze_startup_heap
from tradeguard.trading.orders.batch_runner import BatchRunner


@contextmanager
def timed_leader(profile: cProfile.Profile | None) -> Iterator[list[float]]:
    """Sum the leader's thread CPU over every batch (and profile it when asked)."""
    spent = [0.0]
    original: Callable[..., None] = BatchRunner.commit

    def commit(self: BatchRunner, *args: object, **kwargs: object) -> None:
        started = time.thread_time()
        if profile is not None:
            profile.enable()
        try:
            original(self, *args, **kwargs)
        finally:
            if profile is not None:
                profile.disable()
            spent[0] += time.thread_time() - started

    BatchRunner.commit = commit  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        BatchRunner.commit = original  # type: ignore[method-assign]


def run_once(orders: int, profile: cProfile.Profile | None) -> tuple[float, float, float]:
    """Leader CPU per order, process CPU per order (µs) and orders/s of one SQLite run.

    The start-up heap is frozen once the accounts are open, as ``bench_desk`` and the desk
    process do: otherwise full collections over it land in whichever function allocates
    at that moment and the profile's shares mislead.
    """
    with desk_app(None) as (app, clock):
        callers = prepare(app)
        freeze_startup_heap()
        try:
            desk = registry_of(app).trading_desk
            counts: dict[str, itertools.count[int]] = {}
            drive(desk, clock, callers, 1000, counts)
            with timed_leader(profile) as spent:
                result = drive(desk, clock, callers, orders, counts)
        finally:
            gc.unfreeze()
        return spent[0] / result.orders * 1e6, result.cpu_us_per_order, result.rate


def main(orders: int, top: int) -> None:
    leader, process, rate = run_once(orders, None)
    print(f"unprofiled: leader {leader:.0f} µs/order, process {process:.0f} µs/order, {rate:.0f}/s")
    profile = cProfile.Profile(time.thread_time)
    leader_profiled, _, _ = run_once(orders, profile)
    print(f"profiled: leader {leader_profiled:.0f} µs/order")
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(top)
        print(out.getvalue())


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main(int(arguments[0]) if arguments else 4000, int(arguments[1]) if len(arguments) > 1 else 60)
