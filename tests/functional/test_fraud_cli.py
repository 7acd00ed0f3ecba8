"""``tradeguard fraud``: train (signed, audited), promote, refuse a tampered version."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from support import TestDatabase, provision_keysets
from tradeguard.cli.main import main
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock

Tradeguard = Callable[..., tuple[int, str, str]]


@pytest.fixture
def tradeguard(
    settings: Settings,
    clean_database: TestDatabase,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Tradeguard:
    """Run a ``tradeguard`` command against the test database; exit code, stdout, stderr."""
    provision_keysets(settings, clean_database.engine, clock)
    monkeypatch.setenv("TRADEGUARD_VAR_DIR", str(settings.var_dir))
    assert settings.database_url is not None
    monkeypatch.setenv("TRADEGUARD_DATABASE_URL", settings.database_url.get_secret_value())

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["tradeguard", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        captured = capsys.readouterr()
        return int(exited.value.code or 0), captured.out, captured.err

    return run


def test_train_when_synthetic_then_signed_champion_and_promotion_checks_signature(
    tradeguard: Tradeguard, settings: Settings
) -> None:
    code, out, err = tradeguard("fraud", "train", "--customers", "40", "--trees", "3")
    assert code == 0, err
    assert "(champion)" in out
    assert "roc_auc" in out
    models = Path(settings.var_dir) / "fraud-models"
    version = (models / "champion").read_text().strip()
    assert (models / f"{version}.json.sig").exists()
    model = models / f"{version}.json"
    model.write_bytes(model.read_bytes().replace(b'"value":[', b'"value":[5,', 1))
    code, _, err = tradeguard("fraud", "promote", version)
    assert code == 1
    assert "signature" in err


def test_features_when_listed_then_the_catalogue_document_is_up_to_date(
    tradeguard: Tradeguard,
) -> None:
    code, out, _ = tradeguard("fraud", "features")
    assert code == 0
    documented = Path(__file__).parents[2] / "docs" / "fraud-features.md"
    assert out == documented.read_text(encoding="utf-8")


def test_report_when_no_decisions_then_zero_counts_and_no_precision(
    tradeguard: Tradeguard,
) -> None:
    code, out, err = tradeguard("fraud", "report", "--days", "7")
    assert code == 0, err
    assert "fraud decisions of the last 7 days: 0" in out
    assert "no reviewed fraud case yet" in out
