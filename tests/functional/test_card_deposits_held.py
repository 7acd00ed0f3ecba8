"""Card deposits are held like ACH pulls, and a charged card is credited even when the desk
was not answering: buying power at once, withdrawable once settled, credited once.

The vault's side (tokenization, charges over mutual TLS) is tested against the running
vault in test_card_routes.py; here the vault answers charges from a stand-in, so the
main service's handling of a succeeded charge is what is tested.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from functional.identity_flows import Person, assert_refused, sign_in_with_totp
from functional.payment_flows import after_cooling, customer, keyed, verified_link
from support import registry_of
from tradeguard.core.clock import FixedClock
from tradeguard.ledger.models import LedgerEntryRow
from tradeguard.ledger.verify import verify
from tradeguard.notify.notifier import MemorySender
from tradeguard.payments.reconcile import PAYMENT_CHECKS
from tradeguard.payments.service import Payments
from tradeguard.trading.orders.problems import unavailable

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CARD_ID = "01a24d65-996a-7495-a0c7-ae9fc6fec1d0"
DAY = 24 * 3600


class ChargingVault:
    """The vault's answer to charges: succeeded, one charge per owner and idempotency key."""

    def __init__(self) -> None:
        self.charges: dict[tuple[str, str], dict[str, Any]] = {}

    def charge(self, owner: str, card_id: str, amount_cents: int, key: str) -> dict[str, Any]:
        """The charge of ``key`` (the same one when asked again)."""
        new = {"id": str(uuid.uuid4()), "outcome": "succeeded", "card_id": card_id}
        return self.charges.setdefault((owner, key), new | {"amount_cents": amount_cents})


@pytest.fixture
def vault(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> ChargingVault:
    charging = ChargingVault()
    monkeypatch.setattr(registry_of(app).card_vault.client, "charge", charging.charge)
    return charging


def _deposit(client: TestClient, who: Person, amount: str, key: str) -> Any:
    return client.post(
        f"/v1/cards/{CARD_ID}/deposits",
        json={"amount": amount},
        headers=who.headers | {"idempotency-key": key},
    )


def _cash(client: TestClient, who: Person) -> str:
    return str(client.get("/v1/account", headers=who.headers).json()["settled_cash"])


def _withdrawable(client: TestClient, who: Person) -> str:
    answer = client.get("/v1/payments/withdrawable", headers=who.headers)
    return str(answer.json()["withdrawable"])


def _differences(app: FastAPI) -> list[str]:
    with registry_of(app).services.sessions() as db:
        return verify(db, PAYMENT_CHECKS).differences


def _credits(app: FastAPI, deposit_id: str) -> int:
    reference = f"deposit:{deposit_id}:credit"
    with registry_of(app).services.sessions() as db:
        query = select(func.count()).where(LedgerEntryRow.reference == reference)
        return int(db.scalar(query) or 0)


@pytest.mark.usefixtures("vault")
def test_a_card_deposit_is_buying_power_at_once_but_withdrawable_only_once_settled(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    after_cooling(client, ann, clock)  # Tuesday
    done = _deposit(client, ann, "250.00", "card-key-0001")
    assert (done.status_code, done.json()["status"], done.json()["credited"]) == (
        200,
        "pending",
        True,
    ), done.text
    assert _cash(client, ann) == "1250.00"  # buying power at once
    assert _withdrawable(client, ann) == "1000.00"  # not the card's money yet
    body = {"bank_link_id": link_id, "amount": "1100.00"}
    taken = client.post("/v1/payments/withdrawals", json=body, headers=keyed(ann))
    assert_refused(taken, 422, "WITHDRAWAL_INSUFFICIENT_FUNDS")
    listed = client.get("/v1/payments/deposits", headers=ann.headers).json()
    assert [(item["method"], item["status"]) for item in listed] == [("card", "pending")]

    payments = registry_of(app).find(Payments)
    clock.advance(seconds=6 * DAY)  # next Monday: four business days on, of five
    assert payments.settle_due() == 0
    sign_in_with_totp(client, ann, clock)
    assert _withdrawable(client, ann) == "1000.00"
    clock.advance(seconds=DAY)  # Tuesday: five business days
    assert payments.settle_due() == 1
    sign_in_with_totp(client, ann, clock)
    assert _withdrawable(client, ann) == "1250.00"
    assert _differences(app) == []


@pytest.mark.usefixtures("vault")
def test_a_charged_card_whose_credit_failed_is_credited_by_the_periodic_job_once(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    payments = registry_of(app).find(Payments)

    def unreachable(*_: object) -> None:
        raise unavailable("the trading desk is not reachable; retry the request")

    with monkeypatch.context() as patched:
        patched.setattr(payments.kit.desk, "post_cash", unreachable)
        first = _deposit(client, ann, "250.00", "card-key-0002")
    assert (first.status_code, first.json()["status"], first.json()["credited"]) == (
        202,
        "new",
        False,
    ), first.text
    deposit_id = first.json()["deposit_id"]
    assert _cash(client, ann) == "1000.00"

    assert payments.settle_due() == 0  # credits it; settles nothing yet
    assert _cash(client, ann) == "1250.00"
    payments.settle_due()
    again = _deposit(client, ann, "250.00", "card-key-0002")  # the customer retries
    assert (again.status_code, again.json()["deposit_id"], again.json()["credited"]) == (
        200,
        deposit_id,
        True,
    ), again.text
    assert _cash(client, ann) == "1250.00"
    assert _credits(app, deposit_id) == 1
    assert _withdrawable(client, ann) == "1000.00"  # held like any card deposit
    assert _differences(app) == []


def test_a_credit_the_desk_made_but_whose_answer_was_lost_is_not_made_twice(  # noqa: PLR0913, PLR0917 - fixtures
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    vault: ChargingVault,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    payments = registry_of(app).find(Payments)
    desk = payments.kit.desk
    post_cash = desk.post_cash

    def lost(*args: Any) -> None:
        post_cash(*args)
        raise unavailable("the answer was lost")

    with monkeypatch.context() as patched:
        patched.setattr(desk, "post_cash", lost)
        first = _deposit(client, ann, "40.00", "card-key-0003")
    assert first.status_code == 202, first.text
    assert _cash(client, ann) == "1040.00"
    payments.settle_due()
    deposit_id = first.json()["deposit_id"]
    listed = client.get("/v1/payments/deposits", headers=ann.headers).json()
    assert [(item["id"], item["status"]) for item in listed] == [(deposit_id, "pending")]
    assert (_cash(client, ann), _credits(app, deposit_id)) == ("1040.00", 1)
    assert len(vault.charges) == 1
    assert _differences(app) == []
