"""Alembic migrations driven from code: upgrade, current revision, head revision."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from tradeguard.core.errors import StartupError


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration that runs the packaged revisions against ``engine``."""
    config = Config()
    config.set_main_option("script_location", str(files("tradeguard") / "migrations"))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


@cache
def head_revision() -> str | None:
    """The newest revision shipped with this version of TradeGuard."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None if it has never been migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_current(engine: Engine) -> None:
    """Refuse to run against a database that is not at the head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise StartupError(
            f"database is at revision {current or 'none (never migrated)'}, "
            f"this version needs {head}: run `tradeguard db upgrade` first"
        )
