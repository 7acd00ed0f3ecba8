"""The cash journal follows the desk: openings, executions and settlements, and verify proves it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import sign_in_with_totp
from sqlalchemy import select, update
from trading_flows import add_instrument, desk_of, funded_trader, place

from support import registry_of
from tradeguard.core.clock import FixedClock
from tradeguard.db.session import transaction
from tradeguard.ledger.models import LedgerEntryRow, LedgerLineRow
from tradeguard.ledger.verify import verify
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind
from tradeguard.trading.models import TradingAccount

BEFORE_CLOSE = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # a Monday, 15:00 in New York


@pytest.fixture(name="traders")
def traders_fixture(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> tuple[Any, Any]:
    clock.set(BEFORE_CLOSE)
    add_instrument(app, "ACME", "100.00")
    alice = funded_trader(client, mailbox, clock, app, "alice")
    bob = funded_trader(client, mailbox, clock, app, "bob", kind=AccountKind.MARGIN)
    return alice, bob


def _kinds(app: FastAPI) -> list[str]:
    with registry_of(app).services.sessions() as db:
        return list(db.scalars(select(LedgerEntryRow.kind).order_by(LedgerEntryRow.id)))


def _verified(app: FastAPI) -> list[str]:
    with registry_of(app).services.sessions() as db:
        return verify(db).differences


def test_trades_and_settlement_are_journaled_and_verify_agrees(
    client: TestClient, traders: tuple[Any, Any], clock: FixedClock, app: FastAPI
) -> None:
    alice, bob = traders
    assert _kinds(app) == ["opening", "opening"]
    place(client, bob, side="sell_short", quantity=10, limit_price="100.00")
    assert place(client, alice, quantity=10, limit_price="100.00").json()["status"] == "filled"
    place(client, bob, quantity=10, limit_price="100.00")
    add_instrument(app, "ACME", "100.00")
    assert place(client, alice, side="sell", quantity=10).json()["status"] == "filled"
    assert _kinds(app).count("trade") == 4  # each side of two trades
    assert _verified(app) == []
    clock.advance(seconds=24 * 3600)  # Tuesday: alice's proceeds settle
    desk_of(app).housekeeping()
    sign_in_with_totp(client, alice, clock)
    assert _kinds(app).count("settlement") == 1
    assert _verified(app) == []


@pytest.mark.usefixtures("traders")
def test_verify_names_a_balance_changed_outside_the_journal(app: FastAPI) -> None:
    services = registry_of(app).services
    with transaction(services.sessions) as db:
        db.execute(
            update(TradingAccount).values(settled_cash_cents=TradingAccount.settled_cash_cents + 1)
        )
    differences = _verified(app)
    assert len(differences) == 2
    assert "settled cash: stored 100000.01, journal 100000.00" in differences[0]


@pytest.mark.usefixtures("traders")
def test_verify_names_an_entry_that_does_not_balance(app: FastAPI) -> None:
    services = registry_of(app).services
    with transaction(services.sessions) as db:
        line = db.scalars(select(LedgerLineRow).limit(1)).one()
        line.amount_cents += 5
        entry_id = line.entry_id
    differences = _verified(app)
    assert any(f"entry {entry_id} does not balance" in text for text in differences)
