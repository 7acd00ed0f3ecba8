"""``tradeguard fraud``: train (signed, audited), promote, refuse a tampered version."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from support import TestDatabase, provision_keysets
from tradeguard.audit.records import Actor
from tradeguard.cli.main import main
from tradeguard.cli.runtime import command_runtime
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.db.session import transaction
from tradeguard.fraud.artifact import CHAMPION, ModelRegistry
from tradeguard.fraud.catalog import FEATURE_NAMES
from tradeguard.fraud.drift import codes
from tradeguard.fraud.synthetic import generate
from tradeguard.fraud.wiring import load_role, model_directory, model_key

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


def test_report_when_decisions_drift_then_the_moved_feature_is_named_shifted(
    tradeguard: Tradeguard,
) -> None:
    """Decisions recorded with one feature far above training: the report ranks it first."""
    code, _, err = tradeguard("fraud", "train", "--customers", "60", "--trees", "3")
    assert code == 0, err
    with command_runtime() as rt:
        registry = ModelRegistry(model_directory(rt.settings), model_key(rt.crypto.keyring))
        champion = load_role(registry, CHAMPION)
        assert champion is not None
        assert champion.bins is not None
        moved = max(range(len(FEATURE_NAMES)), key=lambda i: len(champion.bins[i].edges))
        with transaction(rt.sessions) as db:
            for sample in generate(7, 30, fraud_share=0.0)[:200]:
                values = list(sample.features)
                values[moved] = 1e12
                data = {"action": "login", "outcome": "allow", "score": "0.0100"}
                data |= {"model_version": champion.version}
                data["feature_bins"] = codes(champion.bins, values)
                rt.audit.record(db, "fraud.decision", Actor.system("test"), "u", data=data)
    code, out, err = tradeguard("fraud", "report", "--days", "1")
    assert code == 0, err
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("feature drift against"))
    top = lines[head + 1].split()
    assert (top[0], top[2]) == (FEATURE_NAMES[moved], "shifted")


def test_report_when_champion_has_no_decisions_yet_then_drift_says_so(
    tradeguard: Tradeguard,
) -> None:
    assert tradeguard("fraud", "train", "--customers", "40", "--trees", "3")[0] == 0
    code, out, err = tradeguard("fraud", "report")
    assert code == 0, err
    assert "recorded its features yet" in out
