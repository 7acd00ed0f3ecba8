"""``tradeguard keys``: status, rotate, reencrypt through the command line."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tradeguard.cli.main import main

NS_PER_DAY = 86_400 * 10**9


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["tradeguard", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


@pytest.fixture
def initialised(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    code, out, err = run(monkeypatch, capsys, "init")
    assert code == 0, err
    assert "keys: 14 created" in out
    return Path("var/tradeguard.db")


def _status(monkeypatch, capsys) -> tuple[int, dict[str, dict]]:
    code, out, _ = run(monkeypatch, capsys, "keys", "status", "--json")
    return code, {row["keyset"]: row for row in json.loads(out)}


@pytest.mark.usefixtures("initialised")
def test_status_when_fresh_then_every_class_listed_and_exit_zero(monkeypatch, capsys) -> None:
    code, rows = _status(monkeypatch, capsys)
    assert code == 0
    assert {
        "pii",
        "tax_id",
        "account_number",
        "bank_details",
        "documents",
        "audit_pii",
        "backup",
        "api_secret",
    } <= set(rows)
    assert rows["pii"]["overdue"] is False
    assert rows["pii.blind_index"]["rotation_due"] == "manual"


def test_status_when_primary_older_than_90_days_then_exit_one_naming_it(
    initialised, monkeypatch, capsys
) -> None:
    with sqlite3.connect(initialised) as connection:
        connection.execute(
            "UPDATE crypto_key_versions SET created_at_ns = ? WHERE keyset_name = 'tax_id'",
            (time.time_ns() - 91 * NS_PER_DAY,),
        )
    code, rows = _status(monkeypatch, capsys)
    assert code == 1
    assert rows["tax_id"]["overdue"] is True
    assert rows["pii"]["overdue"] is False
    code, out, _ = run(monkeypatch, capsys, "keys", "status")
    assert "OVERDUE" in next(line for line in out.splitlines() if line.startswith("tax_id "))


@pytest.mark.usefixtures("initialised")
def test_rotate_then_reencrypt_when_run_then_old_key_retired(monkeypatch, capsys) -> None:
    _, before = _status(monkeypatch, capsys)
    code, out, err = run(monkeypatch, capsys, "keys", "rotate", "--class", "pii")
    assert code == 0, err
    _, rotated = _status(monkeypatch, capsys)
    new_primary = rotated["pii"]["primary_key_id"]
    assert new_primary != before["pii"]["primary_key_id"]
    assert str(new_primary) in out
    assert rotated["pii"]["keys_in_use"] == f"{before['pii']['primary_key_id']},{new_primary}"
    code, out, err = run(monkeypatch, capsys, "keys", "reencrypt", "--class", "pii")
    assert code == 0, err
    assert f"disabled keys: {before['pii']['primary_key_id']}" in out
    _, after = _status(monkeypatch, capsys)
    assert after["pii"]["keys_in_use"] == str(new_primary)


@pytest.mark.usefixtures("initialised")
def test_rotate_when_unknown_class_then_usage_error(monkeypatch, capsys) -> None:
    code, _, err = run(monkeypatch, capsys, "keys", "rotate", "--class", "nonsense")
    assert code == 2
    assert "nonsense" in err


@pytest.mark.usefixtures("initialised")
def test_keys_when_master_key_missing_then_one_line_error(monkeypatch, capsys) -> None:
    Path("var/keys/master.key").unlink()
    code, _, err = run(monkeypatch, capsys, "keys", "status")
    assert code == 1
    assert err.strip().splitlines()[-1].startswith("error: master key")
    assert "Traceback" not in err


@pytest.mark.usefixtures("initialised")
def test_signing_rotation_when_run_then_both_keys_listed_one_active(monkeypatch, capsys) -> None:
    code, out, _ = run(monkeypatch, capsys, "keys", "signing")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["audit", "token"]
    code, out, err = run(monkeypatch, capsys, "keys", "rotate-signing", "--purpose", "token")
    assert code == 0, err
    new_key = out.split()[-1]
    _, listing, _ = run(monkeypatch, capsys, "keys", "signing")
    token_lines = [line for line in listing.splitlines() if line.startswith("token")]
    assert len(token_lines) == 2
    assert f"{new_key}  active" in listing
    assert sum("retired" in line for line in token_lines) == 1
