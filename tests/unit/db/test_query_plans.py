"""Reads that run again and again over tables that only grow go through an index that bounds them.

SQLite plans without statistics. It read a watcher's batch of given event types through
the (event type, time) index, walking every event of those types in the trail and
sorting them, so each round cost more as the trail grew; the desk's start and its expiry
of DAY orders at the close read every order ever placed to find the open ones. These
tests read the plans SQLite makes for the statements the code really executes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from support import listening
from tradeguard.core.clock import FixedClock
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine
from tradeguard.risk.engine import RiskEngine
from tradeguard.risk.model import RiskLimits
from tradeguard.trading.orders.loader import load_desk_state, open_day_orders
from tradeguard.watch.cursor import events_between, events_since

SEQUENCE_KEY = "sqlite_autoindex_audit_events_1"
TIME_INDEX = "ix_audit_events_ts_ns"
STATUS_INDEX = "ix_orders_status"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("plans") / "plans.db"
    engine = build_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def plans_of(engine: Engine, read: Callable[[Session], object]) -> dict[str, str]:
    """Each statement ``read(session)`` executes, with the plan SQLite makes for it."""
    statements: list[tuple[str, tuple[object, ...]]] = []

    def capture(
        _connection: object,
        _cursor: object,
        statement: str,
        parameters: Sequence[object],
        *_: object,
    ) -> None:
        statements.append((statement, tuple(parameters)))

    with listening(engine, "before_cursor_execute", capture), Session(engine) as db:
        read(db)
    with engine.connect() as connection:
        return {
            sql: " | ".join(
                str(row[-1])
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            )
            for sql, params in statements
        }


def plan_reading(plans: dict[str, str], table: str, where: str) -> str:
    """The plan of the one statement that reads ``table`` with ``where`` in its condition."""
    [plan] = [
        plan
        for sql, plan in plans.items()
        if f"FROM {table}" in sql and where in sql.partition("WHERE")[2]
    ]
    return plan


def test_watcher_batch_when_read_then_through_the_sequence_range_not_the_type_index(
    database: Engine,
) -> None:
    plans = plans_of(
        database, lambda db: events_between(db, 100, 200, frozenset({"order.placed", "x.y"}))
    )

    plan = plan_reading(plans, "audit_events", "event_type")
    assert f"USING INDEX {SEQUENCE_KEY} (seq>? AND seq<?)" in plan
    assert "event_type" not in plan
    assert "TEMP B-TREE" not in plan


def test_watcher_warmup_start_when_found_then_through_the_time_index(database: Engine) -> None:
    plans = plans_of(
        database, lambda db: list(events_since(db, 10**18, 500, frozenset({"order.placed"})))
    )

    assert f"USING INDEX {TIME_INDEX} (ts_ns>?)" in plan_reading(plans, "audit_events", "ts_ns")


def test_desk_start_when_loading_open_orders_then_through_the_status_index(
    database: Engine, clock: FixedClock
) -> None:
    plans = plans_of(database, lambda db: load_desk_state(db, RiskEngine(clock), RiskLimits()))

    assert f"USING INDEX {STATUS_INDEX} (status=?)" in plan_reading(plans, "orders", "status")


def test_expiry_at_the_close_when_finding_day_orders_then_through_the_status_index(
    database: Engine, clock: FixedClock
) -> None:
    plans = plans_of(database, lambda db: open_day_orders(db, clock.now_ns()))

    assert f"USING INDEX {STATUS_INDEX} (status=?)" in plan_reading(plans, "orders", "status")
