"""``tradeguard aml replay`` on generated activity: the contract's files, CTRs, alert quality."""

from __future__ import annotations

import csv
import json
import sys
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aml_kit import schema_errors

from tradeguard.aml import synthetic
from tradeguard.aml.evaluation import score
from tradeguard.cli.main import main
from tradeguard.core.secure_files import is_private, write_private

NEW_YORK = ZoneInfo("America/New_York")
HELD_OUT_SEEDS = (101, 202)
CONTRACT_TYPOLOGIES = (
    "structuring", "rapid_movement", "fan_in", "fan_out", "high_risk_geography",
    "unusual_activity",
)  # fmt: skip


def run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``tradeguard`` with ``args``; its exit code."""
    monkeypatch.setattr(sys, "argv", ["tradeguard", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    return int(exited.value.code or 0)


def replay_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> Path:
    """Generate seed ``seed``'s activity and replay it; the directory holding everything."""
    synthetic.write(synthetic.generate(seed, customers=1500), tmp_path / "in")
    code = run(monkeypatch, "aml", "replay", str(tmp_path / "in"), "--alerts",
               str(tmp_path / "alerts.jsonl"), "--ctr-dir", str(tmp_path / "ctr"))  # fmt: skip
    assert code == 0
    return tmp_path


def expected_ctrs(source: Path) -> dict[tuple[str, str], tuple[str, str]]:
    """Cash in and out per customer and New York day over $10,000, computed from the files."""
    with (source / "accounts.csv").open() as handle:
        owners = {r["account"]: r["customer"] for r in csv.DictReader(handle)}
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for line in (source / "transactions.jsonl").read_text().splitlines():
        t = json.loads(line)
        if t["method"] == "cash":
            day = datetime.fromtimestamp(t["ts"] / 1e9, tz=UTC).astimezone(NEW_YORK).date()
            totals[owners[t["account"]], day.isoformat(), t["kind"]] += Decimal(t["amount"])
    result = {}
    for customer, day in {(c, d) for c, d, _ in totals}:
        cash_in, cash_out = totals[customer, day, "deposit"], totals[customer, day, "withdrawal"]
        shown = tuple(f"{v:.2f}" if v > 10_000 else "" for v in (cash_in, cash_out))
        if any(shown):
            result[customer, day] = shown
    return result  # type: ignore[return-value]


@pytest.mark.parametrize("seed", HELD_OUT_SEEDS)
def test_replay_when_held_out_seed_then_ctrs_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    out = replay_of(tmp_path, monkeypatch, seed)
    rows = list(csv.reader((out / "ctr" / "index.csv").read_text().splitlines()))
    assert rows[0] == ["customer", "date", "cash_in", "cash_out", "file"]
    written = {(r[0], r[1]): (r[2], r[3]) for r in rows[1:]}
    assert written == expected_ctrs(out / "in")
    assert len(written) == len(rows) - 1
    for row in rows[1:]:
        path = out / "ctr" / row[4]
        assert is_private(path)
        assert schema_errors("CTRX", path.read_bytes()) == []


@pytest.mark.parametrize("seed", HELD_OUT_SEEDS)
def test_replay_when_held_out_seed_then_each_typology_meets_its_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    out = replay_of(tmp_path, monkeypatch, seed)
    alerts = [json.loads(line) for line in (out / "alerts.jsonl").read_text().splitlines()]
    labels = json.loads((out / "in" / "labels.json").read_text())
    results = score(labels, alerts)
    assert {s.typology for s in results} == {*CONTRACT_TYPOLOGIES, "low_priced_securities"}
    for s in results:
        assert s.recall >= 0.95, s
        assert s.precision >= 0.8, s
    first = alerts[0]
    assert set(first) == {
        "typology",
        "customer",
        "accounts",
        "start_ts",
        "end_ts",
        "score",
        "evidence",
    }
    assert 0 <= first["score"] <= 1
    assert first["start_ts"] <= first["end_ts"]


def test_replay_when_a_transaction_names_an_unknown_account_then_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    synthetic.write(synthetic.generate(7, customers=20), tmp_path / "in")
    with (tmp_path / "in" / "transactions.jsonl").open("a") as handle:
        handle.write(
            '{"ts":1,"txn_id":"X","account":"NOPE","kind":"deposit","method":"cash","amount":"1"}\n'
        )
    code = run(monkeypatch, "aml", "replay", str(tmp_path / "in"), "--alerts",
               str(tmp_path / "a.jsonl"), "--ctr-dir", str(tmp_path / "ctr"))  # fmt: skip
    assert code == 1
    assert "unknown or missing 'NOPE'" in capsys.readouterr().err
    assert not (tmp_path / "a.jsonl").exists()


@pytest.mark.parametrize("amount", ["-5", "1e4", "10.001", "", "12,000"])
def test_replay_when_an_amount_is_malformed_then_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, amount: str
) -> None:
    synthetic.write(synthetic.generate(7, customers=20), tmp_path / "in")
    line = json.dumps({"ts": 1, "txn_id": "X", "account": "A000001", "kind": "deposit",
                       "method": "cash", "amount": amount})  # fmt: skip
    (tmp_path / "in" / "transactions.jsonl").write_text(line + "\n")
    code = run(monkeypatch, "aml", "replay", str(tmp_path / "in"), "--alerts",
               str(tmp_path / "a.jsonl"), "--ctr-dir", str(tmp_path / "ctr"))  # fmt: skip
    assert code == 1


def test_write_private_when_an_older_file_was_world_readable_then_narrowed(tmp_path: Path) -> None:
    path = tmp_path / "ctr.xml"
    path.write_bytes(b"old and longer")
    path.chmod(0o644)
    write_private(path, b"new")
    assert path.read_bytes() == b"new"
    assert is_private(path)


def test_replay_when_trades_name_no_price_then_no_low_priced_alert_whatever_the_trading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = synthetic.generate(11, customers=300)
    for txn in book.txns:
        txn.pop("symbol", None)
        txn.pop("price", None)
    synthetic.write(book, tmp_path / "in")
    code = run(monkeypatch, "aml", "replay", str(tmp_path / "in"), "--alerts",
               str(tmp_path / "a.jsonl"), "--ctr-dir", str(tmp_path / "ctr"))  # fmt: skip
    assert code == 0
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    typologies = {json.loads(line)["typology"] for line in lines}
    assert "low_priced_securities" not in typologies
    assert typologies <= set(CONTRACT_TYPOLOGIES)
    assert book.labels["low_priced_securities"]


@pytest.mark.parametrize("price", ["-1", "0.1234567", "1e2", "cheap"])
def test_replay_when_a_trade_price_is_malformed_then_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, price: str
) -> None:
    synthetic.write(synthetic.generate(7, customers=20), tmp_path / "in")
    line = json.dumps({"ts": 1, "txn_id": "X", "account": "A000001", "kind": "buy",
                       "method": "trade", "amount": "100.00", "symbol": "PNY",
                       "price": price})  # fmt: skip
    (tmp_path / "in" / "transactions.jsonl").write_text(line + "\n")
    code = run(monkeypatch, "aml", "replay", str(tmp_path / "in"), "--alerts",
               str(tmp_path / "a.jsonl"), "--ctr-dir", str(tmp_path / "ctr"))  # fmt: skip
    assert code == 1
