"""Simultaneous withdrawals on PostgreSQL never pass a limit nor take more than the balance."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functional.identity_flows import reason_of
from functional.payment_flows import after_cooling, customer, keyed, verified_link
from support import registry_of
from tradeguard.access.caller import Caller
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import ProblemError
from tradeguard.ledger.journal import EntryKind, FirmAccount, settled_cash, transfer
from tradeguard.ledger.movements import CashMovement
from tradeguard.ledger.verify import verify
from tradeguard.notify.notifier import MemorySender
from tradeguard.trading.desk_port import DeskPort

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
THREADS = 12


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    """Codes may be sent back to back: only the withdrawal limits decide here."""
    return settings_for(otp_resend_seconds=0, otp_sends_per_hour=100)


@pytest.fixture(autouse=True)
def postgres_only(app: FastAPI) -> None:
    if registry_of(app).services.engine.dialect.name != "postgresql":
        pytest.skip("row locks across connections are what this proves: PostgreSQL")


def test_simultaneous_requests_never_pass_the_daily_limit(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann", deposit="200000.00")
    link_id = verified_link(client, app, ann)
    after_cooling(client, ann, clock)
    body = {"bank_link_id": link_id, "amount": "10000.00"}

    def ask(_: int) -> tuple[int, str | None]:
        return reason_of(client.post("/v1/payments/withdrawals", json=body, headers=keyed(ann)))

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = Counter(status for status, _ in pool.map(ask, range(THREADS)))
    assert outcomes == {201: 5, 422: THREADS - 5}, outcomes


def test_simultaneous_debits_never_take_more_than_the_balance(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann", deposit="1000.00")
    account_id = client.get("/v1/account", headers=ann.headers).json()["id"]
    desk = registry_of(app).find(DeskPort)

    def debit(_: int) -> str:
        entry = transfer(
            str(uuid.uuid4()),
            EntryKind.WITHDRAWAL,
            settled_cash(account_id),
            FirmAccount.WITHDRAWALS_PAYABLE.value,
            15_000,
            account_id=account_id,
            reference=f"test:{uuid.uuid4()}",
        )
        try:
            desk.post_cash(Caller.automatic("test"), CashMovement(entry))
        except ProblemError as refusal:
            return refusal.reason_code
        return "taken"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = Counter(pool.map(debit, range(THREADS)))
    # 6 x 150.00 of 1,000.00
    assert outcomes == {"taken": 6, "WITHDRAWAL_INSUFFICIENT_FUNDS": THREADS - 6}, outcomes
    assert client.get("/v1/account", headers=ann.headers).json()["settled_cash"] == "100.00"
    with registry_of(app).services.sessions() as db:
        assert verify(db).differences == []  # every debit journaled, the balance agrees
