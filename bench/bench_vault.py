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


def _timed(action: Callable[[], object], count: int) -> list[float]:
    action()
    samples = []
    for _ in range(count):
        started = time.perf_counter_ns()
        action()
        samples.append((time.perf_counter_ns() - started) / 1e6)
    return samples


def run() -> list[Measurement]:
    """Tokenization and mutual-TLS call round trips, p50 and p99 in milliseconds."""
    with tempfile.TemporaryDirectory() as scratch, running_vault(Path(scratch)) as vault:
        add = _timed(lambda: vault.add_card("bench-owner", "4242424242424242"), TOKENIZATIONS)
        client = vault.client()
        call = _timed(lambda: client.cards("bench-owner"), CALLS)
    add_p50, add_p99 = _percentiles(add)
    call_p50, call_p99 = _percentiles(call)
    return [
        Measurement("vault: add a card (ticket, tokenize, confirm) p50", add_p50, "ms"),
        Measurement("vault: add a card (ticket, tokenize, confirm) p99", add_p99, "ms"),
        Measurement("vault: one mutual-TLS call, new connection p50", call_p50, "ms"),
        Measurement("vault: one mutual-TLS call, new connection p99", call_p99, "ms"),
    ]
