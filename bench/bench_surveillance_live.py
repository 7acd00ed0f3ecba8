"""Live surveillance alert latency: from the commit of the triggering trade to the stored alert.

The server's own embedded loop (``watch_periodically``, polling every ``watch_poll_ms``)
runs the surveillance watcher, the same engine as replay, over the audit trail through its
durable cursor (SQLite), in a thread of its own. It is woken as in ``tradeguard serve``'s
watch process: each commit of audit events sends a nudge datagram to its socket
(``watch.nudges``). Each episode is a wash trade on its own symbol between two accounts of one
beneficial owner: the second trade completes the rule (``same_owner_min_trades``). The
clock starts once the trade's transaction has committed and stops when the watcher's
batch that stored the alert has committed (the store's after-commit listener).
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from apps import scratch_core
from measure import Measurement
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.cases.models import AlertRow
from tradeguard.cases.store import AlertStore
from tradeguard.config import Settings
from tradeguard.core.clock import SystemClock
from tradeguard.db.session import transaction
from tradeguard.logs import configure_logging
from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.parameters import SurveillanceParameters
from tradeguard.surveillance.watcher import SurveillanceWatcher
from tradeguard.watch.nudges import NudgeSender, nudge_socket
from tradeguard.watch.service import WatchService
from tradeguard.watch.wiring import wake_on_commit, watch_periodically
from tradeguard.wiring import Core

EPISODES = 200
TARGET_MS = 100
WAIT_S = 5.0
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


class AlertClock:
    """When the last batch that stored alerts committed."""

    def __init__(self) -> None:
        self.stored = threading.Event()
        self.at = 0.0

    def __call__(self, rows: Sequence[AlertRow]) -> None:
        del rows
        self.at = time.perf_counter()
        self.stored.set()


def _embedded_loop(
    watchers: WatchService, settings: Settings, nudges: Path
) -> asyncio.AbstractEventLoop:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    asyncio.run_coroutine_threadsafe(watch_periodically(watchers, settings, nudges), loop)
    return loop


def _latencies_ms(core: Core, settings: Settings) -> list[float]:
    clock = SystemClock()
    store, alerts = AlertStore(core.audit, clock), AlertClock()
    store.after_commit(alerts)
    watchers = WatchService(core.sessions, store, clock)
    directory, params = _directory(), SurveillanceParameters()
    watchers.register(lambda: SurveillanceWatcher(directory, params))
    committing = WatchService(core.sessions, store, clock)  # the desk process: runs none
    nudges = nudge_socket(settings)
    sender = committing.waker = NudgeSender(nudges)
    wake_on_commit(core.sessions, committing)
    loop = _embedded_loop(watchers, settings, nudges)
    samples = []
    for episode in range(EPISODES):
        symbol = f"S{episode:04d}"
        with transaction(core.sessions) as db:
            _cross(core.audit, db, symbol, 1)
        time.sleep(0.1)  # the batch of the first trade is done
        alerts.stored.clear()
        with transaction(core.sessions) as db:
            _cross(core.audit, db, symbol, 2)
        committed = time.perf_counter()
        if not alerts.stored.wait(WAIT_S):
            raise RuntimeError(f"no alert within {WAIT_S} s of episode {episode}")
        samples.append((alerts.at - committed) * 1000)
    watchers.stop()
    loop.call_soon_threadsafe(loop.stop)
    committing.waker = None
    sender.close()
    return samples


def run() -> list[Measurement]:
    """Commit of the trade that completes a wash episode to its stored alert: p50 and p99."""
    configure_logging(level="WARNING")
    with scratch_core() as (core, settings):
        samples = sorted(_latencies_ms(core, settings))
    p50 = statistics.median(samples)
    p99 = samples[int(len(samples) * 0.99) - 1]
    return [
        Measurement("surveillance live alert: commit to stored alert, p50", p50, "ms"),
        Measurement("surveillance live alert: commit to stored alert, p99", p99, "ms", TARGET_MS),
    ]
