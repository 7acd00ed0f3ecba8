"""A crash at each step of commit -> witness -> answer, in a real process killed with SIGKILL.

Nothing acknowledged is lost, nothing half-written appears, `audit verify` passes or reports
the repairable state, and the next start-up repairs it.
"""

from __future__ import annotations

import random
import time

import pytest
from crash_kit import (
    Installation,
    acknowledgements,
    add_trader,
    read_acknowledgements,
    repairs,
    stored_orders,
)
from fastapi import FastAPI
from trading_flows import add_instrument

from support import TestDatabase
from tradeguard.config import Settings

USER_ID = "0190f3e2-7c1a-7000-8000-0000000000c1"
CRASH_ON = 3


@pytest.fixture
def installation(app: FastAPI, settings: Settings, clean_database: TestDatabase) -> Installation:
    """A funded trader and the instrument ACME, in a database the children share."""
    add_instrument(app, "ACME", "100.00")
    add_trader(app, USER_ID)
    return Installation(settings, clean_database, USER_ID)


# point, whether the crashed order is committed, whether verify reports a repairable witness
STEPS = [
    ("before_commit", False, False),
    ("before_witness", True, True),
    ("torn_witness", True, True),
    ("after_witness", True, False),
    ("before_answer", True, False),
    ("after_answer", True, False),
]


@pytest.mark.parametrize(("point", "committed", "repairable"), STEPS)
def test_crash_when_killed_at_a_step_then_nothing_acknowledged_lost_and_start_up_repairs(
    installation: Installation, point: str, *, committed: bool, repairable: bool
) -> None:
    crashed = installation.run_child(point, CRASH_ON, 5)
    assert crashed.killed, crashed.stderr
    acknowledged = [f"crash-{n}" for n in range(1, CRASH_ON + (point == "after_answer"))]
    assert crashed.acknowledged == acknowledged
    expected = [f"crash-{n}" for n in range(1, CRASH_ON + committed)]
    assert stored_orders(installation.database.engine) == expected

    after_crash = installation.verify()
    assert after_crash.ok != repairable, after_crash.line()
    assert after_crash.repairable == repairable, after_crash.line()

    restarted = installation.run_child("none", 0, 1)
    assert restarted.returncode == 0, restarted.stderr
    assert installation.verify().ok, installation.verify().line()
    assert repairs(installation.database.engine) == int(repairable)
    assert set(expected) <= set(stored_orders(installation.database.engine))


def test_crash_when_killed_at_a_random_moment_under_load_then_acknowledged_orders_survive(
    installation: Installation,
) -> None:
    child = installation.start_child("none", 0, 10_000)
    try:
        answered = read_acknowledgements(child, 5)
        time.sleep(random.uniform(0, 0.2))  # noqa: S311 - a random moment, not a secret
    finally:
        child.kill()
        rest, _ = child.communicate(timeout=30)
    acknowledged = answered + acknowledgements(rest)
    assert set(acknowledged) <= set(stored_orders(installation.database.engine))
    assert installation.verify().ok or installation.verify().repairable
    restarted = installation.run_child("none", 0, 0)
    assert restarted.returncode == 0, restarted.stderr
    assert installation.verify().ok, installation.verify().line()
