"""``tradeguard serve`` with a profiler, for the order-entry benchmark's profile switch.

``BENCH_PROFILE_MODE=sections`` wraps the parts of the order path in timers
(``section_timers``); ``cprofile`` gives every thread of the server (the event loop, the
worker threads that run the routes, the background writers) a cProfile profiler of its own
from the moment it starts. When the server stops (SIGTERM) the result is written to the file
named by ``BENCH_PROFILE_FILE``: the timers' JSON report, or the merged cProfile statistics.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import section_timers
from tradeguard.cli.server_commands import serve

PROFILES: list[cProfile.Profile] = []
_start_thread = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]  # noqa: SLF001


def _profiled_bootstrap(thread: threading.Thread) -> Any:  # noqa: ANN401 - what the thread returns
    profile = cProfile.Profile()
    PROFILES.append(profile)
    profile.enable()
    try:
        return _start_thread(thread)
    finally:
        profile.disable()


def _serve_profiled(output: Path) -> None:
    threading.Thread._bootstrap_inner = _profiled_bootstrap  # type: ignore[attr-defined]  # noqa: SLF001
    main_profile = cProfile.Profile()
    main_profile.enable()
    try:
        serve()
    finally:
        main_profile.disable()
        merged = pstats.Stats(main_profile)
        for profile in PROFILES:
            merged.add(profile)
        merged.dump_stats(output)


def _serve_timed(output: Path) -> None:
    section_timers.install()
    try:
        serve()
    finally:
        section_timers.write_report(output)


def main() -> None:
    """Serve under the chosen profiler; write its result on the way out."""
    # uvicorn raises the SIGTERM it caught once it has shut down: end normally then.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    output = Path(os.environ["BENCH_PROFILE_FILE"])
    if os.environ.get("BENCH_PROFILE_MODE") == "sections":
        _serve_timed(output)
    else:
        _serve_profiled(output)


if __name__ == "__main__":
    main()
