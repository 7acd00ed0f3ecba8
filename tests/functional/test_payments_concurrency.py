"""On PostgreSQL: simultaneous withdrawals never pass a limit nor take more than the balance,
and an ACH return racing the settle job takes the cash back from where it is, once."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from functional.identity_flows import Person, audit_event_types, reason_of
from functional.payment_flows import after_cooling, customer, keyed, verified_link
from support import registry_of
from tradeguard.access.caller import Caller
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import ProblemError
from tradeguard.ledger.journal import (
    EntryKind,
    FirmAccount,
    JournalEntry,
    settled_cash,
    transfer,
)
from tradeguard.ledger.models import LedgerLineRow
from tradeguard.ledger.movements import CashMovement
from tradeguard.ledger.verify import verify
from tradeguard.notify.notifier import MemorySender
from tradeguard.payments.models import DepositRow
from tradeguard.payments.reconcile import PAYMENT_CHECKS
from tradeguard.payments.service import Payments
from tradeguard.trading.desk_port import DeskPort

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
THREADS = 12
OPERATIONS = Caller.automatic("operations")


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


def _pending_pull(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> tuple[Person, str]:
    """Ann's ACH pull of 700.00, credited and sent to the bank, due to settle now."""
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    pulled = client.post(
        "/v1/payments/deposits",
        json={"bank_link_id": link_id, "amount": "700.00"},
        headers=keyed(ann),
    )
    assert pulled.json()["status"] == "pending", pulled.text
    registry_of(app).find(Payments).pull_files.write(OPERATIONS)
    clock.advance(seconds=3 * 24 * 3600)  # Thursday: two business days after the file
    return ann, str(pulled.json()["id"])


def _assert_returned_once(app: FastAPI, deposit_id: str) -> None:
    with registry_of(app).services.sessions() as db:
        assert db.get_one(DepositRow, deposit_id).status == "returned"
        assert verify(db, PAYMENT_CHECKS).differences == []
        balances = dict(
            db.execute(
                select(LedgerLineRow.ledger_account, func.sum(LedgerLineRow.amount_cents)).group_by(
                    LedgerLineRow.ledger_account
                )
            ).all()
        )
    assert balances.get(FirmAccount.ACH_RECEIVABLE.value, 0) == 0
    assert balances[settled_cash(_account_id(app))] == -100_000  # 1,000.00 again
    types = audit_event_types(registry_of(app).services.engine)
    assert types.count("payments.deposit.returned") == 1


def _account_id(app: FastAPI) -> str:
    with registry_of(app).services.sessions() as db:
        return str(db.scalars(select(DepositRow.account_id)).one())


def test_a_return_while_the_settle_job_runs_takes_the_cash_from_where_it_is(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The return claims the deposit, then the settle job runs before its reversal posts."""
    _, deposit_id = _pending_pull(client, mailbox, clock, app)
    payments = registry_of(app).find(Payments)
    post_cash = payments.kit.desk.post_cash
    settled: list[int] = []
    started: list[bool] = []

    def settle_first(caller: Caller, movement: CashMovement) -> object:
        if movement.entry.kind is EntryKind.DEPOSIT_RETURNED and not started:
            started.append(True)  # the job's own reversal goes straight through
            with ThreadPoolExecutor(1) as job:
                settled.append(job.submit(payments.settle_due).result(timeout=30))
        return post_cash(caller, movement)

    monkeypatch.setattr(payments.kit.desk, "post_cash", settle_first)
    returned = payments.deposits.ach_return(OPERATIONS, deposit_id, "R01")
    assert (returned.status, settled) == ("returned", [0])  # the job did not settle it
    _assert_returned_once(app, deposit_id)


def test_a_return_arriving_while_the_settle_job_holds_the_deposit_waits_for_it(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The settle job has the deposit locked when the return comes: the return waits, then
    reverses from the bank account, where the settlement put the money."""
    _, deposit_id = _pending_pull(client, mailbox, clock, app)
    payments = registry_of(app).find(Payments)
    deposits = payments.deposits
    settlement = deposits._settlement
    pool = ThreadPoolExecutor(1)
    returning: list[Future[DepositRow]] = []

    def return_meanwhile(row: DepositRow) -> JournalEntry:
        returning.append(pool.submit(deposits.ach_return, OPERATIONS, deposit_id, "R01"))
        time.sleep(1.0)  # the return reads, then waits on the row lock
        return settlement(row)

    monkeypatch.setattr(deposits, "_settlement", return_meanwhile)
    assert payments.settle_due() == 1
    assert returning[0].result(timeout=30).status == "returned"
    pool.shutdown()
    _assert_returned_once(app, deposit_id)
