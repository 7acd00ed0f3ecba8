"""Where one order's time goes in the TradeGuard server: the two profiles, as tables.

The section timers (``section_timers``) run under the benchmark's load: CPU and wall time
per order of each part of the order path, and the server's CPU time by thread. The cProfile
run has one connection sending orders one at a time, so cumulative times add up along the
request path without waits for other requests; cProfile measures wall time and slows Python
code down (small, frequent calls most), so its shares matter, not its milliseconds.
"""

from __future__ import annotations

import json
import pstats
from pathlib import Path

from section_timers import ORDER_SECTION, TIMED

MINOR_NS = 10_000
"""Sections under 0.01 ms of wall time per order (start-up work, rare paths) are left out."""
TOP_FUNCTIONS = 25
PER_ORDER_CALLS = 0.05
"""Functions called less often (the server's main loop, background loops) are left out."""


def top_functions(profile_file: Path, orders: int) -> list[str]:
    """TradeGuard's functions by cumulative time per order, from the cProfile run."""
    stats = pstats.Stats(str(profile_file)).stats  # type: ignore[attr-defined]
    ours = [
        (row[3], row[1], f"{filename.split('/tradeguard/')[-1]}:{line}({name})")
        for (filename, line, name), row in stats.items()
        if "/tradeguard/" in filename and row[1] >= orders * PER_ORDER_CALLS
    ]
    lines = [f"{'cProfile, one connection: cumulative per order':<64}{'calls':>7}{'ms':>8}"]
    for seconds, calls, where in sorted(ours, reverse=True)[:TOP_FUNCTIONS]:
        lines.append(f"{where:<64}{calls / orders:7.2f}{seconds * 1000 / orders:8.2f}")
    return lines


def _order(path: list[str]) -> list[int]:
    titles = [title for title, _, _ in TIMED]
    return [titles.index(title) for title in path]


def timer_lines(report_file: Path) -> list[str]:
    """Per order: each timed section's calls, CPU and wall time; CPU by thread."""
    report = json.loads(report_file.read_text())
    sections = sorted(report["sections"], key=lambda section: _order(section["path"]))
    orders = next(s["calls"] for s in sections if s["path"] == [ORDER_SECTION])
    lines = [f"{'section (timers), per order':<52}{'calls':>7}{'CPU ms':>8}{'wall ms':>9}"]
    for section in sections:
        if section["wall_ns"] / orders < MINOR_NS:
            continue
        title = "  " * (len(section["path"]) - 1) + section["path"][-1]
        calls, cpu, wall = (section[key] / orders for key in ("calls", "cpu_ns", "wall_ns"))
        lines.append(f"{title:<52}{calls:7.2f}{cpu / 1e6:8.2f}{wall / 1e6:9.2f}")
    lines.append(f"{'server CPU by thread, per order':<52}{'':>7}{'CPU ms':>8}")
    for name, seconds in sorted(report["threads"].items(), key=lambda item: -item[1]):
        lines.append(f"{name:<52}{'':>7}{seconds * 1000 / orders:8.2f}")
    lines.append(f"{'process':<52}{'':>7}{report['process_cpu_seconds'] * 1000 / orders:8.2f}")
    return lines
