"""Timers around the parts of TradeGuard's order path, installed in the server process.

Each timed function adds its thread's CPU time and its wall time to a call tree (a section
entered inside another is counted under it). CPU time is the thread's own
(``time.thread_time_ns``): waiting for the database, a lock or the GIL costs wall time only.
Two clock reads per call keep the timers' own cost near a microsecond per section.

At exit the tree, the CPU time of the server's threads by name (those still running and those
that ended) and the process's CPU time, both since the first timed call (start-up excluded),
are written as JSON (``write_report``).
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

TIMED: tuple[tuple[str, str, str], ...] = (
    ("rate limit per address", "tradeguard.ratelimit.limiter", "RateLimits.admit_address"),
    ("request log line", "tradeguard.gateway.middleware", "RequestContextMiddleware._record"),
    ("gate", "tradeguard.gateway.guard", "Gateway._admit"),
    ("token and session check", "tradeguard.identity.principal", "authenticate"),
    (
        "session state load (cache miss)",
        "tradeguard.identity.sessions",
        "SessionManager._load_state",
    ),
    ("rate limit per user", "tradeguard.ratelimit.limiter", "RateLimits.admit_caller"),
    ("desk: place", "tradeguard.trading.orders.desk", "TradingDesk.place_later"),
    (
        "batch: lock, work, writes, commit",
        "tradeguard.trading.orders.batch_runner",
        "BatchRunner.commit",
    ),
    ("client order id lookup", "tradeguard.trading.orders.order_rows", "stored_by_client_id"),
    ("pre-trade risk checks", "tradeguard.risk.engine", "RiskEngine.check"),
    ("matching", "tradeguard.trading.matching.engine", "Exchange.submit"),
    ("executions, positions", "tradeguard.trading.orders.booking", "Booking.apply"),
    ("order status, feed events", "tradeguard.trading.orders.booking", "Booking.finish"),
    (
        "batch rows, events, commit",
        "tradeguard.trading.orders.booking",
        "BatchWrites.commit",
    ),
    (
        "reads before the writes, the head's lock",
        "tradeguard.trading.orders.booking",
        "read_stored",
    ),
    ("audit events numbered", "tradeguard.audit.recorder", "AuditTrail.number_batch"),
    ("audit event drafted", "tradeguard.audit.recorder", "AuditTrail.draft"),
    ("audit event (single)", "tradeguard.audit.recorder", "AuditTrail.record"),
    ("audit batch append", "tradeguard.audit.recorder", "AuditTrail.append_batch"),
    ("sequencer lock and head load", "tradeguard.audit.recorder", "_lock_and_load_head"),
    ("checkpoint", "tradeguard.audit.recorder", "AuditTrail._checkpoint"),
    ("commit", "sqlalchemy.orm", "Session.commit"),
    ("head save", "tradeguard.audit.recorder", "_save_head"),
    ("access checks to audit events", "tradeguard.access.check_log", "AccessCheckLog._write"),
)
"""Title, module and attribute (``Class.method`` or a module-level function) of each timer."""
ORDER_SECTION = "desk: place"
"""One call per order placed; CPU time is counted from the first one on."""

SectionPath = tuple[str, ...]
_totals: defaultdict[SectionPath, list[int]] = defaultdict(lambda: [0, 0, 0])
_totals_lock = threading.Lock()
_local = threading.local()
_ended_threads: defaultdict[str, float] = defaultdict(float)
_baseline: dict[str, float] = {}
"""CPU seconds by thread name and of the process (``""``) when the first order came in."""
_DIGITS = re.compile(r"[-_ ]?\d+|\s*\(.*\)")
_start_thread = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]  # noqa: SLF001


def _timed(title: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(function)
    def timer(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - whatever the function takes
        if not _baseline and title == ORDER_SECTION:
            _take_baseline()
        stack: list[str] = _local.__dict__.setdefault("stack", [])
        stack.append(title)
        path = tuple(stack)
        cpu, wall = time.thread_time_ns(), time.perf_counter_ns()
        try:
            return function(*args, **kwargs)
        finally:
            cpu, wall = time.thread_time_ns() - cpu, time.perf_counter_ns() - wall
            stack.pop()
            if _baseline:  # start-up work (reloading the books, say) is not order flow
                _add(path, cpu, wall)

    return timer


def _add(path: SectionPath, cpu: int, wall: int) -> None:
    with _totals_lock:
        entry = _totals[path]
        entry[0] += 1
        entry[1] += cpu
        entry[2] += wall


def _kind(thread: threading.Thread) -> str:
    """A thread's name without its number: threads of one pool share it."""
    return _DIGITS.sub("", thread.name) or thread.name


def _counted_thread(thread: threading.Thread) -> None:
    try:
        _start_thread(thread)
    finally:
        with _totals_lock:
            _ended_threads[_kind(thread)] += time.thread_time()


def install() -> None:
    """Wrap every function of ``TIMED`` in a timer, count the CPU time of threads that end."""
    threading.Thread._bootstrap_inner = _counted_thread  # type: ignore[attr-defined]  # noqa: SLF001
    for title, module_name, attribute in TIMED:
        owner: Any = importlib.import_module(module_name)
        *classes, name = attribute.split(".")
        for class_name in classes:
            owner = getattr(owner, class_name)
        setattr(owner, name, _timed(title, getattr(owner, name)))


def _thread_cpu_seconds(native_id: int) -> float:
    stat = Path(f"/proc/self/task/{native_id}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_by_thread() -> dict[str, float]:
    with _totals_lock:
        by_name = defaultdict(float, _ended_threads)
    for thread in threading.enumerate():
        if thread.native_id is not None:
            by_name[_kind(thread)] += _thread_cpu_seconds(thread.native_id)
    return dict(by_name)


def _take_baseline() -> None:
    """Start-up is not order flow: the report counts CPU time from the first order on."""
    times = os.times()
    cpu = _cpu_by_thread()
    with _totals_lock:
        if not _baseline:
            _baseline.update(cpu)
            _baseline[""] = times.user + times.system


def write_report(path: Path) -> None:
    """The call tree, the CPU time per thread name and the process's CPU time, as JSON."""
    times = os.times()
    with _totals_lock:
        sections = [
            {"path": list(key), "calls": calls, "cpu_ns": cpu, "wall_ns": wall}
            for key, (calls, cpu, wall) in sorted(_totals.items())
        ]
    threads = {name: cpu - _baseline.get(name, 0.0) for name, cpu in _cpu_by_thread().items()}
    report = {
        "sections": sections,
        "threads": threads,
        "process_cpu_seconds": times.user + times.system - _baseline.get("", 0.0),
    }
    path.write_text(json.dumps(report, indent=1))
