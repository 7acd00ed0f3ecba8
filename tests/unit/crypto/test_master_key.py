"""The master key file: created private, reused, and refused when unsafe or damaged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import StartupError
from tradeguard.core.secure_files import is_private
from tradeguard.crypto.master_key import ensure_master_key, load_master_key


def test_master_key_when_absent_then_created_private(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "keys" / "master.key"
    key, created = ensure_master_key(path, clock, "development")
    assert created
    assert is_private(path)
    assert len(key.material) == 32
    assert key.self_test()
    assert key.material.hex() not in repr(key)


def test_master_key_when_present_then_reused(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "master.key"
    first, _ = ensure_master_key(path, clock, "development")
    again, created = ensure_master_key(path, clock, "production")
    assert not created
    assert again == first
    assert again.environment == "development"


def test_master_key_when_missing_then_clear_startup_error(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="tradeguard init"):
        load_master_key(tmp_path / "absent.key")


def test_master_key_when_readable_by_others_then_refused(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "master.key"
    ensure_master_key(path, clock, "development")
    path.chmod(0o644)
    with pytest.raises(StartupError, match="readable by others"):
        load_master_key(path)


@pytest.mark.parametrize(
    "damage",
    [
        lambda doc: {**doc, "key": doc["key"][:-8]},
        lambda doc: {**doc, "key": "not base64!"},
        lambda doc: {**doc, "format": "other/9"},
        lambda doc: {k: v for k, v in doc.items() if k != "key_id"},
    ],
)
def test_master_key_when_damaged_then_refused_naming_the_file(
    tmp_path: Path, clock: FixedClock, damage
) -> None:
    path = tmp_path / "master.key"
    ensure_master_key(path, clock, "development")
    path.write_text(json.dumps(damage(json.loads(path.read_text()))))
    with pytest.raises(StartupError, match=f"{path} is malformed"):
        load_master_key(path)


def test_master_key_when_not_json_then_refused(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / "master.key"
    ensure_master_key(path, clock, "development")
    path.write_bytes(b"\x00\x01garbage")
    with pytest.raises(StartupError, match="malformed"):
        load_master_key(path)
