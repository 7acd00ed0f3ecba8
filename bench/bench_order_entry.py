"""Order entry end to end over HTTPS, against a bare endpoint in the same run (issue: trading).

For SQLite, then PostgreSQL: ``tradeguard init`` and ``tradeguard serve`` in a fresh var
directory, four instruments with a reference price of $10.00, ``TRADERS`` traders signed up
over HTTPS with an authenticator app (full sessions) and funded margin accounts, then
``CONNECTIONS`` client threads on keep-alive HTTPS connections send their orders
(``order_load``: 90% resting limit DAY orders, 10% crossing limit IOC orders that trade)
with bearer tokens: token check, rate limits, permission check, pre-trade risk, the order
row, matching, executions, positions and the audit chain, committed per order. Then the
same clients send the same flow to ``bare_order_app.py`` on the same database, served the
same way, which only inserts the order row: as one process, then as one process per core
sharing the port. Reported for all: orders/s, p50 and p99 after a warm-up, and the
throughput ratio of each side at its best layout, TradeGuard/bare (target >= 0.5).
TradeGuard then takes orders again at half of the rate it reached, sent on a fixed
schedule: its p50 and p99 there (target p99 <= 20 ms), counted from when each order was
due to leave.

``tradeguard serve`` runs as shipped (a desk process and a gateway worker per core), then
again as one process (``TRADEGUARD_SERVE_WORKERS=1``). Also reported: the server's CPU
time per order, all its processes together (the database server's not included).
``BENCH_ORDER_ENTRY_SECONDS`` changes the measured seconds per run (default 15);
``BENCH_ORDER_ENTRY_PROFILE=DIR`` adds, per database, two runs of TradeGuard as one process
after the measured ones (``profiled_serve.py``; the timers see one process only): with
timers around the parts of the order path under the same load, then under cProfile with
one connection for 10 s; both are written to DIR and printed as milliseconds per order.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from live_server import (
    RunningServer,
    Workspace,
    add_instruments,
    bare_command,
    initialise,
    new_workspace,
    open_accounts,
    profiled_tradeguard_command,
    row_counts,
    serving,
    sign_up_traders,
    tradeguard_command,
)
from measure import Measurement, scratch_postgres
from order_entry_profile import timer_lines, top_functions
from order_load import LoadPlan, LoadResult, Trader, run_load
from tradeguard.core.money import Money, Price

SYMBOLS = ("BNCA", "BNCB", "BNCC", "BNCD")
REFERENCE = Price.parse("10.00")
DEPOSIT = Money.parse("1000000.00")
TRADERS = 64
CONNECTIONS = 8
WARMUP_SECONDS = 3.0
SECONDS = float(os.environ.get("BENCH_ORDER_ENTRY_SECONDS", "15"))
PROFILE_DIR = os.environ.get("BENCH_ORDER_ENTRY_PROFILE")
TARGET_RATIO = 0.5
TARGET_HALF_RATE_P99_MS = 20.0
LOAD = LoadPlan(CONNECTIONS, WARMUP_SECONDS, SECONDS)
PROFILED_LOAD = LoadPlan(connections=1, warmup_seconds=0, seconds=10)
SINGLE_PROCESS = {"TRADEGUARD_SERVE_WORKERS": "1"}
BARE_PER_CORE = {"BENCH_BARE_WORKERS": str(os.cpu_count() or 1)}


@dataclass(frozen=True)
class Comparison:
    """TradeGuard and the bare endpoint under the same load on one database.

    ``tradeguard`` is ``tradeguard serve`` as shipped: a desk process and a gateway
    worker per core; ``at_half`` the same server sent half of ``tradeguard``'s rate on a
    fixed schedule; ``single`` the same with ``serve_workers = 1`` (one process).
    """

    backend: str
    tradeguard: LoadResult
    at_half: LoadResult
    bare: LoadResult
    bare_per_core: LoadResult
    single: LoadResult | None = None

    @property
    def ratio(self) -> float:
        best_bare = max(self.bare.rate, self.bare_per_core.rate)
        return max(self.tradeguard.rate, self.single.rate if self.single else 0) / best_bare


def _compare(backend: str, database_url: str | None) -> Comparison:
    with tempfile.TemporaryDirectory(prefix="tg-order-entry-") as directory:
        workspace = new_workspace(Path(directory), database_url)
        initialise(workspace)
        add_instruments(workspace, SYMBOLS, REFERENCE)
        with serving(workspace, tradeguard_command(), "tradeguard") as server:
            traders = _funded_traders(workspace)
            tradeguard = _load(workspace, traders, server)
            at_half = _load(workspace, traders, server, LOAD.at_rate(tradeguard.rate / 2))
        _report("TradeGuard", backend, tradeguard, server)
        _report("TradeGuard at half rate", backend, at_half, server)
        counts = row_counts(workspace, ("orders", "executions", "audit_events"))
        print(f"TradeGuard, {backend}: rows after the run {counts}")
        with serving(workspace, tradeguard_command(), "single", SINGLE_PROCESS) as server:
            single = _load(workspace, traders, server)
        _report("TradeGuard, 1 process", backend, single, server)
        if PROFILE_DIR:
            _profile(workspace, traders, backend)
        with serving(workspace, bare_command(), "bare") as server:
            bare = _load(workspace, traders, server)
        _report("bare", backend, bare, server)
        with serving(workspace, bare_command(), "bare-per-core", BARE_PER_CORE) as server:
            bare_per_core = _load(workspace, traders, server)
        _report("bare, a process per core", backend, bare_per_core, server)
    return Comparison(backend, tradeguard, at_half, bare, bare_per_core, single)


def _funded_traders(workspace: Workspace) -> list[Trader]:
    signed_up = sign_up_traders(workspace, TRADERS)
    accounts = open_accounts(workspace, signed_up, DEPOSIT)
    return [
        Trader(person.access_token, account, SYMBOLS, REFERENCE).staggered(index)
        for index, (person, account) in enumerate(zip(signed_up, accounts, strict=True))
    ]


def _load(
    workspace: Workspace, traders: list[Trader], server: RunningServer, plan: LoadPlan = LOAD
) -> LoadResult:
    return run_load(workspace, traders, plan, server.cpu_seconds)


def _profile(workspace: Workspace, traders: list[Trader], backend: str) -> None:
    """TradeGuard again under the section timers, then under cProfile; prints both."""
    assert PROFILE_DIR is not None
    directory = Path(PROFILE_DIR).absolute()
    directory.mkdir(parents=True, exist_ok=True)
    timers = directory / f"order_entry_{backend.lower()}_sections.json"
    _run_profiled(workspace, traders, LOAD, {"BENCH_PROFILE_MODE": "sections"}, timers)
    print(f"TradeGuard, {backend}, section timers ({timers}):")
    for line in timer_lines(timers):
        print(f"  {line}")
    profile = directory / f"order_entry_{backend.lower()}.prof"
    result = _run_profiled(
        workspace, traders, PROFILED_LOAD, {"BENCH_PROFILE_MODE": "cprofile"}, profile
    )
    print(f"TradeGuard, {backend}, cProfile ({profile}):")
    for line in top_functions(profile, len(result.latencies_ms)):
        print(f"  {line}")


def _run_profiled(
    workspace: Workspace, traders: list[Trader], plan: LoadPlan, env: dict[str, str], output: Path
) -> LoadResult:
    command = profiled_tradeguard_command()
    profiled = env | SINGLE_PROCESS | {"BENCH_PROFILE_FILE": str(output)}
    with serving(workspace, command, "profiled", profiled) as server:
        return run_load(workspace, traders, plan, server.cpu_seconds)


def _report(server_name: str, backend: str, result: LoadResult, server: RunningServer) -> None:
    if result.failures:
        print(f"{server_name}, {backend}: refused or failed {dict(result.failures)}")
        print(f"  first: {result.failure_sample}; server log {server.log_file}")


def _measurements(comparison: Comparison) -> list[Measurement]:
    label = f"order entry e2e, {comparison.backend}"
    results = []
    for server, result in _rows(comparison):
        results += [
            Measurement(f"{label}: {server}", result.rate, "orders/s", lower_is_better=False),
            Measurement(f"{label}: {server} p50", result.percentile(50), "ms"),
            Measurement(f"{label}: {server} p99", result.percentile(99), "ms"),
            Measurement(f"{label}: {server} server CPU", result.cpu_ms_per_order, "ms/order"),
        ]
    results += [
        Measurement(
            f"{label}: TradeGuard/bare throughput",
            comparison.ratio,
            "x",
            TARGET_RATIO,
            lower_is_better=False,
        ),
        Measurement(
            f"{label}: TradeGuard at half rate p99",
            comparison.at_half.percentile(99),
            "ms",
            TARGET_HALF_RATE_P99_MS,
        ),
    ]
    return results


def _rows(comparison: Comparison) -> list[tuple[str, LoadResult]]:
    rows = [
        ("TradeGuard", comparison.tradeguard),
        ("TG half rate", comparison.at_half),
        ("bare", comparison.bare),
        ("bare/core", comparison.bare_per_core),
    ]
    if comparison.single is not None:
        rows.insert(2, ("TG 1 proc", comparison.single))
    return rows


def _table(comparisons: list[Comparison]) -> None:
    print(f"order entry over HTTPS: {TRADERS} traders, {CONNECTIONS} connections, {SECONDS:g} s")
    print(
        f"{'database':<11}{'server':<12}{'orders/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'CPU ms/order':>14}{'ratio':>8}"
    )
    for comparison in comparisons:
        for server, result in _rows(comparison):
            ratio = f"{comparison.ratio:8.2f}" if server == "TradeGuard" else ""
            print(
                f"{comparison.backend:<11}{server:<12}{result.rate:10.0f}"
                f"{result.percentile(50):9.1f}{result.percentile(99):9.1f}"
                f"{result.cpu_ms_per_order:14.2f}{ratio}"
            )


def run() -> list[Measurement]:
    comparisons = [_compare("SQLite", None)]  # SQLite in the workspace's var directory
    with scratch_postgres() as url:
        if url is not None:
            comparisons.append(_compare("PostgreSQL", url))
    _table(comparisons)
    return [line for comparison in comparisons for line in _measurements(comparison)]
