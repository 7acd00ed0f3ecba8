"""Replay's fast paths give what the plain paths give, and refuse what they refuse."""

from __future__ import annotations

import json
from collections import deque
from datetime import date
from pathlib import Path

import pytest
from aml_kit import FILER, MONDAY_NOON_NY, Txns

from tradeguard.aml import replay as replay_module
from tradeguard.aml import synthetic
from tradeguard.aml.ctr_xml import CurrencyReport, build_ctr, ctr_template
from tradeguard.aml.currency_reports import CashLedger
from tradeguard.aml.engine import AmlEngine
from tradeguard.aml.findings import REPLAY_TYPOLOGIES
from tradeguard.aml.parameters import MonitorParameters
from tradeguard.aml.replay import ReplaySettings, by_customer, replay
from tradeguard.aml.replay_input import (
    BATCH_BYTES,
    read_accounts,
    read_customers,
    read_transaction_batches,
    read_transactions,
)
from tradeguard.aml.transactions import (
    NS_PER_DAY,
    AmlInputError,
    CustomerProfile,
    Transaction,
    parse_cents,
)
from tradeguard.aml.windows import rolling


def _line(amount: str, txn_id: str = "X", account: str = "A1") -> str:
    return json.dumps({"ts": MONDAY_NOON_NY, "txn_id": txn_id, "account": account,
                       "kind": "deposit", "method": "cash", "amount": amount})  # fmt: skip


def _read(tmp_path: Path, lines: list[str]) -> list[Transaction]:
    path = tmp_path / "transactions.jsonl"
    path.write_text("".join(f"{line}\n" for line in lines))
    return [t for batch in read_transaction_batches(path, {"A1": "C1"}) for t in batch]


@pytest.mark.parametrize("amount", ["9500", "9500.5", "9500.50", "0.01", "1234567890123.99"])
def test_batches_when_amount_of_any_accepted_shape_then_same_cents_as_parse_cents(
    tmp_path: Path, amount: str
) -> None:
    assert [t.cents for t in _read(tmp_path, [_line(amount)])] == [parse_cents(amount)]


@pytest.mark.parametrize(
    "amount",
    [
        "1_000.00",
        "+100.00",
        " 100.00",
        "\u0661\u0662.\u0660\u0660",
        ".50",
        "1.2.34",
        "12345678901234.00",
    ],
)
def test_batches_when_amount_only_looks_like_dollars_and_cents_then_refused_with_its_line(
    tmp_path: Path, amount: str
) -> None:
    with pytest.raises(AmlInputError, match="line 2"):
        _read(tmp_path, [_line("1.00"), _line(amount)])


def test_batches_when_blank_lines_then_skipped_and_line_numbers_still_counted(
    tmp_path: Path,
) -> None:
    assert [t.txn_id for t in _read(tmp_path, [_line("1.00", "A"), "", _line("2.00", "B")])] == [
        "A",
        "B",
    ]
    with pytest.raises(AmlInputError, match="line 3: unknown or missing 'NOPE'"):
        _read(tmp_path, [_line("1.00"), "  ", _line("2.00", account="NOPE")])


def test_batches_when_file_spans_several_batches_then_every_line_once_in_order(
    tmp_path: Path,
) -> None:
    count = BATCH_BYTES // len(_line("1.00")) * 3
    read = _read(tmp_path, [_line("1.00", f"T{n}") for n in range(count)])
    assert [t.txn_id for t in read] == [f"T{n}" for n in range(count)]


def test_observe_all_when_generated_activity_then_same_episodes_as_observe_one_by_one(
    tmp_path: Path,
) -> None:
    synthetic.write(synthetic.generate(11, customers=300), tmp_path)
    profiles = read_customers(tmp_path / "customers.csv")
    txns = list(read_transactions(tmp_path / "transactions.jsonl",
                                  read_accounts(tmp_path / "accounts.csv")))  # fmt: skip
    one, every = (AmlEngine(MonitorParameters(), profiles, REPLAY_TYPOLOGIES) for _ in "12")
    for txn in txns:
        one.observe(txn)
    every.observe_all(txns)
    alerts = [e.as_alert() for e in every.episodes.all_episodes()]
    assert alerts == [e.as_alert() for e in one.episodes.all_episodes()]
    assert alerts


def test_build_ctr_when_template_given_then_same_document_as_without() -> None:
    txns, ledger = Txns("C7"), CashLedger()
    for amount in ("6000.00", "5000.01"):
        ledger.add(txns.make(0, "deposit", amount, account="A2"))
    ledger.add(txns.make(0.1, "withdrawal", "12000.00"))
    (day,) = ledger.reportable()
    report = CurrencyReport(CustomerProfile("C7", name="Ana Maria Silva", dob="1980-02-03"),
                            day, day.reportable_in(), day.reportable_out())  # fmt: skip
    template = ctr_template(FILER, date(2026, 3, 5))
    plain = build_ctr(report, FILER, date(2026, 3, 5))
    assert build_ctr(report, FILER, date(2026, 3, 5), template) == plain
    assert build_ctr(report, FILER, date(2026, 3, 5), template) == plain  # the template unchanged


def test_rolling_window_when_emptied_by_a_gap_then_restarts_from_the_next_transaction() -> None:
    txns, window = Txns(), rolling(2 * NS_PER_DAY)
    for day, amount in ((0, "1.00"), (1, "2.00"), (5, "4.00"), (5.5, "8.00"), (7.4, "16.00")):
        window.add(txns.make(day, "deposit", amount))
    assert (window.total, window.start_ts) == (2400, MONDAY_NOON_NY + int(5.5 * NS_PER_DAY))
    window.prune(MONDAY_NOON_NY + 20 * NS_PER_DAY)
    assert (window.total, window.start_ts, window.items) == (0, 0, deque())
    window.add(txns.make(21, "deposit", "32.00"))
    assert (window.total, window.start_ts) == (3200, MONDAY_NOON_NY + 21 * NS_PER_DAY)


def _outputs(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in directory.rglob("*.*")}


def test_replay_when_run_customer_by_customer_in_groups_then_same_files_as_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synthetic.write(synthetic.generate(23, customers=400), tmp_path / "in")
    run = ReplaySettings(MonitorParameters(), FILER, date(2026, 6, 1))
    monkeypatch.setattr(replay_module, "GROUP_TRANSACTIONS", 2_000)  # several groups
    replay(
        tmp_path / "in", tmp_path / "grouped" / "alerts.jsonl", tmp_path / "grouped" / "ctr", run
    )
    monkeypatch.setattr(replay_module, "by_customer", list)  # file order, as read
    replay(tmp_path / "in", tmp_path / "plain" / "alerts.jsonl", tmp_path / "plain" / "ctr", run)
    grouped = _outputs(tmp_path / "grouped")
    assert grouped == _outputs(tmp_path / "plain")
    assert len(grouped["alerts.jsonl"].splitlines()) > 10
    assert len(grouped) > 3  # alerts, index and CTRs


def test_by_customer_when_customers_interleave_then_each_kept_in_its_order() -> None:
    a, b = Txns("CA"), Txns("CB")
    txns = [a.make(0, "deposit", "1.00"), b.make(0.1, "deposit", "2.00"),
            a.make(0.2, "withdrawal", "1.00"), b.make(0.3, "buy", "2.00", "trade")]  # fmt: skip
    assert by_customer(txns) == [txns[0], txns[2], txns[1], txns[3]]
