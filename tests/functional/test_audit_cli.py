"""``tradeguard audit`` end to end: init's key events are audited, verified, exported, proven."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tradeguard.cli.main import main


def run(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["tradeguard", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


@pytest.fixture
def initialised(monkeypatch, capsys) -> None:
    code, _, err = run(monkeypatch, capsys, "init")
    assert code == 0, err
    code, out, err = run(monkeypatch, capsys, "audit", "checkpoint")
    assert code == 0, err
    assert out.startswith("checkpoint at tree size")


@pytest.mark.usefixtures("initialised")
def test_verify_when_intact_then_exit_zero(monkeypatch, capsys) -> None:
    code, out, _ = run(monkeypatch, capsys, "audit", "verify")
    assert code == 0
    assert out.startswith("audit trail intact: 15 events, 1 checkpoints verified")


@pytest.mark.usefixtures("initialised")
def test_verify_when_witness_rewritten_then_exit_one_naming_sequence(monkeypatch, capsys) -> None:
    witness = Path("var/audit-witness.jsonl")
    document = json.loads(witness.read_text())
    document["root"] = "ab" * 32
    witness.write_text(json.dumps(document) + "\n")
    code, out, _ = run(monkeypatch, capsys, "audit", "verify")
    assert code == 1
    assert out.startswith("audit trail NOT intact at sequence 15:")


@pytest.mark.usefixtures("initialised")
def test_export_then_verify_bundle_offline(monkeypatch, capsys, tmp_path: Path) -> None:
    bundle = tmp_path / "trail.jsonl.zst"
    code, out, err = run(
        monkeypatch, capsys, "audit", "export", "--from", "3", "--to", "9", "--out", str(bundle)
    )
    assert code == 0, err
    assert "exported events 3..9" in out
    Path("var/tradeguard.db").unlink()
    Path("var/keys/master.key").unlink()
    code, out, _ = run(monkeypatch, capsys, "audit", "verify-bundle", str(bundle))
    assert code == 0
    assert out.strip() == "audit trail intact: 7 events, 1 checkpoints verified"


@pytest.mark.usefixtures("initialised")
def test_export_when_time_range_has_no_events_then_one_line_error(
    monkeypatch, capsys, tmp_path: Path
) -> None:
    code, _, err = run(
        monkeypatch,
        capsys,
        "audit",
        "export",
        "--from",
        "2001-01-01",
        "--to",
        "2001-01-02",
        "--out",
        str(tmp_path / "x"),
    )
    assert code == 1
    assert (
        err.strip().splitlines()[-1] == "error: no audit events between 2001-01-01 and 2001-01-02"
    )


@pytest.mark.usefixtures("initialised")
def test_prove_when_event_checkpointed_then_inclusion_proof_printed(monkeypatch, capsys) -> None:
    code, out, _ = run(monkeypatch, capsys, "audit", "prove", "3")
    assert code == 0
    proof = json.loads(out)
    assert (proof["seq"], proof["leaf_index"], proof["tree_size"]) == (3, 2, 15)
    assert len(proof["path"]) == 4
