"""``tradeguard backup``: encrypted backups of the database (create, verify, restore)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradeguard.config import Settings, load_settings
from tradeguard.core.clock import SystemClock, ns_to_rfc3339
from tradeguard.crypto.backup import BackupManifest, BackupService
from tradeguard.crypto.events import LogKeyEventRecorder
from tradeguard.crypto.runtime import Crypto, build_crypto
from tradeguard.db.engine import build_engine
from tradeguard.db.session import session_factory
from tradeguard.logs import configure_logging

app = typer.Typer(
    help="Encrypted backups: create, verify and restore (the master key opens them).",
    no_args_is_help=True,
)


@app.command("create")
def create(
    path: Annotated[
        Path, typer.Argument(help="Directory to create for the backup (must not exist).")
    ],
) -> None:
    """Snapshot the database into a new encrypted backup directory."""
    settings, crypto, backups = _context()
    engine = build_engine(settings.effective_database_url)
    try:
        with session_factory(engine)() as session:
            crypto.keyring.load(session)
        manifest = backups.create(path, engine)
    finally:
        engine.dispose()
    typer.echo(f"backup {path}: created {_summary(manifest)}")


@app.command("verify")
def verify(path: Annotated[Path, typer.Argument(help="Backup directory to check.")]) -> None:
    """Check the manifest and checksum and decrypt the whole backup; needs no database."""
    _, _, backups = _context()
    manifest = backups.verify(path)
    typer.echo(f"backup {path}: ok, {_summary(manifest)}")


@app.command("restore")
def restore(
    path: Annotated[Path, typer.Argument(help="Backup directory to restore.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that already holds tables.")
    ] = False,
) -> None:
    """Verify a backup, then replace the configured database with it (stop the service first)."""
    settings, _, backups = _context()
    engine = build_engine(settings.effective_database_url)
    try:
        manifest = backups.restore(path, engine, force=force)
    finally:
        engine.dispose()
    typer.echo(f"database restored from {path}: {_summary(manifest)}")


def _context() -> tuple[Settings, Crypto, BackupService]:
    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_format == "json")
    clock, events = SystemClock(), LogKeyEventRecorder()
    crypto = build_crypto(settings, clock, events)
    return settings, crypto, BackupService(crypto.keyring, clock, events)


def _summary(manifest: BackupManifest) -> str:
    return (
        f"backup {manifest.backup_id} of {manifest.backend} at revision "
        f"{manifest.alembic_revision}, {manifest.size} bytes encrypted under key "
        f"{manifest.key_id}, made {ns_to_rfc3339(manifest.created_at_ns)}"
    )
