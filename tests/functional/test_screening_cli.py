"""``tradeguard sanctions``: load the OFAC files, screen a batch file, list versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from staff_flows import Tradeguard, tradeguard_command

from support import TestDatabase, provision_keysets
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock

SAMPLE = Path(__file__).parents[1] / "unit" / "screening" / "ofac_sample"


@pytest.fixture
def tradeguard(
    settings: Settings,
    clean_database: TestDatabase,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Tradeguard:
    provision_keysets(settings, clean_database.engine, clock)
    return tradeguard_command(settings, monkeypatch, capsys)


def test_sanctions_when_loaded_then_batch_screened_in_order(
    tradeguard: Tradeguard, tmp_path: Path
) -> None:
    code, output = tradeguard("sanctions", "load", str(SAMPLE), "--list", "ofac-sdn")
    assert code == 0, output
    assert "18 entries, 17 aliases, 8 addresses" in output
    assert "sdn.csv sha256 " in output
    batch = tmp_path / "in.csv"
    batch.write_text(
        "id,name,dob,country\n"
        "7,Nicolas Maduro,1962-11-23,VE\n"
        "8,BELLETECH CORP,,\n"
        '9,"Nasrallah, Hassan",1990-01-01,LB\n',
        encoding="utf-8",
    )

    code, output = tradeguard("sanctions", "screen", str(batch), "--out", str(tmp_path / "o.jsonl"))

    assert code == 0, output
    lines = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [(line["id"], line["match"], line["ent_num"]) for line in lines] == [
        ("7", True, "22151"),
        ("8", False, None),
        ("9", False, "7319"),
    ]
    assert "cleared by the date of birth" in lines[2]["reasons"]
    code, output = tradeguard("sanctions", "versions")
    assert code == 0
    assert output.startswith("ofac-sdn ")


def test_sanctions_when_file_malformed_then_error_names_line_and_nothing_loaded(
    tradeguard: Tradeguard, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("sdn.csv", "alt.csv", "add.csv"):
        (broken / name).write_bytes((SAMPLE / name).read_bytes())
    (broken / "alt.csv").write_bytes(b'306,1,"aka"\r\n')

    code, output = tradeguard("sanctions", "load", str(broken))

    assert code == 1
    assert "alt.csv line 1: 3 fields, expected 5" in output
    assert tradeguard("sanctions", "versions")[1].strip() == "no list loaded"


def test_sanctions_screen_when_no_list_then_refused_without_output(
    tradeguard: Tradeguard, tmp_path: Path
) -> None:
    batch = tmp_path / "in.csv"
    batch.write_text("id,name,dob,country\n1,Anyone,,\n", encoding="utf-8")

    code, output = tradeguard("sanctions", "screen", str(batch), "--out", str(tmp_path / "o.jsonl"))

    assert code == 1
    assert "no sanctions list is loaded" in output
    assert not (tmp_path / "o.jsonl").exists()
