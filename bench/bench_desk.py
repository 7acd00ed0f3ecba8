"""The trading desk alone, in process: orders per second with durable commits and audit.

No HTTP, no gateway: ``THREADS`` threads call ``TradingDesk.place`` directly, as the order
routes do, for ``ACCOUNTS`` funded margin accounts over four symbols. The order mix is the
HTTPS benchmark's (``order_load``): nine in ten rest (buys below the reference, short sales
above it), every tenth is an IOC that trades ``CROSS_CENTS`` through the reference. Every
order is checked, written with its audit event, matched and booked; commits are durable
(SQLite with ``synchronous=FULL``, PostgreSQL with its default ``fsync`` and
``synchronous_commit``).
The clock advances 1/``SIMULATED_RATE`` of a second per order, so the per-account
order-rate checks see the rate the benchmark aims for. Target: >= 20,000 orders/s on
SQLite; PostgreSQL is reported. ``BENCH_DESK_ORDERS`` changes the order count.
"""

from __future__ import annotations

import gc
import itertools
import os
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy import event, func, select

from live_server import instrument_row
from measure import Measurement, scratch_postgres
from order_load import CROSS_CENTS
from tradeguard.access.caller import Caller
from tradeguard.app import create_app
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.records import Actor
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.core.collector import freeze_startup_heap
from tradeguard.core.errors import ProblemError
from tradeguard.core.money import Money, Price
from tradeguard.core.principal import Principal
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.master_key import ensure_master_key
from tradeguard.crypto.runtime import build_crypto, provision_keys
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine
from tradeguard.db.session import session_factory, transaction
from tradeguard.identity.models import User
from tradeguard.identity.origin import Origin
from tradeguard.notify.notifier import MemorySender, Notifier
from tradeguard.registry import Registry
from tradeguard.risk.model import AccountKind
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.trading.models import OrderRow
from tradeguard.trading.orders.accounts import open_account
from tradeguard.trading.orders.desk import OrderAsk, TradingDesk

ORDERS = int(os.environ.get("BENCH_DESK_ORDERS", "20000"))
ACCOUNTS = 1000
THREADS = 64
SYMBOLS = ("BNCA", "BNCB", "BNCC", "BNCD")
REFERENCE = Price.parse("10.00")
SIMULATED_RATE = 20_000
TARGET = 20_000
CENT = 100
START = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Result:
    """What one run did: orders answered, seconds, outcomes and audit events written."""

    orders: int
    seconds: float
    outcomes: Counter[str]
    events: int
    batches: int
    cpu_seconds: float = 0.0
    """CPU time of the whole process (every thread) while the orders ran."""

    @property
    def rate(self) -> float:
        return self.orders / self.seconds

    @property
    def cpu_us_per_order(self) -> float:
        return self.cpu_seconds / self.orders * 1e6


def ask(number: int) -> OrderAsk:
    """The ``number``-th order of an account (``order_load``'s mix)."""
    symbol = SYMBOLS[number % len(SYMBOLS)]
    in_symbol = number // len(SYMBOLS)
    buy = in_symbol % 2 == 0
    if number % 10 == 9:
        cents, quantity, tif = -CROSS_CENTS, 1 + in_symbol % 9, TimeInForce.IOC
    else:
        step = in_symbol // 2
        cents, quantity, tif = 1 + step % 40, 1 + step % 9, TimeInForce.DAY
    return OrderAsk(
        client_order_id=f"b-{uuid.uuid4().hex[:20]}",
        symbol=symbol,
        side=Side.BUY if buy else Side.SELL_SHORT,
        type=OrderType.LIMIT,
        time_in_force=tif,
        quantity=quantity,
        limit_price=REFERENCE.units + (-cents if buy else cents) * CENT,
    )


def caller_of(user_id: str) -> Caller:
    """A trader's caller as a route would build it."""
    principal = Principal(
        user_id=user_id,
        session_id=str(uuid.uuid4()),
        role="TRADER",
        permissions=frozenset({"order:place"}),
        amr=("pwd", "otp"),
        enrollment_only=False,
        state=None,
    )
    return Caller(principal, Origin("127.0.0.1", "bench", "en", None))


@contextmanager
def desk_app(database_url: str | None) -> Iterator[tuple[FastAPI, FixedClock]]:
    """The application on a fresh database (durable commits), its clock standing still."""
    clock = FixedClock(START)
    with tempfile.TemporaryDirectory(prefix="tg-desk-") as directory:
        overrides = {} if database_url is None else {"database_url": database_url}
        settings = Settings(_env_file=None, var_dir=Path(directory), **overrides)  # type: ignore[call-arg]
        ensure_master_key(settings.effective_master_key_file, clock, settings.env)
        engine = build_engine(settings.effective_database_url)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _synchronous_full)
        migrate.upgrade(engine)
        crypto = build_crypto(settings, clock, MemoryKeyEventRecorder())
        with session_factory(engine).begin() as session:
            provision_keys(crypto, session)
        memory = MemorySender()
        yield (
            create_app(settings, clock=clock, engine=engine, notifier=Notifier(memory, memory)),
            clock,
        )
        engine.dispose()


