"""A desk batch whose events make an audit checkpoint due signs it in the same commit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from trading_flows import add_instrument, funded_trader, place, verified_trail

from support import TestDatabase, listening
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    """A checkpoint after every event: each batch of the desk makes one due."""
    return settings_for(audit_checkpoint_events=1)


def test_a_batch_that_makes_a_checkpoint_due_signs_it_before_its_commit(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    clean_database: TestDatabase,
) -> None:
    add_instrument(app, "ACME", "100.00")
    alice = funded_trader(client, mailbox, clock, app, "alice", kind=AccountKind.MARGIN)
    statements: list[str] = []

    def note(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread().name == "desk-sequencer":  # the batch's statements
            statements.append(statement.split("(", maxsplit=1)[0].strip())

    with listening(clean_database.engine, "before_cursor_execute", note):
        placed = place(client, alice, quantity=10, limit_price="99.00")
    assert placed.status_code == 201, placed.text
    with clean_database.engine.connect() as connection:
        order_seq = connection.exec_driver_sql(
            "SELECT max(seq) FROM audit_events WHERE event_type = 'order.placed'"
        ).scalar_one()
        sizes = connection.exec_driver_sql("SELECT tree_size FROM audit_checkpoints")
        signed = {size for (size,) in sizes}
    assert order_seq in signed  # the batch's own checkpoint, at its last event
    assert "INSERT INTO audit_checkpoints" in statements
    assert verified_trail(app).ok
