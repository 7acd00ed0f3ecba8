"""`tradeguard surveillance replay DIR --alerts OUT`: the contract's files in, alerts out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_keys_cli import run

S = 1_000_000_000
T0 = 1_795_253_400 * S


def wash_day(directory: Path, extra_lines: list[str]) -> None:
    directory.mkdir()
    (directory / "accounts.csv").write_text(
        "account,kind,owner\na1,client,p1\na2,client,p1\nb1,client,p2\n"
    )
    (directory / "links.csv").write_text("account_a,account_b,kind\na2,b1,same_device\n")
    lines = []
    for n in range(3):
        ts = T0 + n * 120 * S
        seller, buyer = ("a1", "a2") if n % 2 == 0 else ("a2", "a1")
        lines += [
            {
                "type": "order",
                "ts": ts,
                "order_id": f"s{n}",
                "account": seller,
                "symbol": "ACME",
                "side": "sell",
                "order_type": "limit",
                "qty": 500,
                "price": "10.00",
            },
            {
                "type": "order",
                "ts": ts + S,
                "order_id": f"b{n}",
                "account": buyer,
                "symbol": "ACME",
                "side": "buy",
                "order_type": "limit",
                "qty": 500,
                "price": "10.00",
                "venue": "X",
            },
            {
                "type": "trade",
                "ts": ts + S,
                "trade_id": f"t{n}",
                "symbol": "ACME",
                "qty": 500,
                "price": "10.00",
                "buy_order_id": f"b{n}",
                "sell_order_id": f"s{n}",
            },
        ]
    text = [json.dumps(line) for line in lines]
    text[3:3] = extra_lines
    (directory / "events.jsonl").write_text("\n".join(text) + "\n")


def test_replay_when_day_has_wash_trades_then_one_alert_per_contract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wash_day(tmp_path / "day", [])
    out = tmp_path / "alerts.jsonl"
    code, stdout, _ = run(
        monkeypatch, capsys, "surveillance", "replay", str(tmp_path / "day"), "--alerts", str(out)
    )
    assert code == 0
    (alert,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert alert["typology"] == "wash_trading"
    assert alert["symbol"] == "ACME"
    assert alert["accounts"] == ["a1", "a2"]
    assert (alert["start_ts"], alert["end_ts"]) == (T0 + S, T0 + 241 * S)
    assert 0 <= alert["score"] <= 1
    assert alert["evidence"]["trade_count"] == 3
    assert alert["evidence"]["thresholds"]["same_owner_min_trades"] == 2
    assert "0 lines skipped" in stdout


def test_replay_when_lines_are_malformed_then_reported_by_number_and_replay_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [
        "{not json",
        json.dumps({"type": "order", "ts": "yesterday", "order_id": "x"}),
        json.dumps({"type": "cancel", "ts": T0, "order_id": "never-placed"}),
        json.dumps({"type": "quote", "ts": T0, "bid": "1"}),
        json.dumps(
            {
                "type": "trade",
                "ts": T0,
                "trade_id": "t",
                "symbol": "ACME",
                "qty": -5,
                "price": "1",
                "buy_order_id": "b0",
                "sell_order_id": "s0",
            }
        ),
    ]
    wash_day(tmp_path / "day", bad)
    out = tmp_path / "alerts.jsonl"
    code, stdout, stderr = run(
        monkeypatch, capsys, "surveillance", "replay", str(tmp_path / "day"), "--alerts", str(out)
    )
    assert code == 0
    assert [line.split(":")[0] for line in stderr.splitlines()] == [
        "line 4",
        "line 5",
        "line 6",
        "line 8",
    ]
    assert "4 lines skipped" in stdout
    assert len(out.read_text().splitlines()) == 1


def test_replay_when_parameters_raise_a_threshold_then_no_alert(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wash_day(tmp_path / "day", [])
    overrides = tmp_path / "params.json"
    overrides.write_text(json.dumps({"wash": {"same_owner_min_trades": 5}}))
    out = tmp_path / "alerts.jsonl"
    code, _, _ = run(
        monkeypatch,
        capsys,
        "surveillance",
        "replay",
        str(tmp_path / "day"),
        "--alerts",
        str(out),
        "--parameters",
        str(overrides),
    )
    assert code == 0
    assert out.read_text() == ""


@pytest.mark.parametrize(
    "document",
    [
        {"wash": {"nope": 1}},
        {"wash": {"same_owner_min_trades": 1.5}},
        {"episode_gap_seconds": -1},
        [],
    ],
)
def test_replay_when_parameters_are_invalid_then_refused_before_reading(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    document: object,
) -> None:
    overrides = tmp_path / "params.json"
    overrides.write_text(json.dumps(document))
    code, _, stderr = run(
        monkeypatch,
        capsys,
        "surveillance",
        "replay",
        str(tmp_path),
        "--alerts",
        str(tmp_path / "o"),
        "--parameters",
        str(overrides),
    )
    assert code != 0
    assert "parameters" in stderr
    assert not (tmp_path / "o").exists()