def _synchronous_full(dbapi_connection: object, _record: object) -> None:
    dbapi_connection.execute("PRAGMA synchronous=FULL")  # type: ignore[attr-defined]


def registry_of(app: FastAPI) -> Registry:
    registry: Registry = app.state.registry
    return registry


def prepare(app: FastAPI) -> list[Caller]:
    """Instruments at $10.00 and ``ACCOUNTS`` funded margin accounts; their callers."""
    services = registry_of(app).services
    now = services.clock.now_ns()
    callers = []
    with transaction(services.sessions) as db:
        for symbol in SYMBOLS:
            db.merge(instrument_row(symbol, REFERENCE, now))
        for index in range(ACCOUNTS):
            user = _user(index, now)
            db.add(user)
            db.flush()
            open_account(
                db,
                services.audit,
                services.clock,
                Actor.system("bench"),
                user_id=user.id,
                kind=AccountKind.MARGIN,
                deposit_cents=Money.parse("1000000.00").cents,
            )
            callers.append(caller_of(user.id))
    registry_of(app).trading_desk.start()
    return callers


def _user(index: int, now: int) -> User:
    return User(
        id=str(uuid.uuid4()),
        username=f"bench{index}",
        email=f"bench{index}@example.com",
        password_hash="-",  # noqa: S106 - no one signs in as these traders
        password_changed_at_ns=now,
        role="TRADER",
        status="active",
        created_at_ns=now,
    )


def drive(
    desk: TradingDesk,
    clock: FixedClock,
    callers: list[Caller],
    orders: int,
    counts: dict[str, itertools.count[int]],
) -> Result:
    """``orders`` orders from ``THREADS`` threads; each thread owns a share of the accounts."""
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    step_ns = 1_000_000_000 // SIMULATED_RATE
    per_thread = orders // THREADS

    def sender(offset: int) -> None:
        mine = callers[offset::THREADS]
        seen: Counter[str] = Counter()
        for number in range(per_thread):
            caller = mine[number % len(mine)]
            with lock:
                clock.advance(nanoseconds=step_ns)
                sent = next(counts.setdefault(caller.user_id, itertools.count()))
            try:
                placed = desk.place(caller, ask(sent))
                seen["created" if placed.created else "repeated"] += 1
            except ProblemError as error:
                seen[str(error.reason_code)] += 1
        with lock:
            outcomes.update(seen)

    threads = [threading.Thread(target=sender, args=(i,)) for i in range(THREADS)]
    started, cpu_started = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    events, batches = _count_events(desk), _batches(desk)
    return Result(per_thread * THREADS, seconds, outcomes, events, batches, cpu)


def _count_events(desk: TradingDesk) -> int:
    with desk.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(AuditEventRow)) or 0)


def _batches(desk: TradingDesk) -> int:
    return int(getattr(desk, "batches", 0))


def measure(database_url: str | None) -> Result:
    """One warm-up of 1,000 orders, then ``ORDERS`` measured.

    The start-up heap is frozen once the accounts are open, as the desk process does before
    it serves, and given back to the collector after the run.
    """
    with desk_app(database_url) as (app, clock):
        callers = prepare(app)
        freeze_startup_heap()
        try:
            return _measured(registry_of(app).trading_desk, clock, callers)
        finally:
            gc.unfreeze()


def _measured(desk: TradingDesk, clock: FixedClock, callers: list[Caller]) -> Result:
    counts: dict[str, itertools.count[int]] = {}
    drive(desk, clock, callers, 1000, counts)
    before = _batches(desk)
    result = drive(desk, clock, callers, ORDERS, counts)
    with desk.sessions() as db:
        stored = int(db.scalar(select(func.count()).select_from(OrderRow)) or 0)
    print(
        f"desk {desk.sessions.kw['bind'].dialect.name}: {result.outcomes}, {stored} orders "
        f"stored, {result.events} audit events, {result.batches - before} batches, "
        f"{result.cpu_us_per_order:.0f} µs of process CPU per order"
    )
    return result


def run() -> list[Measurement]:
    sqlite = measure(None)
    found = [
        Measurement(
            "desk in process, SQLite (synchronous=FULL)",
            sqlite.rate,
            "orders/s",
            target=TARGET,
            lower_is_better=False,
        ),
        Measurement("desk, SQLite, process CPU per order", sqlite.cpu_us_per_order, "µs"),
    ]
    with scratch_postgres() as url:
        if url is not None:
            postgres = measure(url)
            found.append(Measurement("desk in process, PostgreSQL", postgres.rate, "orders/s"))
            cpu = postgres.cpu_us_per_order
            found.append(Measurement("desk, PostgreSQL, process CPU per order", cpu, "µs"))
    return found
