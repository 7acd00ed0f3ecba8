"""The payment vault over mutual TLS: tokenization round trips, p50 and p99.

Starts ``tradeguard payments serve`` (with its loopback sandbox processor) in a scratch
directory, then measures, one request at a time as the main service and a browser make
them:

- a card added end to end: an intake ticket over mutual TLS, the card number to the
  intake endpoint (a new TLS connection, as a browser's; the vault tokenizes it at the
  processor and stores the token), and the confirmation over mutual TLS;
- one call of the main service to the vault over mutual TLS (the owner's cards) on the
  client's kept connection, as the service makes it;
- the same call over a new connection each time (the client closed after each call),
  handshake included, for comparison; the two take turns, so both see the same load.

Wall times, and the CPU time of this process (the client's side) per call.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from measure import Measurement

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

from vault.vault_process import running_vault

TOKENIZATIONS = 200
CALLS = 500


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]


def _timed_once(action: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU (this process: the client's side) milliseconds of one call."""
    started, cpu_started = time.perf_counter_ns(), time.process_time_ns()
    action()
    return (time.perf_counter_ns() - started) / 1e6, (time.process_time_ns() - cpu_started) / 1e6


def _timed(*actions: Callable[[], object], count: int) -> list[tuple[list[float], float]]:
    """Each action's wall samples and median CPU, the actions taking turns (same load)."""
    for action in actions:
        action()
    walls: list[list[float]] = [[] for _ in actions]
    cpus: list[list[float]] = [[] for _ in actions]
    for _ in range(count):
        for index, action in enumerate(actions):
            wall, cpu = _timed_once(action)
            walls[index].append(wall)
            cpus[index].append(cpu)
    return [(wall, statistics.median(cpu)) for wall, cpu in zip(walls, cpus, strict=True)]


def _calls(name: str, timed: tuple[list[float], float]) -> list[Measurement]:
    samples, cpu = timed
    p50, p99 = _percentiles(samples)
    return [
        Measurement(f"vault: {name} p50", p50, "ms"),
        Measurement(f"vault: {name} p99", p99, "ms"),
        Measurement(f"vault: {name}, client CPU p50", cpu, "ms"),
    ]


def run() -> list[Measurement]:
    """Tokenization and mutual-TLS call round trips, p50 and p99 in milliseconds."""
    with tempfile.TemporaryDirectory() as scratch, running_vault(Path(scratch)) as vault:
        client = vault.client()
        (add,) = _timed(
            lambda: vault.add_card("bench-owner", "4242424242424242", client),
            count=TOKENIZATIONS,
        )
        vault.add_card("bench-caller", "4242424242424242", client)

        def anew() -> object:
            client.close()
            return client.cards("bench-caller")

        kept, fresh = _timed(lambda: client.cards("bench-caller"), anew, count=CALLS)
        client.close()
    return [
        *_calls("add a card (ticket, tokenize, confirm)", add),
        *_calls("one mutual-TLS call, kept connection", kept),
        *_calls("one mutual-TLS call, new connection", fresh),
    ]
