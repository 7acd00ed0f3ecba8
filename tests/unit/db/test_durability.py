"""Commits are durable before they return: SQLite FULL in WAL, PostgreSQL synchronous_commit."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from tradeguard.core.errors import StartupError
from tradeguard.db.durability import check_durability, durability_problems
from tradeguard.db.engine import build_engine

POSTGRES_ONLY = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


def test_sqlite_when_connected_then_every_commit_syncs_the_wal(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    assert durability_problems(engine) == []
    engine.dispose()


def _weakened_sqlite(path: Path) -> Engine:
    engine = build_engine(f"sqlite:///{path}")

    def weaken(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    event.listen(engine, "connect", weaken)
    return engine


def test_check_when_sqlite_not_full_then_production_refuses(tmp_path: Path) -> None:
    engine = _weakened_sqlite(tmp_path / "x.db")
    with pytest.raises(StartupError, match="synchronous is below FULL"):
        check_durability(engine, production=True)
    engine.dispose()


def test_check_when_sqlite_not_full_in_development_then_warned(tmp_path: Path) -> None:
    engine = _weakened_sqlite(tmp_path / "x.db")
    with structlog.testing.capture_logs() as logs:
        check_durability(engine, production=False)
    assert [entry["event"] for entry in logs] == ["db.commits_not_durable"]
    engine.dispose()


@POSTGRES_ONLY
def test_postgres_when_database_turns_synchronous_commit_off_then_connections_raise_it(
    database,
) -> None:
    name = make_url(database.url).database
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        admin.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        engine = build_engine(database.url)
        with engine.connect() as connection:
            assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"
            connection.rollback()
            assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"
        assert durability_problems(engine) == []
        engine.dispose()
    finally:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            admin.execute(text(f'ALTER DATABASE "{name}" RESET synchronous_commit'))


@POSTGRES_ONLY
def test_postgres_when_operator_chose_a_stronger_level_then_it_is_kept(database) -> None:
    name = make_url(database.url).database
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        admin.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = remote_apply'))
    try:
        engine = build_engine(database.url)
        with engine.connect() as connection:
            assert connection.execute(text("SHOW synchronous_commit")).scalar() == "remote_apply"
        engine.dispose()
    finally:
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
            admin.execute(text(f'ALTER DATABASE "{name}" RESET synchronous_commit'))
