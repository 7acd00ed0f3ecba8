"""Decision points: switched on, one that is missing denies and the cash comes back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functional.identity_flows import assert_refused
from functional.payment_flows import (
    customer,
    keyed,
    requested_withdrawal,
    verified_link,
    withdrawal_codes,
)
from support import registry_of
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.ledger.verify import verify
from tradeguard.notify.notifier import MemorySender
from tradeguard.payments.reconcile import PAYMENT_CHECKS

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    """The fraud decision point is switched on, and no fraud package answers it."""
    return settings_for(payments_fraud_decision=True)


def test_withdrawal_when_the_fraud_point_is_on_but_missing_then_rejected_and_cash_back(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    withdrawal = requested_withdrawal(client, clock, ann, link_id, "100.00")
    done = client.post(
        f"{withdrawal}/confirm", json=withdrawal_codes(mailbox, ann), headers=keyed(ann)
    )
    assert_refused(done, 503, "WITHDRAWAL_DECISION_UNAVAILABLE")
    listed = client.get("/v1/payments/withdrawals", headers=ann.headers).json()
    assert [item["status"] for item in listed] == ["rejected"]
    assert client.get("/v1/account", headers=ann.headers).json()["settled_cash"] == "1000.00"
    with registry_of(app).services.sessions() as db:
        assert verify(db, PAYMENT_CHECKS).differences == []
