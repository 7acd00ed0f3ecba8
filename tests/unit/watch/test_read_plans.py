"""A watcher's reads of the trail go through the index that bounds them, whatever its size.

SQLite plans without statistics: it read a batch of given event types through the
(event type, time) index, walking every event of those types in the trail and sorting
them, so each round cost more as the trail grew. These tests read the plans SQLite makes
for the statements the watchers really execute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from tradeguard.db import migrate
from tradeguard.db.engine import build_engine
from tradeguard.watch.cursor import events_between, events_since

SEQUENCE_KEY = "sqlite_autoindex_audit_events_1"
TIME_INDEX = "ix_audit_events_ts_ns"


@pytest.fixture(scope="module")
def trail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("plans") / "trail.db"
    engine = build_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def plans_of(engine: Engine, read: Callable[[Session], object]) -> list[str]:
    """The query plan of every statement ``read(session)`` executes."""
    statements: list[tuple[str, tuple[object, ...]]] = []

    def capture(
        _connection: object,
        _cursor: object,
        statement: str,
        parameters: Sequence[object],
        *_: object,
    ) -> None:
        statements.append((statement, tuple(parameters)))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with Session(engine) as db:
            read(db)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    with engine.connect() as connection:
        return [
            " | ".join(
                str(row[-1])
                for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params)
            )
            for sql, params in statements
        ]


def test_batch_of_types_when_read_then_through_the_sequence_range_not_the_type_index(
    trail: Engine,
) -> None:
    [plan] = plans_of(
        trail, lambda db: events_between(db, 100, 200, frozenset({"order.placed", "x.y"}))
    )

    assert f"USING INDEX {SEQUENCE_KEY} (seq>? AND seq<?)" in plan
    assert "event_type" not in plan
    assert "TEMP B-TREE" not in plan


def test_warmup_start_when_found_then_through_the_time_index_not_the_whole_sequence(
    trail: Engine,
) -> None:
    plans = plans_of(
        trail, lambda db: list(events_since(db, 10**18, 500, frozenset({"order.placed"})))
    )

    assert f"USING INDEX {TIME_INDEX} (ts_ns>?)" in plans[0]
