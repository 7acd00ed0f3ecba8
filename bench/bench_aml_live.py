"""Live AML alert latency: from a deposit's commit to its alert in the shared queue (SQLite)."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from measure import Measurement
from tradeguard.aml.parameters import MonitorParameters
from tradeguard.aml.watcher import AmlWatcher
from tradeguard.audit.records import Actor
from tradeguard.cases.store import AlertStore
from tradeguard.config import Settings
from tradeguard.core.clock import SystemClock
from tradeguard.crypto.master_key import ensure_master_key
from tradeguard.crypto.runtime import provision_keys
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine
from tradeguard.db.session import transaction
from tradeguard.logs import configure_logging
from tradeguard.watch.runner import CursorRunner
from tradeguard.wiring import build_core

EPISODES = 200
POLL_MS = 50
"""The embedded watcher loop's default poll interval: the most an event waits to be read."""
TARGET_MS = 1000


def _latencies_ms(var: Path) -> list[float]:
    settings = Settings(_env_file=None, var_dir=var)  # type: ignore[call-arg]
    ensure_master_key(settings.effective_master_key_file, SystemClock(), settings.env)
    engine = build_engine(settings.effective_database_url)
    migrate.upgrade(engine)
    clock = SystemClock()
    core = build_core(settings, clock, engine)
    with transaction(core.sessions) as session:
        provision_keys(core.crypto, session)
    store = AlertStore(core.audit, clock)
    runner = CursorRunner(core.sessions, store, lambda: AmlWatcher(MonitorParameters()), clock)
    samples = []
    for n in range(EPISODES):
        account = f"acct-{n}"
        for amount in ("9500.00", "9600.00"):
            started = time.perf_counter()
            with transaction(core.sessions) as db:
                data = {"account": account, "amount": amount, "method": "cash"}
                core.audit.record(
                    db, "payments.deposit.settled", Actor.system("bench"), account, data
                )
            progress = runner.run_once()
        assert progress.alerts == 1
        samples.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return samples


def run() -> list[Measurement]:
    """Commit of the second structuring deposit to its stored alert, p50 and p99, plus the poll."""
    configure_logging(level="WARNING")
    with tempfile.TemporaryDirectory() as directory:
        samples = sorted(_latencies_ms(Path(directory)))
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    return [
        Measurement("aml live alert: commit + watcher batch, p50", p50, "ms"),
        Measurement(f"aml live alert: p99 + {POLL_MS} ms poll", p99 + POLL_MS, "ms", TARGET_MS),
    ]
