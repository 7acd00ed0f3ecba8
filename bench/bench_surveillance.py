"""Surveillance replay: events per second with every detector on one core, peak memory.

A generated market day (tests/market_scenarios.py: market makers, noise and day traders,
households, a momentum run, a hedging desk and injected manipulation) of about 1,000,000
events is written once; then the detectors alone run over the parsed events, and the
whole replay (reading and parsing events.jsonl, the detectors, writing the alerts) runs
in a child process whose peak resident memory is read from the operating system.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import Measurement

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from market_scenarios import Config, generate  # noqa: E402 - after the tests folder is on the path
from tradeguard.core.collector import collector_paused  # noqa: E402
from tradeguard.surveillance.engine import Surveillance  # noqa: E402
from tradeguard.surveillance.parameters import SurveillanceParameters  # noqa: E402
from tradeguard.surveillance.replay import (  # noqa: E402
    ReplayResult,
    feeds_of,
    load_directory,
    parsed_lines,
)

DAY = Config(symbols=20, hours=6.5, noise_traders=200, wash=6, spoofing=6, layering=6, pump=2)


def _write_day(directory: Path) -> int:
    day = generate(2026, DAY)
    day.write(directory)
    return len(day.venue.lines)


def _detectors_only(directory: Path) -> float:
    with (directory / "events.jsonl").open("rb") as handle:
        events = [(kind, args) for _, kind, args in parsed_lines(handle, ReplayResult(), None)]
    engine = Surveillance(load_directory(directory), SurveillanceParameters())
    feeds = feeds_of(engine)
    with collector_paused():  # as the replay runs them
        started = time.process_time()  # CPU time: the machine may be shared
        for kind, args in events:
            feeds[kind](*args)
        seconds = time.process_time() - started
    return len(events) / seconds


PEAK_AFTER_RUN = """
import runpy, sys
try:
    runpy.run_module("tradeguard", run_name="__main__")
finally:
    status = open("/proc/self/status").read()
    peak = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    print(peak.split()[1], file=sys.stderr)
"""
"""Runs the command and prints its own peak resident memory (KiB). The kernel's
``ru_maxrss`` of a child also counts the benchmark's own memory at the fork (the child
is a copy of this process until it runs the command), so it would overstate the replay."""


def _full_replay(directory: Path) -> tuple[float, float]:
    """CPU seconds and peak memory (MiB) of `tradeguard surveillance replay`."""
    command = [
        sys.executable,
        "-c",
        PEAK_AFTER_RUN,
        "surveillance",
        "replay",
        str(directory),
        "--alerts",
        str(directory / "alerts.jsonl"),
    ]
    done = subprocess.run(command, check=False, capture_output=True, text=True)  # noqa: S603 - our own command
    if done.returncode:
        raise RuntimeError(done.stderr)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return usage.ru_utime + usage.ru_stime, peak_kib / 1024


def run() -> list[Measurement]:
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        events = _write_day(directory)
        detectors = _detectors_only(directory)
        seconds, peak_mib = _full_replay(directory)
    return [
        Measurement("surveillance: events in the day", events, "events"),
        Measurement(
            "surveillance: detectors only, per CPU second (one core)",
            detectors,
            "events/s",
            200_000,
            lower_is_better=False,
        ),
        Measurement(
            "surveillance: full replay incl. JSON parsing, per CPU second",
            events / seconds,
            "events/s",
            lower_is_better=False,
        ),
        Measurement("surveillance: full replay peak memory", peak_mib, "MiB"),
    ]
