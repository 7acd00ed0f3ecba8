"""The full pre-trade risk chain for one order, in process (issue: trading core and risk).

10,000 accounts and 5,000 instruments are loaded; every measured order is a different
account, symbol, side, quantity or price, and every one passes all checks (the slowest
path: no check stops early). p50 and p99 are per order. The engine judges such an order
with its single-pass screen, which evaluates the conditions of all 25 checks.

Two more lines show the other paths on the same orders: the 25 checks run one by one
(what an engine without the screen does, and how every denial is explained), and orders
that the last check (the credit threshold) denies, which pay for the screen and then
for the checks one by one.

In the same run, NautilusTrader's RiskEngine (the optional ``bench`` extra) takes the same
number of passing limit orders on its submit-order path with 5,000 equities and 10,000
accounts loaded (see nautilus_risk.py for exactly what is timed). The ratio compares the
p50 per order, ours over theirs; the target is ours at most half of theirs. Without the
extra installed, the comparison is skipped with a line saying so.
"""

from __future__ import annotations

import importlib.util
import random
import statistics
import time

from measure import Measurement
from tradeguard.core.clock import SystemClock
from tradeguard.risk.account import AccountRisk
from tradeguard.risk.checks import CHECKS, Check
from tradeguard.risk.engine import RiskEngine
from tradeguard.risk.model import AccountKind, Instrument, OrderRequest, RiskLimits, RiskReason
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce

ACCOUNTS, INSTRUMENTS, ORDERS = 10_000, 5_000, 50_000
REFERENCE = 500_000  # $50.0000


def _context(engine: RiskEngine, clock: SystemClock, limits: RiskLimits) -> object:
    ctx = engine.new_context(limits)
    stamp = clock.now_ns() + 3_600 * 1_000_000_000  # fresh for the whole run
    for index in range(INSTRUMENTS):
        ctx.add_instrument(
            Instrument(
                f"S{index:04d}", 1 + index % 2, 100, 1, REFERENCE, stamp, easy_to_borrow=True
            )
        )
    for index in range(ACCOUNTS):
        kind = AccountKind.MARGIN if index % 2 else AccountKind.CASH
        ctx.add_account(
            AccountRisk(f"A{index:05d}", kind, settled_cash_cents=10**10, equity_cents=10**10)
        )
    return ctx


def _orders(rng: random.Random) -> list[OrderRequest]:
    orders = []
    for index in range(ORDERS):
        account = rng.randrange(ACCOUNTS)
        side = Side.SELL_SHORT if account % 2 and rng.random() < 0.3 else Side.BUY
        kind = OrderType.MARKET if rng.random() < 0.2 else OrderType.LIMIT
        price = None if kind is OrderType.MARKET else REFERENCE + rng.randrange(-100, 100) * 100
        orders.append(
            OrderRequest(
                f"A{account:05d}",
                f"S{rng.randrange(INSTRUMENTS):04d}",
                side,
                kind,
                rng.randrange(1, 500),
                price,
                TimeInForce.DAY,
                f"c{index}",
            )
        )
    return orders


def _our_nanoseconds(
    checks: tuple[Check, ...] = CHECKS,
    limits: RiskLimits | None = None,
    denied_by: RiskReason | None = None,
) -> list[int]:
    clock = SystemClock()
    engine = RiskEngine(clock, checks)
    ctx = _context(engine, clock, limits or RiskLimits())
    orders = _orders(random.Random(8))  # noqa: S311 - a seeded order mix, not a secret
    check = engine.check
    samples = []
    for order in orders:
        started = time.perf_counter_ns()
        denial = check(ctx, order)  # type: ignore[arg-type]
        samples.append(time.perf_counter_ns() - started)
        assert (denial and denial.reason_code) == denied_by, denial
    return samples


def _other_paths() -> list[Measurement]:
    one_by_one, _, _ = _p50_p99_mean(_our_nanoseconds(checks=(*CHECKS,)))
    no_credit = RiskLimits(credit_threshold_cents=0)
    denied, _, _ = _p50_p99_mean(
        _our_nanoseconds(limits=no_credit, denied_by=RiskReason.CREDIT_THRESHOLD)
    )
    return [
        Measurement("risk: the 25 checks one by one (no screen), p50 per order", one_by_one, "µs"),
        Measurement("risk: denied by the last check (screen + checks), p50", denied, "µs"),
    ]


def _p50_p99_mean(samples: list[int]) -> tuple[float, float, float]:
    """Median, 99th percentile and mean of nanosecond samples, in microseconds."""
    ordered = sorted(samples)
    p99 = ordered[int(len(ordered) * 0.99)]
    return statistics.median(ordered) / 1000, p99 / 1000, statistics.fmean(ordered) / 1000


def _nautilus_nanoseconds() -> list[int] | None:
    if importlib.util.find_spec("nautilus_trader") is None:
        return None
    import nautilus_risk  # noqa: PLC0415 - needs the optional bench extra, checked just above

    return nautilus_risk.submit_order_nanoseconds(
        orders=ORDERS, instruments=INSTRUMENTS, accounts=ACCOUNTS, seed=8
    )


def _comparison(ours_p50: float, ours_mean: float) -> list[Measurement]:
    samples = _nautilus_nanoseconds()
    if samples is None:
        print("risk: NautilusTrader not installed (pip install -e '.[bench]'): comparison skipped")
        return []
    p50, p99, mean = _p50_p99_mean(samples)
    return [
        Measurement("risk: NautilusTrader RiskEngine submit, p50 per order", p50, "µs"),
        Measurement("risk: NautilusTrader RiskEngine submit, p99 per order", p99, "µs"),
        Measurement("risk: NautilusTrader RiskEngine submit, mean per order", mean, "µs"),
        Measurement("risk: ours / NautilusTrader, mean per order", ours_mean / mean, "x"),
        Measurement("risk: ours / NautilusTrader, p50 per order", ours_p50 / p50, "x", 0.5),
    ]


def run() -> list[Measurement]:
    p50, p99, mean = _p50_p99_mean(_our_nanoseconds())
    return [
        Measurement("risk: full pre-trade chain, p50 per order", p50, "µs"),
        Measurement("risk: full pre-trade chain, p99 per order", p99, "µs"),
        Measurement("risk: full pre-trade chain, mean per order", mean, "µs"),
        *_comparison(p50, mean),
        *_other_paths(),
    ]
