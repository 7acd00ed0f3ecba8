"""The embedded database and its WAL files are owner-only (0600), whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from tradeguard.db.engine import build_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_when_created_then_database_wal_and_shm_are_0600(tmp_path: Path) -> None:
    database = tmp_path / "var" / "tradeguard.db"
    previous = os.umask(0o022)
    try:
        engine = build_engine(f"sqlite:///{database}")
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            connection.execute(text("INSERT INTO t VALUES (1)"))
            files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
            assert all(path.exists() for path in files)
            assert {path.name: _mode(path) for path in files} == {
                path.name: 0o600 for path in files
            }
        engine.dispose()
    finally:
        os.umask(previous)
    assert _mode(database.parent) == 0o700


def test_sqlite_when_an_old_database_is_world_readable_then_narrowed(tmp_path: Path) -> None:
    database = tmp_path / "tradeguard.db"
    database.touch(mode=0o644)
    database.chmod(0o644)
    Path(f"{database}-wal").touch()
    Path(f"{database}-wal").chmod(0o644)
    build_engine(f"sqlite:///{database}").dispose()
    assert _mode(database) == 0o600
    assert _mode(Path(f"{database}-wal")) == 0o600
