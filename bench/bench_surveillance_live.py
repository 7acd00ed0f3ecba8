"""Live surveillance alert latency: from the commit of the triggering trade to the stored alert.

The watcher runs the same engine as replay, fed from the audit trail through its durable
cursor (SQLite). Each episode is a wash trade on its own symbol between two accounts of
one beneficial owner: the second trade completes the rule (``same_owner_min_trades``).
The clock starts before the trade's transaction and stops when the watcher's batch that
stored the alert has committed; the embedded loop's poll interval is added to the p99,
the most an event waits before a batch reads it.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from measure import Measurement
from tradeguard.audit.recorder import AuditTrail
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
from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.parameters import SurveillanceParameters
from tradeguard.surveillance.watcher import SurveillanceWatcher
from tradeguard.watch.runner import CursorRunner
from tradeguard.wiring import build_core

EPISODES = 200
POLL_MS = 50
"""The embedded watcher loop's default poll interval (``watch_poll_ms``)."""
TARGET_MS = 100
BANK = Actor.system("bench")


def _directory() -> AccountDirectory:
    directory = AccountDirectory()
    directory.add_account("acct-a", "client", "owner-1")
    directory.add_account("acct-b", "client", "owner-1")
    return directory


def _order(symbol: str, order_id: str, account: str, side: str) -> dict[str, object]:
    return {
        "account": account,
        "symbol": symbol,
        "side": side,
        "type": "limit",
        "quantity": 100,
        "limit_price": "10.00",
        "order_id": order_id,
    }


def _trade(symbol: str, sequence: int, buy: str, sell: str) -> dict[str, object]:
    return {
        "symbol": symbol,
        "quantity": 100,
        "price": "10.00",
        "sequence": sequence,
        "buy": {"order": buy},
        "sell": {"order": sell},
        "aggressor": "sell",
    }


def _cross(audit: AuditTrail, db: object, symbol: str, n: int) -> None:
    buy, sell = f"{symbol}-b{n}", f"{symbol}-s{n}"
    audit.record(db, "order.placed", BANK, buy, _order(symbol, buy, "acct-a", "buy"))  # type: ignore[arg-type]
    audit.record(db, "order.placed", BANK, sell, _order(symbol, sell, "acct-b", "sell"))  # type: ignore[arg-type]
    audit.record(db, "trade.executed", BANK, symbol, _trade(symbol, n, buy, sell))  # type: ignore[arg-type]


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
    directory, params = _directory(), SurveillanceParameters()
    runner = CursorRunner(
        core.sessions, store, lambda: SurveillanceWatcher(directory, params), clock
    )
    samples = []
    for episode in range(EPISODES):
        symbol = f"S{episode:04d}"
        with transaction(core.sessions) as db:
            _cross(core.audit, db, symbol, 1)
        runner.run_once()
        started = time.perf_counter()
        with transaction(core.sessions) as db:
            _cross(core.audit, db, symbol, 2)
        progress = runner.run_once()
        samples.append((time.perf_counter() - started) * 1000)
        assert progress.alerts == 1, progress
    engine.dispose()
    return samples


def run() -> list[Measurement]:
    """Commit of the trade that completes a wash episode to its stored alert: p50, p99 + poll."""
    configure_logging(level="WARNING")
    with tempfile.TemporaryDirectory() as directory:
        samples = sorted(_latencies_ms(Path(directory)))
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    return [
        Measurement("surveillance live alert: commit + watcher batch, p50", p50, "ms"),
        Measurement(
            f"surveillance live alert: p99 + {POLL_MS} ms poll", p99 + POLL_MS, "ms", TARGET_MS
        ),
    ]
