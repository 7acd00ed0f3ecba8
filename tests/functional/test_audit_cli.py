"""``tradeguard audit`` end to end: init's key events are audited, verified, exported, proven."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tradeguard.audit.search import parse_rfc3339_ns
from tradeguard.cli.main import main
from tradeguard.core.clock import ns_to_datetime


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


def _one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert "Traceback" not in err
    assert not lines[-1].startswith("error: unexpected"), lines[-1]
    return lines[-1]


@pytest.mark.usefixtures("initialised")
def test_export_when_no_range_given_then_the_whole_trail(
    monkeypatch, capsys, tmp_path: Path
) -> None:
    bundle = tmp_path / "whole.jsonl.zst"
    code, out, err = run(monkeypatch, capsys, "audit", "export", "--out", str(bundle))
    assert code == 0, err
    assert out.strip() == f"exported events 1..15 with 1 checkpoints to {bundle}"
    code, out, _ = run(monkeypatch, capsys, "audit", "verify-bundle", str(bundle))
    assert (code, out.strip()) == (0, "audit trail intact: 15 events, 1 checkpoints verified")


@pytest.mark.usefixtures("initialised")
def test_export_when_one_end_given_then_the_other_is_the_first_event_or_the_head(
    monkeypatch, capsys, tmp_path: Path
) -> None:
    out_file = str(tmp_path / "part")
    code, out, err = run(monkeypatch, capsys, "audit", "export", "--from", "12", "--out", out_file)
    assert (code, out.split(" with ")[0]) == (0, "exported events 12..15"), err
    code, out, err = run(monkeypatch, capsys, "audit", "export", "--to", "4", "--out", out_file)
    assert (code, out.split(" with ")[0]) == (0, "exported events 1..4"), err


@pytest.mark.usefixtures("initialised")
def test_export_when_to_is_past_the_head_then_one_line_naming_the_head_and_what_to_do(
    monkeypatch, capsys, tmp_path: Path
) -> None:
    bundle = tmp_path / "x"
    code, _, err = run(
        monkeypatch, capsys, "audit", "export", "--from", "1", "--to", "999", "--out", str(bundle)
    )
    assert code == 1
    assert _one_line_error(err) == (
        "error: cannot export up to 999: event 999 is past the head of the audit trail"
        " (sequence 15); end the range at 15 or earlier, or leave the end out to export up to"
        " the head"
    )
    assert not bundle.exists()


@pytest.mark.usefixtures("initialised")
@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["--from", "99"], "nothing to export: event 99 is past the head of the audit trail"),
        (["--from", "0", "--to", "3"], "sequence numbers start at 1, not 0"),
        (["--from", "9", "--to", "5"], "the range starts at 9, after its end at 5"),
        (["--from", "2999-01-01"], "no audit events between 2999-01-01 and the head of the trail"),
        (["--to", "yesterday"], "'yesterday' is neither a sequence number nor a date/time"),
    ],
)
def test_export_when_range_names_no_event_then_one_line_error(
    monkeypatch, capsys, tmp_path: Path, options: list[str], problem: str
) -> None:
    code, _, err = run(monkeypatch, capsys, "audit", "export", *options, "--out", str(tmp_path))
    assert code == 1
    assert problem in _one_line_error(err)


@pytest.mark.usefixtures("initialised")
def test_export_when_to_is_a_time_then_events_from_that_instant_on_are_excluded(
    monkeypatch, capsys, tmp_path: Path
) -> None:
    code, out, _ = run(monkeypatch, capsys, "audit", "search", "--limit", "15")
    assert code == 0
    times = [parse_rfc3339_ns(json.loads(line)["ts"]) for line in out.splitlines()]
    # The first event whose time, cut to the microsecond an auditor can write, is after
    # the event before it: --to at that microsecond keeps the one before, not it.
    seq = next(n for n in range(2, 16) if times[n - 1] // 1000 * 1000 > times[n - 2])
    end = ns_to_datetime(times[seq - 1] // 1000 * 1000).isoformat()
    code, out, err = run(
        monkeypatch, capsys, "audit", "export", "--to", end, "--out", str(tmp_path / "b")
    )
    assert code == 0, err
    assert out.startswith(f"exported events 1..{seq - 1} ")


@pytest.mark.usefixtures("initialised")
def test_export_when_help_shown_then_it_says_which_end_is_included(monkeypatch, capsys) -> None:
    code, out, _ = run(monkeypatch, capsys, "audit", "export", "--help")
    text = " ".join(out.replace("│", " ").split())
    assert code == 0
    assert "a sequence number (included; past the head is refused)" in text
    assert "(events before it; that instant excluded). Default: the head." in text
    assert "Default: the first event of the trail." in text


@pytest.mark.usefixtures("initialised")
def test_verify_bundle_when_keys_file_unreadable_or_not_keys_then_one_line_error(
    monkeypatch, capsys, tmp_path: Path
) -> None:
    bundle = tmp_path / "b"
    assert run(monkeypatch, capsys, "audit", "export", "--out", str(bundle))[0] == 0
    junk = tmp_path / "keys.json"
    junk.write_text("not json")
    for keys, problem in (
        (junk, f"error: {junk} is not a key document: expected the JSON of GET /v1/keys/signing"),
        (tmp_path / "missing.json", f"error: cannot read {tmp_path / 'missing.json'}:"),
    ):
        code, _, err = run(
            monkeypatch, capsys, "audit", "verify-bundle", str(bundle), "--keys", str(keys)
        )
        assert code == 1
        assert _one_line_error(err).startswith(problem)


@pytest.mark.usefixtures("initialised")
@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["prove", "999"], "error: event 999 is past the head of the audit trail (sequence 15)"),
        (
            ["prove", "3", "--tree-size", "999"],
            "error: there is no checkpoint at tree size 999: the audit trail holds 15 events",
        ),
        (
            ["prove-consistency", "15", "999"],
            "error: there is no checkpoint at tree size 999: the audit trail holds 15 events",
        ),
    ],
)
def test_proofs_when_past_the_head_then_one_line_naming_it(
    monkeypatch, capsys, args: list[str], problem: str
) -> None:
    code, _, err = run(monkeypatch, capsys, "audit", *args)
    assert code == 1
    assert _one_line_error(err) == problem


@pytest.mark.usefixtures("initialised")
def test_verify_when_checkpoint_unpublished_then_exit_three_and_checkpoint_repairs(
    monkeypatch, capsys
) -> None:
    Path("var/audit-witness.jsonl").unlink()
    code, out, _ = run(monkeypatch, capsys, "audit", "verify")
    assert code == 3
    assert "NOT fully published: checkpoints at 15 are committed but not yet published" in out
    assert "run `tradeguard audit checkpoint`" in out
    code, out, err = run(monkeypatch, capsys, "audit", "checkpoint")
    assert code == 0, err
    assert out.splitlines() == [
        "published again to the witness: checkpoints at 15",
        "checkpoint at tree size 16",
    ]
    code, out, _ = run(monkeypatch, capsys, "audit", "verify")
    assert (code, out.strip()) == (0, "audit trail intact: 16 events, 2 checkpoints verified")


@pytest.mark.usefixtures("initialised")
def test_checkpoint_when_witness_contradicts_then_one_line_error_and_nothing_published(
    monkeypatch, capsys
) -> None:
    witness = Path("var/audit-witness.jsonl")
    document = json.loads(witness.read_text())
    document["chain"] = "cd" * 32
    witness.write_text(json.dumps(document) + "\n")
    before = witness.read_bytes()
    code, out, err = run(monkeypatch, capsys, "audit", "checkpoint")
    assert (code, out) == (1, "")
    assert err.startswith("error: audit witness refused at sequence 15: the witness and the")
    assert witness.read_bytes() == before
