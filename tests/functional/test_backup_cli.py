"""``tradeguard backup``: create, verify and restore through the command line."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tradeguard import logs
from tradeguard.cli import main as cli_main
from tradeguard.config import load_settings
from tradeguard.core.clock import FixedClock
from tradeguard.crypto.master_key import ensure_master_key
from tradeguard.db.engine import build_engine

MARKER = "TG-CLI-PLAINTEXT-MARKER-41d7"
SSN = "219-09-9999"


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    @property
    def error_lines(self) -> list[str]:
        """Stderr without the JSON log lines."""
        return [line for line in self.err.splitlines() if not line.startswith("{")]


Cli = Callable[..., Outcome]


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """The commands configure logging onto the captured stderr; undo it afterwards."""
    yield
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, logs._TradeGuardHandler)]:
        root.removeHandler(handler)
        handler.close()
    logging.captureWarnings(capture=False)
    structlog.reset_defaults()


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*args: str) -> Outcome:
        monkeypatch.setattr(sys, "argv", ["tradeguard", *args])
        with pytest.raises(SystemExit) as exited:
            cli_main.main()
        captured = capsys.readouterr()
        return Outcome(int(exited.value.code or 0), captured.out, captured.err)

    return run


@pytest.fixture
def backend(database, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """SQLite in the var dir, or a scratch PostgreSQL database named by the environment."""
    if database.backend == "sqlite":
        yield "sqlite"
        return
    name = f"tg_backup_cli_{uuid.uuid4().hex[:12]}"
    admin_url = make_url(database.url).set(drivername="postgresql")
    admin = admin_url.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(database.url).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("TRADEGUARD_DATABASE_URL", url)
    try:
        yield "postgresql"
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _sql(statement: str, **values: object) -> list[tuple[object, ...]]:
    engine = build_engine(load_settings().effective_database_url)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), values)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _initialised(cli: Cli) -> None:
    outcome = cli("init")
    assert outcome.code == 0, outcome.err
    _sql("CREATE TABLE cli_probe (id INTEGER PRIMARY KEY, secret VARCHAR(64) NOT NULL)")
    _sql("INSERT INTO cli_probe VALUES (1, :ssn), (2, :marker)", ssn=SSN, marker=MARKER)


def _one_line(outcome: Outcome) -> str:
    assert outcome.code == 1
    assert outcome.out == ""
    assert "Traceback" not in outcome.err
    assert len(outcome.error_lines) == 1, outcome.err
    return outcome.error_lines[0]


def test_backup_cli_when_round_trip_then_database_restored(
    cli: Cli, backend: str, tmp_path: Path
) -> None:
    _initialised(cli)
    created = cli("backup", "create", "backups/first")
    assert created.code == 0, created.err
    assert created.out.startswith("backup backups/first: created backup ")
    assert f"of {backend} at revision " in created.out
    assert len(created.out.splitlines()) == 1
    for file in (tmp_path / "backups" / "first").iterdir():
        assert MARKER.encode() not in file.read_bytes()
        assert SSN.encode() not in file.read_bytes()
    verified = cli("backup", "verify", "backups/first")
    assert (verified.code, verified.out.count("\n")) == (0, 1)
    assert verified.out.startswith("backup backups/first: ok, backup ")
    _sql("DELETE FROM cli_probe WHERE id = 2")
    refused = cli("backup", "restore", "backups/first")
    assert "is not empty" in _one_line(refused)
    assert "--force" in refused.error_lines[0]
    assert _sql("SELECT id FROM cli_probe ORDER BY id") == [(1,)]
    restored = cli("backup", "restore", "backups/first", "--force")
    assert restored.code == 0, restored.err
    assert restored.out.startswith("database restored from backups/first: backup ")
    assert _sql("SELECT id, secret FROM cli_probe ORDER BY id") == [(1, SSN), (2, MARKER)]
    assert cli("db", "current").code == 0


def test_backup_cli_when_ciphertext_tampered_then_one_line_error(cli: Cli, tmp_path: Path) -> None:
    _initialised(cli)
    assert cli("backup", "create", "nightly").code == 0
    data = tmp_path / "nightly" / "data.enc"
    damaged = bytearray(data.read_bytes())
    damaged[len(damaged) // 2] ^= 0x80
    data.write_bytes(bytes(damaged))
    line = _one_line(cli("backup", "verify", "nightly"))
    assert line.startswith("error: nightly/data.enc checksum mismatch")
    restore = cli("backup", "restore", "nightly", "--force")
    assert _one_line(restore).startswith("error: nightly/data.enc checksum mismatch")
    assert _sql("SELECT count(*) FROM cli_probe") == [(2,)]


def test_backup_cli_when_truncated_then_one_line_error(cli: Cli, tmp_path: Path) -> None:
    _initialised(cli)
    assert cli("backup", "create", "nightly").code == 0
    data = tmp_path / "nightly" / "data.enc"
    data.write_bytes(data.read_bytes()[:-10])
    line = _one_line(cli("backup", "verify", "nightly"))
    assert line.startswith("error: nightly/data.enc is ")
    assert "truncated" in line


def test_backup_cli_when_manifest_missing_then_one_line_error(cli: Cli, tmp_path: Path) -> None:
    _initialised(cli)
    assert cli("backup", "create", "nightly").code == 0
    (tmp_path / "nightly" / "manifest.json").unlink()
    line = _one_line(cli("backup", "verify", "nightly"))
    assert line == "error: nightly/manifest.json is missing: not a TradeGuard backup, or incomplete"


def test_backup_cli_when_other_master_key_then_clear_error(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FixedClock
) -> None:
    _initialised(cli)
    assert cli("backup", "create", "nightly").code == 0
    other = tmp_path / "elsewhere" / "master.key"
    ensure_master_key(other, clock, "development")
    monkeypatch.setenv("TRADEGUARD_MASTER_KEY_FILE", str(other))
    line = _one_line(cli("backup", "verify", "nightly"))
    assert line.startswith("error: nightly/manifest.json: the backup key (wrapped by")
    assert "does not open with this master key" in line


def test_backup_cli_when_database_gone_then_verifies_and_restores_without_force(
    cli: Cli, tmp_path: Path
) -> None:
    _initialised(cli)
    assert cli("backup", "create", "nightly").code == 0
    database = tmp_path / "var" / "tradeguard.db"
    for path in database.parent.glob("tradeguard.db*"):
        path.unlink()
    verified = cli("backup", "verify", "nightly")
    assert verified.code == 0, verified.err
    assert not database.exists()
    restored = cli("backup", "restore", "nightly")
    assert restored.code == 0, restored.err
    assert _sql("SELECT secret FROM cli_probe WHERE id = 2") == [(MARKER,)]
    assert cli("db", "current").code == 0


def test_backup_cli_when_target_exists_then_refused(cli: Cli, tmp_path: Path) -> None:
    _initialised(cli)
    (tmp_path / "taken").mkdir()
    line = _one_line(cli("backup", "create", "taken"))
    assert line == "error: backup taken already exists: choose a new path"


def test_backup_cli_when_not_initialised_then_names_init(cli: Cli) -> None:
    line = _one_line(cli("backup", "verify", "nightly"))
    assert "tradeguard init" in line


@pytest.mark.parametrize("command", [[], ["create"], ["verify"], ["restore"]])
def test_backup_cli_help_when_asked_then_explains(cli: Cli, command: list[str]) -> None:
    outcome = cli("backup", *command, "--help")
    assert outcome.code == 0
    assert "Usage:" in outcome.out
    assert len(outcome.out.splitlines()) > 3
