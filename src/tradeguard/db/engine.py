"""Engine construction for the two supported backends: SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from tradeguard.core.secure_files import PRIVATE_MODE

SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
"""Files SQLite keeps beside the database; it creates them with the database's mode."""
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    # FULL: in WAL mode each commit syncs the WAL before it returns, so a committed (and
    # acknowledged) transaction survives a power loss; NORMAL syncs only at checkpoints.
    "PRAGMA synchronous=FULL",
)


def build_engine(url: str, **options: Any) -> Engine:  # noqa: ANN401 - passed through to SQLAlchemy
    """Create an engine for ``url`` with the backend's safety settings applied."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, **options)
    options.setdefault("pool_pre_ping", True)
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _durable_commits)
    return engine


def _durable_commits(dbapi_connection: Any, _record: object) -> None:  # noqa: ANN401 - DB-API connection
    """Commits wait for the server's WAL flush: ``synchronous_commit`` off is raised to on.

    A stronger level set by the operator (``remote_write``, ``remote_apply``) is kept;
    only ``off`` acknowledges a commit before it is on disk.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SHOW synchronous_commit")
        if cursor.fetchone()[0] == "off":
            cursor.execute("SET synchronous_commit TO on")
    finally:
        cursor.close()
    dbapi_connection.commit()


def _sqlite_engine(url: str, database: str | None, **options: Any) -> Engine:  # noqa: ANN401 - passed through
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        make_private(Path(database))
    engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
    event.listen(engine, "connect", _apply_sqlite_pragmas)
    if database and database != ":memory:":
        event.listen(engine, "connect", lambda *_: make_private(Path(database)))
    return engine


def make_private(database: Path) -> None:
    """Narrow the database file and its companions to owner-only (0600) where they exist.

    Run before the first connection (files left by an earlier, wider version) and on
    every connection: SQLite creates the database with the umask's mode (0644 as a rule)
    on first connect, and gives its ``-wal`` and ``-shm`` files the database's mode, so
    once the database is owner-only its companions are too. A missing database is not
    created here (a backup of a missing file must say so).
    """
    for path in (database, *(database.with_name(database.name + end) for end in SQLITE_COMPANIONS)):
        with contextlib.suppress(FileNotFoundError):  # another connection's close removed it
            path.chmod(PRIVATE_MODE)


def _apply_sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:  # noqa: ANN401 - DB-API connection
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()
