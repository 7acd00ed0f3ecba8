"""Money movement through the API: link, verify, deposit, withdraw, settle; the ledger agrees."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functional.identity_flows import assert_refused, audit_event_types, step_up_with_totp
from functional.payment_flows import (
    LINKS,
    add_link,
    after_cooling,
    customer,
    keyed,
    micro_amounts,
    requested_withdrawal,
    verified_link,
    withdrawal_codes,
)
from support import registry_of
from tradeguard.access.caller import Caller
from tradeguard.core.clock import FixedClock
from tradeguard.ledger.verify import verify
from tradeguard.notify.notifier import MemorySender
from tradeguard.payments.reconcile import PAYMENT_CHECKS
from tradeguard.payments.service import Payments
from tradeguard.trading.orders.problems import unavailable

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _ledger_differences(app: FastAPI) -> list[str]:
    with registry_of(app).services.sessions() as db:
        return verify(db, PAYMENT_CHECKS).differences


def _cash(client: TestClient, person: object) -> str:
    account = client.get("/v1/account", headers=person.headers).json()  # type: ignore[attr-defined]
    return str(account["settled_cash"])


def test_link_and_ach_deposit_then_settlement_keep_the_ledger_whole(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    added = add_link(client, ann)
    assert (added.status_code, added.json()["status"], added.json()["last4"]) == (
        201,
        "pending",
        "0123",
    )
    assert mailbox.last_email(to=ann.email, kind="payments.bank_link.added")
    link_id = added.json()["id"]
    wrong = client.post(
        f"{LINKS}/{link_id}/verify", json={"amounts": ["0.00", "0.00"]}, headers=ann.headers
    )
    assert_refused(wrong, 422, "PAYMENT_AMOUNT_INVALID")
    wrong = client.post(
        f"{LINKS}/{link_id}/verify", json={"amounts": ["1.00", "1.00"]}, headers=ann.headers
    )
    assert_refused(wrong, 422, "PAYMENT_MICRO_DEPOSITS_WRONG")
    right = client.post(
        f"{LINKS}/{link_id}/verify",
        json={"amounts": micro_amounts(app, link_id)},
        headers=ann.headers,
    )
    assert right.json()["status"] == "verified", right.text

    key = keyed(ann)
    body = {"bank_link_id": link_id, "amount": "500.00"}
    deposit = client.post("/v1/payments/deposits", json=body, headers=key)
    assert (deposit.status_code, deposit.json()["status"]) == (201, "pending"), deposit.text
    again = client.post("/v1/payments/deposits", json=body, headers=key)
    assert again.json()["id"] == deposit.json()["id"]
    other = client.post("/v1/payments/deposits", json={**body, "amount": "501.00"}, headers=key)
    assert_refused(other, 422, "PAYMENT_IDEMPOTENCY_KEY_REUSED")
    assert _cash(client, ann) == "1500.00"  # buying power at once
    withdrawable = client.get("/v1/payments/withdrawable", headers=ann.headers).json()
    assert withdrawable == {"withdrawable": "1000.00"}  # not the unsettled deposit

    payments = registry_of(app).find(Payments)
    clock.advance(seconds=3 * 24 * 3600)  # Thursday: two business days on
    assert payments.settle_due() == 0  # not at the bank yet
    payments.pull_files.write(Caller.automatic("operations"))  # sent Thursday
    assert payments.settle_due() == 0
    clock.advance(seconds=4 * 24 * 3600)  # Monday: two business days after the file
    assert payments.settle_due() == 1
    types = audit_event_types(registry_of(app).services.engine)
    assert types.count("payments.deposit.settled") == 1
    assert _ledger_differences(app) == []


def test_withdrawal_passes_cooling_step_up_limits_and_both_codes(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    request = {"bank_link_id": link_id, "amount": "200.00"}
    cooling = client.post("/v1/payments/withdrawals", json=request, headers=keyed(ann))
    assert_refused(cooling, 422, "WITHDRAWAL_COOLING_PERIOD")
    after_cooling(client, ann, clock)
    clock.advance(seconds=301)  # the sign-in's verification no longer counts as recent
    stale = client.post("/v1/payments/withdrawals", json=request, headers=keyed(ann))
    assert_refused(stale, 403, "WITHDRAWAL_STEP_UP_REQUIRED")
    step_up_with_totp(client, ann, clock)
    bad = client.post(
        "/v1/payments/withdrawals", json={**request, "amount": "10.001"}, headers=keyed(ann)
    )
    assert_refused(bad, 422, "PAYMENT_AMOUNT_INVALID")
    over = client.post(
        "/v1/payments/withdrawals", json={**request, "amount": "50000.01"}, headers=keyed(ann)
    )
    assert_refused(over, 422, "WITHDRAWAL_LIMIT_DAILY")
    asked = client.post("/v1/payments/withdrawals", json=request, headers=keyed(ann))
    assert (asked.status_code, asked.json()["status"]) == (201, "requested"), asked.text
    withdrawal = f"/v1/payments/withdrawals/{asked.json()['id']}"
    codes = withdrawal_codes(mailbox, ann)
    half = client.post(
        f"{withdrawal}/confirm", json={**codes, "sms_code": "000000"}, headers=keyed(ann)
    )
    assert_refused(half, 422, "WITHDRAWAL_CODES_WRONG")
    clock.advance(seconds=60)  # the code resend interval
    assert client.post(f"{withdrawal}/codes", headers=ann.headers).status_code == 200
    codes = withdrawal_codes(mailbox, ann)
    done = client.post(f"{withdrawal}/confirm", json=codes, headers=keyed(ann))
    assert (done.status_code, done.json()["status"]) == (200, "approved"), done.text

    assert _cash(client, ann) == "800.00"
    assert _ledger_differences(app) == []


def test_cancel_when_the_cash_cannot_go_back_now_then_ended_and_given_back_by_the_job(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    withdrawal = requested_withdrawal(client, clock, ann, verified_link(client, app, ann), "100.00")
    done = client.post(
        f"{withdrawal}/confirm", json=withdrawal_codes(mailbox, ann), headers=keyed(ann)
    )
    assert done.json()["status"] == "approved", done.text
    payments = registry_of(app).find(Payments)

    def unreachable(*_: object) -> None:
        raise unavailable("the trading desk is not reachable; retry the request")

    monkeypatch.setattr(payments.kit.desk, "post_cash", unreachable)
    cancelled = client.post(f"{withdrawal}/cancel", headers=keyed(ann))
    assert_refused(cancelled, 503, "TRADING_UNAVAILABLE")
    monkeypatch.undo()
    listed = client.get("/v1/payments/withdrawals", headers=ann.headers).json()
    assert [item["status"] for item in listed] == ["cancelled"]
    assert _cash(client, ann) == "900.00"  # ended: nothing more can send it, the cash is owed
    again = client.post(f"{withdrawal}/cancel", headers=keyed(ann))
    assert_refused(again, 409, "PAYMENT_STATE_CONFLICT")

    assert payments.settle_due() == 1
    assert _cash(client, ann) == "1000.00"
    assert payments.settle_due() == 0  # given back once
    assert _ledger_differences(app) == []
