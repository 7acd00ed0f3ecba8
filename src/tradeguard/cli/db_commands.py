"""``tradeguard db``: database migrations."""

from __future__ import annotations

import typer

from tradeguard.config import load_settings
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine

app = typer.Typer(help="Database migrations.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    revision: str = typer.Option("head", help="Target revision (default: the newest)."),
) -> None:
    """Apply migrations to the configured database."""
    engine = build_engine(load_settings().effective_database_url)
    try:
        migrate.upgrade(engine, revision)
        typer.echo(f"database at revision {migrate.current_revision(engine)}")
    finally:
        engine.dispose()


@app.command("current")
def current() -> None:
    """Print the database's revision and the newest one; exit 1 if they differ."""
    engine = build_engine(load_settings().effective_database_url)
    try:
        at, head = migrate.current_revision(engine), migrate.head_revision()
    finally:
        engine.dispose()
    typer.echo(f"current {at or 'none'}, head {head}")
    if at != head:
        raise typer.Exit(1)
