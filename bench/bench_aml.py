"""AML replay throughput: the monitors, the CTR rule and the file reading, on one core.

Throughput is counted in the process's CPU time (``time.process_time``): the replay is
single-threaded, so this is transactions per second of one core, whatever else runs.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path

from measure import Measurement
from tradeguard.aml import synthetic
from tradeguard.aml.currency_reports import CashLedger
from tradeguard.aml.engine import AmlEngine
from tradeguard.aml.filer import filer_from
from tradeguard.aml.findings import REPLAY_TYPOLOGIES
from tradeguard.aml.parameters import MonitorParameters
from tradeguard.aml.replay import ReplaySettings, replay
from tradeguard.aml.replay_input import read_accounts, read_customers, read_transactions
from tradeguard.config import Settings

CUSTOMERS = 10_000
TARGET_PER_SECOND = 100_000


def _monitors_only(directory: Path) -> float:
    """Transactions per second through the engine and the CTR ledger, parsed beforehand."""
    profiles = read_customers(directory / "customers.csv")
    txns = list(
        read_transactions(
            directory / "transactions.jsonl", read_accounts(directory / "accounts.csv")
        )
    )
    engine, ledger = AmlEngine(MonitorParameters(), profiles, REPLAY_TYPOLOGIES), CashLedger()
    started = time.process_time()
    for txn in txns:
        engine.observe(txn)
        ledger.add(txn)
    return len(txns) / (time.process_time() - started)


def _whole_replay(directory: Path) -> tuple[int, float]:
    """Transactions and transactions per second of ``tradeguard aml replay`` end to end."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    run = ReplaySettings(MonitorParameters(), filer_from(settings), date(2026, 6, 1))
    started = time.process_time()
    summary = replay(directory, directory / "alerts.jsonl", directory / "ctr", run)
    return summary.transactions, summary.transactions / (time.process_time() - started)


def run() -> list[Measurement]:
    """Replay throughput, whole command and monitors alone."""
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        synthetic.write(synthetic.generate(2026, CUSTOMERS, 60), directory)
        count, whole = _whole_replay(directory)
        monitors = _monitors_only(directory)
    return [
        Measurement(f"aml replay, {count:,} transactions (read, monitor, write)", whole,
                    "txn/s", TARGET_PER_SECOND, lower_is_better=False),
        Measurement("aml monitors and CTR rule alone", monitors, "txn/s", lower_is_better=False),
    ]  # fmt: skip
