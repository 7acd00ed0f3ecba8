"""The full pre-trade risk chain for one order, in process (issue: trading core and risk).

10,000 accounts and 5,000 instruments are loaded; every measured order is a different
account, symbol, side, quantity or price, and every one passes all checks (the slowest
path: no check stops early). p50 and p99 are per order.
"""

from __future__ import annotations

import random
import statistics
import time

from measure import Measurement
from tradeguard.core.clock import SystemClock
from tradeguard.risk.account import AccountRisk
from tradeguard.risk.engine import RiskEngine
from tradeguard.risk.model import (
    AccountKind,
    Instrument,
    OrderRequest,
    OrderType,
    RiskLimits,
    Side,
    TimeInForce,
)

ACCOUNTS, INSTRUMENTS, ORDERS = 10_000, 5_000, 50_000
REFERENCE = 500_000  # $50.0000


def _context(engine: RiskEngine, clock: SystemClock) -> object:
    ctx = engine.new_context()
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


def run() -> list[Measurement]:
    clock = SystemClock()
    engine = RiskEngine(RiskLimits(), clock)
    ctx = _context(engine, clock)
    orders = _orders(random.Random(8))  # noqa: S311 - a seeded order mix, not a secret
    check = engine.check
    samples = []
    for order in orders:
        started = time.perf_counter_ns()
        denial = check(ctx, order)  # type: ignore[arg-type]
        samples.append(time.perf_counter_ns() - started)
        assert denial is None, denial
    samples.sort()
    p50 = statistics.median(samples) / 1000
    p99 = samples[int(len(samples) * 0.99)] / 1000
    return [
        Measurement("risk: full pre-trade chain, p50 per order", p50, "µs"),
        Measurement("risk: full pre-trade chain, p99 per order", p99, "µs"),
    ]
