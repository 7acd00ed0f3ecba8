"""Order entry with durable commits against the previous settings, in the same run (issue 23).

In process, through the trading desk: ``THREADS`` client threads place resting limit orders
for one funded trader (risk checks, order row, matching, audit events, a checkpoint every
1,000 events and its witness append). The desk's group commit makes one commit, so one
flush, per batch of the orders waiting together; the orders per commit are reported.
Rounds alternate between the two settings on the same database, so both see the same
machine load:

- SQLite: ``synchronous=FULL`` (now) against ``NORMAL`` (before), both in WAL mode;
- PostgreSQL: ``synchronous_commit=on`` (now, and the server default before) against
  ``off`` (what a server or role set to ``off`` gave before the service raised it).

Reported per setting: orders/s (median over rounds) and p50/p99 latency of ``place`` over
every order of every round; the lock wait of the single-writer desk included. The rate
limits of the risk checks are lifted (one trader sends thousands of orders a second).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, event

from apps import USER_ID, add_user, scratch_app
from live_server import Workspace, add_instruments
from measure import Measurement, scratch_postgres
from tradeguard.access.caller import Caller
from tradeguard.audit.records import Actor
from tradeguard.core.money import Money, Price
from tradeguard.core.permissions import Role
from tradeguard.core.principal import Principal
from tradeguard.db.session import transaction
from tradeguard.identity.origin import Origin
from tradeguard.registry import Registry
from tradeguard.risk.model import AccountKind
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.trading.orders.accounts import open_account
from tradeguard.trading.orders.desk import OrderAsk, TradingDesk

THREADS = 4
ORDERS_PER_ROUND = 400
ROUNDS = 5
FLUSHES = 200
REFERENCE = Price.parse("100.00")
SYMBOL = "DURA"


@dataclass
class Setting:
    """One side of the comparison: its name and the statement that weakens a connection."""

    name: str
    weaken: str | None
    rates: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    orders: int = 0
    commits: int = 0


@dataclass
class Switch:
    """Which setting new connections get."""

    current: Setting | None = None

    def on_connect(self, dbapi_connection: Any, _record: object) -> None:  # noqa: ANN401 - DB-API
        """Apply the weaker setting to a new connection when it is the current one."""
        if self.current is None or self.current.weaken is None:
            return
        cursor = dbapi_connection.cursor()
        cursor.execute(self.current.weaken)
        cursor.close()
        dbapi_connection.commit()


def _caller() -> Caller:
    principal = Principal(
        USER_ID,
        "bench",
        Role.TRADER.value,
        frozenset(),
        ("pwd",),
        enrollment_only=False,
        state=None,
    )
    return Caller(principal, Origin("127.0.0.1", "bench", "", None))


def _ask(number: int) -> OrderAsk:
    price = REFERENCE.units - 100 * (1 + number % 200)  # 99.99 down to 98.00: rests
    quantity = 1 + number // 200  # no two orders alike (the duplicate-order check)
    return OrderAsk(
        f"d-{number}", SYMBOL, Side.BUY, OrderType.LIMIT, TimeInForce.DAY, quantity, price
    )


def _prepare(app: FastAPI) -> TradingDesk:
    registry: Registry = app.state.registry
    services = registry.services
    add_user(registry.identity)
    add_instruments(
        Workspace(Path(), services.engine.url.render_as_string(hide_password=False), 0),
        (SYMBOL,),
        REFERENCE,
    )
    with transaction(services.sessions) as db:
        open_account(
            db,
            services.audit,
            services.clock,
            Actor.system("bench"),
            user_id=USER_ID,
            kind=AccountKind.CASH,
            deposit_cents=Money.parse("100000000.00").cents,
        )
    desk = registry.trading_desk
    desk.start()
    unlimited = 10**9
    desk.apply_limits(
        replace(
            desk.limits,
            max_orders_per_second=unlimited,
            max_symbol_orders_per_second=unlimited,
        )
    )
    return desk


def _round(desk: TradingDesk, first: int, setting: Setting) -> None:
    caller, per_thread = _caller(), ORDERS_PER_ROUND // THREADS
    latencies: list[list[float]] = [[] for _ in range(THREADS)]

    def client(index: int) -> None:
        base = first + index * per_thread
        for number in range(base, base + per_thread):
            started = time.perf_counter()
            desk.place(caller, _ask(number))
            latencies[index].append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    batches_before = desk.batches
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    setting.rates.append(per_thread * THREADS / (time.perf_counter() - started))
    setting.orders += per_thread * THREADS
    setting.commits += desk.batches - batches_before
    setting.latencies_ms.extend(sample for part in latencies for sample in part)


def _compare(app: FastAPI, settings: tuple[Setting, Setting]) -> None:
    desk = _prepare(app)
    engine: Engine = app.state.registry.services.engine
    switch = Switch()
    event.listen(engine, "connect", switch.on_connect)
    first = 0
    for _ in range(ROUNDS):
        for setting in settings:
            switch.current = setting
            engine.dispose()  # new connections, with this setting
            _round(desk, first, setting)
            first += ORDERS_PER_ROUND


def _measurements(backend: str, settings: tuple[Setting, Setting]) -> list[Measurement]:
    results = []
    for setting in settings:
        ordered = sorted(setting.latencies_ms)
        label = f"order entry, desk, {backend}, {setting.name}"
        results += [
            Measurement(f"{label}: orders/s", statistics.median(setting.rates), "orders/s"),
            Measurement(f"{label}: p50", _percentile(ordered, 0.50), "ms"),
            Measurement(f"{label}: p99", _percentile(ordered, 0.99), "ms"),
            Measurement(f"{label}: orders per commit", setting.orders / setting.commits, "orders"),
        ]
    return results


def _percentile(ordered: list[float], fraction: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def _measure(
    backend: str, settings: tuple[Setting, Setting], **overrides: object
) -> list[Measurement]:
    with scratch_app(**overrides) as app:
        _compare(app, settings)
    return _measurements(backend, settings)


def _flush_ms() -> float:
    """Median time of one 4 KiB append and its fdatasync in the temporary directory."""
    samples = []
    with tempfile.TemporaryDirectory() as directory:
        descriptor = os.open(Path(directory) / "flush", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for _ in range(FLUSHES):
                started = time.perf_counter()
                os.write(descriptor, b"x" * 4096)
                os.fdatasync(descriptor)
                samples.append((time.perf_counter() - started) * 1000)
        finally:
            os.close(descriptor)
    return statistics.median(samples)


def run() -> list[Measurement]:
    """One flush on this disk; SQLite, then PostgreSQL when a server answers."""
    sqlite = (
        Setting("synchronous=FULL (now)", None),
        Setting("NORMAL (before)", "PRAGMA synchronous=NORMAL"),
    )
    results = [Measurement("one 4 KiB append + fdatasync (this disk)", _flush_ms(), "ms")]
    results += _measure("SQLite", sqlite)
    with scratch_postgres() as url:
        if url is not None:
            results += _measure(
                "PostgreSQL",
                (
                    Setting("synchronous_commit=on (now)", None),
                    Setting("off", "SET synchronous_commit TO off"),
                ),
                database_url=url,
            )
    return results
