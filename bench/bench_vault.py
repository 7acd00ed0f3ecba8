"""The payment vault over mutual TLS: tokenization round trips, p50 and p99.

Starts ``tradeguard payments serve`` (with its loopback sandbox processor) in a scratch
directory, then measures, one request at a time as the main service and a browser make
them, each over a new TLS connection:

- a card added end to end: an intake ticket over mutual TLS, the card number to the
  intake endpoint (the vault tokenizes it at the processor and stores the token), and
  the confirmation over mutual TLS;
- one call of the main service to the vault over mutual TLS (the owner's cards).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from measure import Measurement

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from vault.vault_process import RunningVault, free_port, issue_certificates

TOKENIZATIONS = 200
CALLS = 500
TRADEGUARD = str(Path(sys.executable).with_name("tradeguard"))


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def _timed(action: Callable[[], object], count: int) -> list[float]:
    action()
    samples = []
    for _ in range(count):
        started = time.perf_counter_ns()
        action()
        samples.append((time.perf_counter_ns() - started) / 1e6)
    return samples


def _start(workdir: Path) -> tuple[RunningVault, subprocess.Popen[bytes]]:
    tls_dir = workdir / "var" / "tls"
    issue_certificates(tls_dir)
    vault = RunningVault(workdir, free_port(), free_port(), tls_dir, None)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEGUARD_")}
    env |= {
        "TRADEGUARD_PAYMENTS_VAR_DIR": str(workdir / "var" / "payments"),
        "TRADEGUARD_PAYMENTS_TLS_DIR": str(tls_dir),
        "TRADEGUARD_PAYMENTS_PORT": str(vault.port),
        "TRADEGUARD_PAYMENTS_INTAKE_PORT": str(vault.intake_port),
        "TRADEGUARD_PAYMENTS_PROCESSOR_API_BASE": f"http://127.0.0.1:{free_port()}",
    }
    log = (workdir / "vault.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own command
        [TRADEGUARD, "payments", "serve"], cwd=workdir, env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if vault.client().health()["processor"]:
                return vault, process
        except Exception:  # noqa: BLE001, S110 - not up yet
            pass
        time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the vault did not start")


def run() -> list[Measurement]:
    """Tokenization and mutual-TLS call round trips, p50 and p99 in milliseconds."""
    with tempfile.TemporaryDirectory() as scratch:
        vault, process = _start(Path(scratch))
        try:
            add = _timed(lambda: vault.add_card("bench-owner", "4242424242424242"), TOKENIZATIONS)
            client = vault.client()
            call = _timed(lambda: client.cards("bench-owner"), CALLS)
        finally:
            process.terminate()
            process.wait(20)
    add_p50, add_p99 = _percentiles(add)
    call_p50, call_p99 = _percentiles(call)
    return [
        Measurement("vault: add a card (ticket, tokenize, confirm) p50", add_p50, "ms"),
        Measurement("vault: add a card (ticket, tokenize, confirm) p99", add_p99, "ms"),
        Measurement("vault: one mutual-TLS call, new connection p50", call_p50, "ms"),
        Measurement("vault: one mutual-TLS call, new connection p99", call_p99, "ms"),
    ]
