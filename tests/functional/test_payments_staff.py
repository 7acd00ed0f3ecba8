"""Staff on money movement: review with two reviewers, ACH returns, wires and branch cash."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from functional.identity_flows import Person, assert_refused, audit_event_types, staff_signed_in
from functional.payment_flows import (
    ACCOUNT_NUMBER,
    ROUTING,
    customer,
    keyed,
    requested_withdrawal,
    verified_link,
    withdrawal_codes,
)
from functional.rate_limit_flows import audit_events
from support import registry_of
from tradeguard.access.caller import Caller
from tradeguard.cases.models import CaseRow
from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import ProblemError
from tradeguard.core.principal import Principal
from tradeguard.db.session import transaction
from tradeguard.identity.origin import Origin
from tradeguard.ledger.verify import verify
from tradeguard.notify.notifier import MemorySender
from tradeguard.payments.models import BankLinkRow, WithdrawalRow
from tradeguard.payments.reconcile import PAYMENT_CHECKS
from tradeguard.payments.service import Payments

MONDAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
APPROVE = {"decision": "approve", "reason": "source of funds on file"}


def _staff(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI, name: str
) -> Person:
    engine = registry_of(app).services.engine
    return staff_signed_in(
        client, mailbox, clock, engine, role="COMPLIANCE", level="operator", username=name
    )


def _differences(app: FastAPI) -> list[str]:
    with registry_of(app).services.sessions() as db:
        return verify(db, PAYMENT_CHECKS).differences


def _account(client: TestClient, person: Person) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/v1/account", headers=person.headers).json()
    return body


def test_large_withdrawal_needs_two_different_reviewers_and_a_trader_cannot_review(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann", deposit="40000.00")
    link_id = verified_link(client, app, ann)
    withdrawal = requested_withdrawal(client, clock, ann, link_id, "30000.00")
    done = client.post(
        f"{withdrawal}/confirm", json=withdrawal_codes(mailbox, ann), headers=keyed(ann)
    )
    assert (done.json()["status"], done.json()["reviews_needed"]) == ("in_review", 2), done.text
    withdrawal_id = done.json()["id"]
    assert_refused(client.get("/v1/payments/review", headers=ann.headers), 403, "ACCESS_DENIED")
    _assert_no_self_review(app, withdrawal_id)
    first = _staff(client, mailbox, clock, app, "rita")
    queue = client.get("/v1/payments/review", headers=first.headers).json()
    assert [item["id"] for item in queue] == [withdrawal_id]
    review = f"/v1/payments/review/{withdrawal_id}"
    blank = client.post(review, json={**APPROVE, "reason": " \t "}, headers=first.headers)
    assert_refused(blank, 422, "VALIDATION_FAILED")
    once = client.post(review, json=APPROVE, headers=first.headers)
    assert once.json()["status"] == "in_review", once.text
    twice = client.post(review, json=APPROVE, headers=first.headers)
    assert_refused(twice, 409, "WITHDRAWAL_ALREADY_REVIEWED")
    second = _staff(client, mailbox, clock, app, "sam")
    approved = client.post(review, json=APPROVE, headers=second.headers)
    assert approved.json()["status"] == "approved", approved.text
    reviews = audit_events(app, "payments.withdrawal.reviewed")
    assert [event["data"]["reason"] for event in reviews] == [APPROVE["reason"]] * 2
    sent = client.post(
        "/v1/payments/operations/withdrawals/ach-file",
        json={"withdrawal_ids": [withdrawal_id]},
        headers=second.headers,
    )
    assert sent.status_code == 200, sent.text
    records = sent.text.splitlines()
    assert [line[0] for line in records[:5]] == ["1", "5", "6", "8", "9"]
    assert records[2][29:39] == "0003000000"  # the credit of 30,000.00
    settled = client.post(
        "/v1/payments/operations/withdrawals/settled",
        json={"withdrawal_ids": [withdrawal_id]},
        headers=second.headers,
    )
    assert settled.json()[0]["status"] == "settled", settled.text
    assert "payments.withdrawal.settled" in audit_event_types(registry_of(app).services.engine)
    assert _differences(app) == []
    back = client.post(
        "/v1/payments/operations/withdrawals/returned",
        json={"withdrawal_id": withdrawal_id, "return_code": "R03"},
        headers=second.headers,
    )
    assert back.json()["status"] == "returned", back.text
    assert _differences(app) == []


def _assert_no_self_review(app: FastAPI, withdrawal_id: str) -> None:
    """Even holding payments:review, the customer cannot review their own withdrawal."""
    payments = registry_of(app).find(Payments)
    with registry_of(app).services.sessions() as db:
        owner = db.get_one(WithdrawalRow, withdrawal_id).user_id
    principal = Principal(owner, "s", "COMPLIANCE", frozenset(), ("pwd",), False, None)  # noqa: FBT003 - Principal's field order
    caller = Caller(principal, Origin(None, "", "", None))
    with pytest.raises(ProblemError) as refused:
        payments.withdrawals.review(caller, withdrawal_id, approve=True, reason="my own")
    assert refused.value.reason_code == "WITHDRAWAL_SELF_REVIEW"


def test_ach_return_reverses_the_credit_restricts_the_account_and_opens_a_case(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    deposit = client.post(
        "/v1/payments/deposits",
        json={"bank_link_id": link_id, "amount": "700.00"},
        headers=keyed(ann),
    ).json()
    ops = _staff(client, mailbox, clock, app, "otto")
    returned = client.post(
        "/v1/payments/operations/ach-returns",
        json={"deposit_id": deposit["id"], "return_code": "R01"},
        headers=ops.headers,
    )
    assert returned.json()["status"] == "returned", returned.text
    assert (_account(client, ann)["settled_cash"], _account(client, ann)["status"]) == (
        "1000.00",
        "restricted",
    )
    with registry_of(app).services.sessions() as db:
        assert db.scalar(select(func.count()).select_from(CaseRow)) == 1
    assert _differences(app) == []


def test_wire_and_branch_cash_are_credited_settled_for_the_aml_watcher(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    account_id = _account(client, ann)["id"]
    ops = _staff(client, mailbox, clock, app, "otto")
    for method, amount in (("wire", "25000.00"), ("cash", "12000.00")):
        body = {
            "account_id": account_id,
            "method": method,
            "amount": amount,
            "reference": f"{method}-1",
        }
        done = client.post("/v1/payments/operations/arrivals", json=body, headers=keyed(ops))
        assert (done.status_code, done.json()["status"]) == (201, "settled"), done.text
    bad = {"account_id": account_id, "method": "cash", "amount": "-5.00", "reference": "x"}
    refused = client.post("/v1/payments/operations/arrivals", json=bad, headers=keyed(ops))
    assert_refused(refused, 422, "PAYMENT_AMOUNT_INVALID")
    assert _account(client, ann)["settled_cash"] == "38000.00"
    types = audit_event_types(registry_of(app).services.engine)
    assert types.count("payments.deposit.settled") == 2
    assert _differences(app) == []


def test_a_link_held_for_its_holder_name_is_approved_by_staff_never_by_its_owner(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    registry = registry_of(app)
    with transaction(registry.services.sessions) as db:
        link = db.get_one(BankLinkRow, link_id)
        link.status, owner = "review", link.user_id  # as when the holder name differed
    payments = registry.find(Payments)

    def approve_as(user_id: str) -> BankLinkRow:
        principal = Principal(user_id, "s", "COMPLIANCE", frozenset(), ("pwd",), False, None)  # noqa: FBT003 - Principal's field order
        with transaction(registry.services.sessions) as db:
            caller = Caller(principal, Origin(None, "", "", None))
            return payments.links.review_name(
                db, caller, link_id, approve=True, reason="statement shows the legal name"
            )

    with pytest.raises(ProblemError) as refused:
        approve_as(owner)
    assert refused.value.reason_code == "PAYMENT_LINK_SELF_APPROVAL"
    assert approve_as("another-reviewer").status == "verified"


def test_ach_pulls_go_to_the_bank_once_as_debits_of_a_nacha_file(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    pulled = client.post(
        "/v1/payments/deposits",
        json={"bank_link_id": link_id, "amount": "700.00"},
        headers=keyed(ann),
    )
    assert pulled.status_code == 201, pulled.text
    path = "/v1/payments/operations/deposits/ach-file"
    assert_refused(client.post(path, headers=ann.headers), 403, "ACCESS_DENIED")
    ops = _staff(client, mailbox, clock, app, "otto")
    sent = client.post(path, headers=ops.headers)
    assert sent.status_code == 200, sent.text
    records = sent.text.splitlines()
    assert [line[0] for line in records[:5]] == ["1", "5", "6", "8", "9"]
    assert records[1][1:4] == "225"  # a batch of debits only
    entry = records[2]
    assert (entry[1:3], entry[3:12], entry[12:29].strip()) == ("27", ROUTING, ACCOUNT_NUMBER)
    assert entry[29:39] == "0000070000"  # 700.00 from the customer's checking account
    assert entry[39:54].strip() == pulled.json()["id"][:15].upper()
    assert records[3][20:32] == "000000070000"  # the batch's total debit
    again = client.post(path, headers=ops.headers)
    assert_refused(again, 409, "PAYMENT_STATE_CONFLICT")  # each pull goes once
    assert (
        audit_event_types(registry_of(app).services.engine).count("payments.ach_file.created") == 1
    )
    assert _differences(app) == []


def test_a_link_held_for_its_holder_name_is_listed_for_staff_and_rejected_with_a_reason(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    clock.set(MONDAY)
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    with transaction(registry_of(app).services.sessions) as db:
        db.get_one(BankLinkRow, link_id).status = "review"  # as when the holder name differed
    held = "/v1/payments/review/bank-links"
    assert_refused(client.get(held, headers=ann.headers), 403, "ACCESS_DENIED")
    rita = _staff(client, mailbox, clock, app, "rita")
    listed = client.get(held, headers=rita.headers).json()
    assert [(item["id"], item["last4"]) for item in listed] == [(link_id, "0123")]
    assert "9876543210123" not in str(listed)
    unreasoned = [{}, *({"reason": text} for text in ("   ", "ok \x1b[2J", "a\u202eb", "x" * 201))]
    for body in unreasoned:  # none, blank, a terminal escape, a direction override, too long
        decision = {"decision": "approve", **body}
        refused = client.post(f"{held}/{link_id}", json=decision, headers=rita.headers)
        assert_refused(refused, 422, "VALIDATION_FAILED")
    assert [item["status"] for item in client.get(held, headers=rita.headers).json()] == ["review"]
    decision = {"decision": "reject", "reason": "holder is someone else"}
    rejected = client.post(f"{held}/{link_id}", json=decision, headers=rita.headers)
    assert rejected.json()["status"] == "rejected", rejected.text
    assert client.get(held, headers=rita.headers).json() == []
    assert mailbox.last_email(to=ann.email, kind="payments.bank_link.rejected")
    deposit = {"bank_link_id": link_id, "amount": "10.00"}
    refused = client.post("/v1/payments/deposits", json=deposit, headers=keyed(ann))
    assert_refused(refused, 409, "PAYMENT_BANK_LINK_NOT_VERIFIED")
    events = audit_events(app, "payments.bank_link.rejected")
    assert [(event["subject"], event["data"]) for event in events] == [
        (link_id, {"reason": "holder is someone else"})
    ]
