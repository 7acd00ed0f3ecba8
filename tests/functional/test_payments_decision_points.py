"""Failing collaborators: a failing decision point denies; an absent desk credits nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from functional.identity_flows import assert_refused
from functional.payment_flows import (
    customer,
    keyed,
    requested_withdrawal,
    verified_link,
    withdrawal_codes,
)
from functional.rate_limit_flows import audit_events
from support import registry_of
from tradeguard.config import Settings
from tradeguard.core.clock import NS_PER_SECOND, FixedClock
from tradeguard.fraud.guard import FraudGuard
from tradeguard.identity.models import User
from tradeguard.ledger.verify import verify
from tradeguard.notify.notifier import MemorySender
from tradeguard.payments.reconcile import PAYMENT_CHECKS
from tradeguard.payments.service import Payments
from tradeguard.trading.orders.problems import unavailable

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    """The fraud decision point is switched on."""
    return settings_for(payments_fraud_decision=True)


def test_withdrawal_when_the_fraud_point_is_on_but_failing_then_rejected_and_cash_back(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    withdrawal = requested_withdrawal(client, clock, ann, link_id, "100.00")

    def failing(*_: object) -> None:
        raise RuntimeError("the fraud model could not be read")

    monkeypatch.setattr(registry_of(app).find(FraudGuard), "check_alone", failing)
    done = client.post(
        f"{withdrawal}/confirm", json=withdrawal_codes(mailbox, ann), headers=keyed(ann)
    )
    assert_refused(done, 503, "WITHDRAWAL_DECISION_UNAVAILABLE")
    listed = client.get("/v1/payments/withdrawals", headers=ann.headers).json()
    assert [item["status"] for item in listed] == ["rejected"]
    assert client.get("/v1/account", headers=ann.headers).json()["settled_cash"] == "1000.00"
    with registry_of(app).services.sessions() as db:
        assert verify(db, PAYMENT_CHECKS).differences == []


def test_deposit_when_the_desk_does_not_answer_then_503_failed_and_a_retry_credits_once(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    desk = registry_of(app).find(Payments).kit.desk

    def unreachable(*_: object) -> None:
        raise unavailable("the trading desk is not reachable; retry the request")

    monkeypatch.setattr(desk, "post_cash", unreachable)
    key = keyed(ann)
    body = {"bank_link_id": link_id, "amount": "300.00"}
    assert_refused(
        client.post("/v1/payments/deposits", json=body, headers=key), 503, "TRADING_UNAVAILABLE"
    )
    assert [
        d["status"] for d in client.get("/v1/payments/deposits", headers=ann.headers).json()
    ] == ["failed"]
    monkeypatch.undo()
    again = client.post("/v1/payments/deposits", json=body, headers=key)
    assert (again.status_code, again.json()["status"]) == (201, "pending"), again.text
    assert client.get("/v1/account", headers=ann.headers).json()["settled_cash"] == "1300.00"
    with registry_of(app).services.sessions() as db:
        assert verify(db, PAYMENT_CHECKS).differences == []


def test_withdrawal_when_the_fraud_guard_blocks_then_denied_with_why_and_cash_back(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    withdrawal = requested_withdrawal(client, clock, ann, link_id, "100.00")
    registry = registry_of(app)
    with registry.services.sessions() as db:
        user_id = db.scalars(select(User.id).where(User.username == ann.username)).one()
    registry.find(FraudGuard).lock(user_id, 3600 * NS_PER_SECOND)  # as after a blocked sign-in

    done = client.post(
        f"{withdrawal}/confirm", json=withdrawal_codes(mailbox, ann), headers=keyed(ann)
    )

    assert_refused(done, 422, "WITHDRAWAL_DECISION_DENIED")
    listed = client.get("/v1/payments/withdrawals", headers=ann.headers).json()
    assert [item["status"] for item in listed] == ["rejected"]
    assert client.get("/v1/account", headers=ann.headers).json()["settled_cash"] == "1000.00"
    with registry.services.sessions() as db:
        assert verify(db, PAYMENT_CHECKS).differences == []
    decided = [
        event["data"]
        for event in audit_events(app, "fraud.decision")
        if event["subject"] == user_id
    ]
    assert {"action": "withdrawal", "outcome": "block"}.items() <= decided[-1].items()
    assert "locked" in decided[-1]["rules"]
