"""``tradeguard aml replay``: the monitors and the CTR rule over a directory of past activity."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from itertools import chain
from pathlib import Path

from tradeguard.aml.ctr_xml import CurrencyReport, build_ctr, ctr_template
from tradeguard.aml.currency_reports import CashDay, CashLedger
from tradeguard.aml.engine import AmlEngine
from tradeguard.aml.filer import FilingInstitution
from tradeguard.aml.findings import REPLAY_TYPOLOGIES
from tradeguard.aml.parameters import MonitorParameters
from tradeguard.aml.replay_input import (
    read_accounts,
    read_customers,
    read_transaction_batches,
)
from tradeguard.aml.transactions import CustomerProfile, Transaction, format_dollars
from tradeguard.core.collector import collector_paused
from tradeguard.core.secure_files import write_atomically, write_private

INDEX_HEADER = ("customer", "date", "cash_in", "cash_out", "file")
GROUP_TRANSACTIONS = 500_000
"""How many transactions are read before they are run through the monitors, customer by customer.

Every monitor, the episodes and the CTR ledger keep their state per customer, so running
one customer's transactions together (each customer's in file order) gives exactly what
file order gives, while that customer's windows are still in the processor's cache. A
group costs about half a kilobyte of memory a transaction.
"""
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    """What a replay read and wrote."""

    transactions: int
    alerts: int
    ctrs: int


@dataclass(frozen=True, slots=True)
class ReplaySettings:
    """How a replay runs: the monitors' parameters, who files the CTRs and on which date."""

    parameters: MonitorParameters
    filer: FilingInstitution
    filed_on: date


def replay(source: Path, alerts_path: Path, ctr_dir: Path, run: ReplaySettings) -> ReplaySummary:
    """Run the monitors and the CTR rule over ``source``; write the alerts and the CTRs."""
    with collector_paused():
        return _replay(source, alerts_path, ctr_dir, run)


def _replay(source: Path, alerts_path: Path, ctr_dir: Path, run: ReplaySettings) -> ReplaySummary:
    profiles = read_customers(source / "customers.csv")
    owners = read_accounts(source / "accounts.csv")
    engine = AmlEngine(run.parameters, profiles, REPLAY_TYPOLOGIES)
    ledger = CashLedger()
    count = 0
    pending: list[Transaction] = []
    for batch in read_transaction_batches(source / "transactions.jsonl", owners):
        pending += batch
        if len(pending) >= GROUP_TRANSACTIONS:
            count += _run(engine, ledger, pending)
            pending = []
    count += _run(engine, ledger, pending)
    alerts = [episode.as_alert() for episode in engine.episodes.all_episodes()]
    write_atomically(alerts_path, _jsonl(alerts))
    days = ledger.reportable()
    write_ctrs(ctr_dir, days, profiles, run)
    return ReplaySummary(count, len(alerts), len(days))


def _run(engine: AmlEngine, ledger: CashLedger, txns: list[Transaction]) -> int:
    """Run ``txns`` through the monitors customer by customer, and the CTR rule; how many.

    The CTR ledger, which only counts cash, walks ``txns`` as read: it needs no grouping,
    and walking the tuples in the order they were made is cheaper.
    """
    grouped = by_customer(txns)
    engine.observe_all(grouped)
    ledger.add_all(txns)
    return len(grouped)


def by_customer(txns: list[Transaction]) -> list[Transaction]:
    """``txns`` with each customer's together, in order of first appearance, each in its order."""
    groups: dict[str, list[Transaction]] = {}
    for txn in txns:
        group = groups.get(txn.customer)
        if group is None:
            group = groups[txn.customer] = []
        group.append(txn)
    return list(chain.from_iterable(groups.values()))


def _jsonl(records: list[dict[str, object]]) -> bytes:
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records).encode()


def ctr_file_name(customer: str, day: date) -> str:
    """A file name for the CTR of ``customer`` on ``day``, safe whatever the id holds."""
    safe = _UNSAFE.sub("_", customer)[:80]
    if safe != customer:
        safe += "-" + hashlib.sha256(customer.encode()).hexdigest()[:10]
    return f"ctr-{safe}-{day.isoformat()}.xml"


def write_ctrs(
    ctr_dir: Path, days: list[CashDay], profiles: dict[str, CustomerProfile], run: ReplaySettings
) -> None:
    """One CTR file per reportable day (owner-only), then ``index.csv``."""
    ctr_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    index = io.StringIO()
    writer = csv.writer(index, lineterminator="\n")
    writer.writerow(INDEX_HEADER)
    template = ctr_template(run.filer, run.filed_on)
    for day in days:
        profile = profiles.get(day.customer) or CustomerProfile(day.customer)
        report = CurrencyReport(profile, day, day.reportable_in(), day.reportable_out())
        name = ctr_file_name(day.customer, day.day)
        write_private(ctr_dir / name, build_ctr(report, run.filer, run.filed_on, template))
        writer.writerow(_index_row(report, name))
    write_atomically(ctr_dir / "index.csv", index.getvalue().encode())


def _index_row(report: CurrencyReport, name: str) -> tuple[str, ...]:
    cash_in = format_dollars(report.cash_in_cents) if report.report_in else ""
    cash_out = format_dollars(report.cash_out_cents) if report.report_out else ""
    return (report.cash_day.customer, report.cash_day.day.isoformat(), cash_in, cash_out, name)
