"""Whether the database makes a commit durable before it returns: checked at start-up.

The engine asks for durable commits itself (``PRAGMA synchronous=FULL`` on SQLite,
``synchronous_commit`` raised from ``off`` on PostgreSQL). What it cannot set is the
PostgreSQL server's own ``fsync`` and ``full_page_writes``: with either off, a power loss
can lose or corrupt committed data. Production refuses to start then; development warns.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text

from tradeguard.core.errors import StartupError
from tradeguard.logs import get_logger

log = get_logger("tradeguard.db")
SQLITE_FULL = 2
"""``PRAGMA synchronous`` answers 2 for FULL and 3 for EXTRA."""
POSTGRES_SETTINGS = ("fsync", "full_page_writes", "synchronous_commit")


def durability_problems(engine: Engine) -> list[str]:
    """What, in the database's settings as this engine's connections see them, is not durable."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            return _postgres_problems(connection)
        return _sqlite_problems(connection)


def check_durability(engine: Engine, *, production: bool) -> None:
    """Refuse to start in production, warn otherwise, when commits are not durable."""
    problems = durability_problems(engine)
    if not problems:
        return
    if production:
        raise StartupError("commits are not durable: " + "; ".join(problems))
    log.warning("db.commits_not_durable", problems=problems)


def _postgres_problems(connection: Connection) -> list[str]:
    return [
        f"PostgreSQL runs with {name}=off: a power loss can lose committed transactions"
        for name in POSTGRES_SETTINGS
        if connection.execute(text(f"SHOW {name}")).scalar_one() == "off"
    ]


def _sqlite_problems(connection: Connection) -> list[str]:
    problems = []
    if connection.execute(text("PRAGMA synchronous")).scalar_one() < SQLITE_FULL:
        problems.append("SQLite synchronous is below FULL: a power loss can undo commits")
    mode = connection.execute(text("PRAGMA journal_mode")).scalar_one()
    if str(mode).lower() not in {"wal", "memory"}:
        problems.append(f"SQLite journal_mode is {mode}, not WAL")
    return problems
