"""Storage on both backends: migrations, the startup refusal, SQLite pragmas, isolation."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tradeguard import tables  # noqa: F401 - every table
from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import StartupError
from tradeguard.db import migrate
from tradeguard.db.base import Base
from tradeguard.db.engine import build_engine
from tradeguard.db.installation import Installation, ensure_installation


def test_migrations_when_applied_then_database_at_head(database) -> None:
    assert migrate.current_revision(database.engine) == migrate.head_revision()
    migrate.require_current(database.engine)


def test_require_current_when_never_migrated_then_refuses_with_the_fix(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(StartupError, match=r"never migrated.*tradeguard db upgrade"):
        migrate.require_current(engine)
    engine.dispose()


def test_installation_when_ensured_twice_then_one_row(
    db_session: Session, clock: FixedClock
) -> None:
    first, created = ensure_installation(db_session, clock, "development")
    db_session.flush()
    again, created_again = ensure_installation(db_session, clock, "development")
    assert created
    assert not created_again
    assert again.id == first.id
    assert db_session.scalar(select(func.count()).select_from(Installation)) == 1


def test_rollback_isolation_when_previous_test_wrote_then_table_empty(db_session: Session) -> None:
    assert db_session.scalar(select(func.count()).select_from(Installation)) == 0


def test_sqlite_when_connected_then_wal_and_foreign_keys(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'var' / 'x.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_migrations_when_applied_then_they_match_the_models(database) -> None:
    with database.engine.connect() as connection:
        # Tables other tests create for their own samples are not the project's.
        ours = set(Base.metadata.tables)
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": False,
                "include_name": lambda name, kind, _parent: kind != "table" or name in ours,
            },
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []
