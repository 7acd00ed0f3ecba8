"""Withdrawal refusals are audited (reason code and inputs, nothing personal), and the
withdrawal codes live ``payments_withdrawal_code_seconds``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from functional.identity_flows import Person, assert_refused, signed_up_with_totp
from functional.payment_flows import (
    ACCOUNT_NUMBER,
    PHONE,
    after_cooling,
    customer,
    keyed,
    requested_withdrawal,
    verified_link,
    withdrawal_codes,
)
from support import registry_of
from tradeguard.access.caller import Caller
from tradeguard.audit.search import AuditEvent
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountStatus

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
REFUSED = "payments.withdrawal.refused"


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    """Withdrawal codes live two minutes, other codes the usual ten."""
    return settings_for(payments_withdrawal_code_seconds=120, otp_ttl_seconds=600)


def _refusals(engine: Engine) -> list[AuditEvent]:
    with engine.connect() as connection:
        records = connection.scalars(
            text("SELECT record FROM audit_events WHERE event_type = :type ORDER BY seq"),
            {"type": REFUSED},
        )
        return [AuditEvent.from_record(bytes(record)) for record in records]


def test_each_refused_withdrawal_is_audited_with_its_reason_and_inputs(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    ask = {"bank_link_id": link_id, "amount": "200.00"}
    cooling = client.post("/v1/payments/withdrawals", json=ask, headers=keyed(ann))
    assert_refused(cooling, 422, "WITHDRAWAL_COOLING_PERIOD")
    after_cooling(client, ann, clock)
    over = client.post(
        "/v1/payments/withdrawals", json={**ask, "amount": "50000.01"}, headers=keyed(ann)
    )
    assert_refused(over, 422, "WITHDRAWAL_LIMIT_DAILY")
    short = client.post(
        "/v1/payments/withdrawals", json={**ask, "amount": "1000.01"}, headers=keyed(ann)
    )
    assert_refused(short, 422, "WITHDRAWAL_INSUFFICIENT_FUNDS")

    refusals = _refusals(registry_of(app).services.engine)
    assert [event.data["reason_code"] for event in refusals] == [
        "WITHDRAWAL_COOLING_PERIOD",
        "WITHDRAWAL_LIMIT_DAILY",
        "WITHDRAWAL_INSUFFICIENT_FUNDS",
    ]
    limit = refusals[1].data
    assert (limit["amount"], limit["limit"], limit["window"], limit["link"]) == (
        "50000.01",
        "50000.00",
        "24 hours",
        link_id,
    )
    assert (refusals[2].data["withdrawable"], refusals[2].data["amount"]) == ("1000.00", "1000.01")
    assert "ends_at_ns" in refusals[0].data
    written = repr([(event.subject, event.data) for event in refusals])
    for personal in (ACCOUNT_NUMBER, ACCOUNT_NUMBER[-4:], PHONE, ann.email, "Ann", "Lee"):
        assert personal not in written


def test_wrong_codes_at_confirmation_are_audited_as_a_refusal(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    withdrawal = requested_withdrawal(client, clock, ann, verified_link(client, app, ann), "50.00")
    codes = withdrawal_codes(mailbox, ann)
    wrong = client.post(
        f"{withdrawal}/confirm", json={**codes, "sms_code": "000000"}, headers=keyed(ann)
    )
    assert_refused(wrong, 422, "WITHDRAWAL_CODES_WRONG")
    (refusal,) = _refusals(registry_of(app).services.engine)
    assert refusal.subject == withdrawal.rsplit("/", 1)[1]
    assert (refusal.data["stage"], refusal.data["email"], refusal.data["sms"]) == (
        "confirm",
        "ACCEPTED",
        "WRONG",
    )


def test_withdrawal_codes_live_the_configured_seconds(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    late = requested_withdrawal(client, clock, ann, link_id, "50.00")
    stale = withdrawal_codes(mailbox, ann)
    clock.advance(seconds=121)  # past the withdrawal codes' 120 s, within other codes' 600 s
    expired = client.post(f"{late}/confirm", json=stale, headers=keyed(ann))
    assert_refused(expired, 422, "WITHDRAWAL_CODES_WRONG")
    assert expired.json()["email"] == "EXPIRED", expired.text

    in_time = requested_withdrawal(client, clock, ann, link_id, "60.00")
    clock.advance(seconds=110)
    done = client.post(
        f"{in_time}/confirm", json=withdrawal_codes(mailbox, ann), headers=keyed(ann)
    )
    assert (done.status_code, done.json()["status"]) == (200, "approved"), done.text


def test_a_withdrawal_without_a_brokerage_account_is_refused_and_audited(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    bob = signed_up_with_totp(client, mailbox, clock, Person("bob", "bob@example.com"))
    ask = {"bank_link_id": "01a24d65-996a-7495-a0c7-ae9fc6fec1d0", "amount": "5.00"}
    refused = client.post("/v1/payments/withdrawals", json=ask, headers=keyed(bob))
    assert_refused(refused, 403, "PAYMENT_NO_BROKERAGE_ACCOUNT")
    (refusal,) = _refusals(registry_of(app).services.engine)
    assert (refusal.data["reason_code"], refusal.data["amount"]) == (
        "PAYMENT_NO_BROKERAGE_ACCOUNT",
        "5.00",
    )


def _restrict(app: FastAPI, why: str) -> None:
    registry = registry_of(app)
    with registry.services.sessions() as db:
        account_id = db.scalars(text("SELECT id FROM trading_accounts")).one()
    registry.trading_controls.change_standing(
        Caller.automatic("operations"), account_id, why, status=AccountStatus.RESTRICTED
    )


def test_a_restricted_account_keeps_its_cash_at_request_and_at_confirmation(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    asked_before = requested_withdrawal(client, clock, ann, link_id, "50.00")
    _restrict(app, "ACH return R01")

    confirmed = client.post(
        f"{asked_before}/confirm", json=withdrawal_codes(mailbox, ann), headers=keyed(ann)
    )
    assert_refused(confirmed, 422, "WITHDRAWAL_ACCOUNT_NOT_ACTIVE")
    listed = client.get("/v1/payments/withdrawals", headers=ann.headers).json()
    assert [item["status"] for item in listed] == ["requested"]
    asked = client.post(
        "/v1/payments/withdrawals",
        json={"bank_link_id": link_id, "amount": "50.00"},
        headers=keyed(ann),
    )
    assert_refused(asked, 422, "WITHDRAWAL_ACCOUNT_NOT_ACTIVE")
    assert asked.json()["account_status"] == "restricted"
    account = client.get("/v1/account", headers=ann.headers).json()
    assert account["settled_cash"] == "1000.00"  # nothing left the account
    assert [event.data["reason_code"] for event in _refusals(registry_of(app).services.engine)] == [
        "WITHDRAWAL_ACCOUNT_NOT_ACTIVE",
        "WITHDRAWAL_ACCOUNT_NOT_ACTIVE",
    ]
