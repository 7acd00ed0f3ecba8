"""The verification workflow through HTTP: checks, the review queue, decisions, the account."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from functional.identity_flows import (
    Person,
    audit_event_types,
    signed_up_with_totp,
)
from functional.kyc_flows import (
    APPLICATION,
    QUEUE,
    decide,
    load_sample_lists,
    reviewer_named,
    save,
    submit,
    submitted,
)
from support import TestDatabase
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
    """Every application goes to a reviewer: these tests are about the review."""
    return settings_for(kyc_auto_approve=False)


@pytest.fixture(autouse=True)
def lists(app: FastAPI) -> None:
    load_sample_lists(app)


@pytest.fixture
def ann(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    return signed_up_with_totp(client, mailbox, clock, Person("ann", "ann@example.com"))


@pytest.fixture
def reviewer(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database: TestDatabase
) -> Person:
    return reviewer_named(client, mailbox, clock, clean_database.engine, "rita")


@pytest.fixture
def checker(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database: TestDatabase
) -> Person:
    return reviewer_named(client, mailbox, clock, clean_database.engine, "carl")


def account_rows(database: TestDatabase) -> list[tuple[str, str]]:
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT user_id, kind FROM trading_accounts"))
        return [(row[0], row[1]) for row in rows]


def test_a_submission_when_automatic_approval_is_off_then_it_waits_in_the_queue(
    client: TestClient, ann: Person, reviewer: Person, clean_database: TestDatabase
) -> None:
    application = submitted(client, ann)
    assert application["status"] == "pending_review"

    queue = client.get(QUEUE, headers=reviewer.headers)
    assert queue.status_code == 200, queue.text
    [item] = queue.json()
    assert item["applicant"] == "Ann Marie Lee"
    assert item["failed_checks"] == []
    assert item["risk_level"] == "low"
    events = audit_event_types(clean_database.engine)
    assert {
        "kyc.application.submitted",
        "kyc.application.checked",
        "kyc.application.queued",
    } <= set(events)


def test_a_reviewer_when_approving_then_the_account_opens_of_the_chosen_kind(
    client: TestClient,
    ann: Person,
    reviewer: Person,
    clean_database: TestDatabase,
    mailbox: MemorySender,
) -> None:
    application = submitted(client, ann)
    detail = client.get(f"{QUEUE}/{application['id']}", headers=reviewer.headers).json()
    assert detail["tax_id"] == "536-90-4399"
    assert [doc["kind"] for doc in detail["documents"]] == ["passport", "proof_of_address"]
    assert detail["documents"][0]["mrz"]["check_digits"] == "valid"
    assert {check["check"] for check in detail["checks"] if check["passed"]} >= {"age", "mrz"}

    approved = decide(client, reviewer, application["id"], "approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["account_class"] == "client"
    assert account_rows(clean_database) == [(detail["user_id"], "cash")]
    mine = client.get(APPLICATION, headers=ann.headers).json()
    assert mine["account_id"] == approved.json()["account_id"]
    assert client.get("/v1/account", headers=ann.headers).status_code == 200
    assert mailbox.last_email(to="ann@example.com", kind="kyc.approved")


def test_an_associated_person_when_approved_then_gets_an_employee_account(
    client: TestClient, ann: Person, reviewer: Person
) -> None:
    affiliations = {
        "broker_dealer": True,
        "exchange_or_finra": False,
        "public_company_insider": False,
        "politically_exposed": False,
    }
    application = submitted(client, ann, affiliations=affiliations)
    approved = decide(client, reviewer, application["id"], "approve")
    assert approved.json()["account_class"] == "employee"


def test_a_rejection_when_made_then_no_account_and_the_reason_is_kept(
    client: TestClient, ann: Person, reviewer: Person, clean_database: TestDatabase
) -> None:
    application = submitted(client, ann)
    rejected = decide(
        client, reviewer, application["id"], "reject", reason_code="KYC_DOCUMENT_FRAUD"
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["decision_reason"] == "KYC_DOCUMENT_FRAUD"
    assert rejected.json()["decided_by"] == rejected.json()["decided_by"]
    assert account_rows(clean_database) == []
    again = save(client, ann, phone="+16175550199")
    assert again.status_code == 409
    assert again.json()["reason_code"] == "KYC_APPLICATION_LOCKED"


def test_a_request_for_information_when_made_then_the_application_reopens_and_loops_back(
    client: TestClient, ann: Person, reviewer: Person, mailbox: MemorySender
) -> None:
    application = submitted(client, ann)
    asked = decide(
        client, reviewer, application["id"], "request-information", note="Upload a utility bill"
    )
    assert asked.status_code == 200, asked.text
    mine = client.get(APPLICATION, headers=ann.headers).json()
    assert mine["status"] == "info_requested"
    assert mine["information_requested"] == "Upload a utility bill"
    email = mailbox.last_email(to="ann@example.com", kind="kyc.information_requested")
    assert "utility" not in email.text

    assert save(client, ann, phone="+16175550199").status_code == 200
    resubmitted = submit(client, ann)
    assert resubmitted.json()["status"] == "pending_review"
    assert decide(client, reviewer, application["id"], "approve").status_code == 200


def test_a_decision_when_the_application_changed_since_it_was_read_then_409(
    client: TestClient, ann: Person, reviewer: Person
) -> None:
    application = submitted(client, ann)
    stale = decide(
        client, reviewer, application["id"], "approve", version=application["version"] - 1
    )
    assert stale.status_code == 409
    assert stale.json()["reason_code"] == "KYC_VERSION_CHANGED"


def test_a_high_risk_application_when_approved_once_then_needs_a_second_reviewer(
    client: TestClient, ann: Person, reviewer: Person, checker: Person, clean_database: TestDatabase
) -> None:
    affiliations = {
        "broker_dealer": False,
        "exchange_or_finra": False,
        "public_company_insider": False,
        "politically_exposed": True,
    }
    application = submitted(client, ann, affiliations=affiliations, citizenship="IRN")
    detail = client.get(f"{QUEUE}/{application['id']}", headers=reviewer.headers).json()
    assert detail["risk_level"] == "high"
    assert {factor["factor"] for factor in detail["risk_factors"]} == {
        "high_risk_citizenship",
        "politically_exposed",
    }

    first = decide(client, reviewer, application["id"], "approve")
    assert first.json()["status"] == "pending_second_review"
    same = decide(client, reviewer, application["id"], "approve")
    assert same.status_code == 403
    assert same.json()["reason_code"] == "KYC_SECOND_REVIEWER_REQUIRED"
    assert account_rows(clean_database) == []
    second = decide(client, checker, application["id"], "approve")
    assert second.json()["status"] == "approved", second.text
    assert len(account_rows(clean_database)) == 1
    assert "kyc.application.first_approval" in audit_event_types(clean_database.engine)


def test_the_same_tax_id_when_on_two_applications_then_the_second_fails_its_check(
    client: TestClient, ann: Person, reviewer: Person, mailbox: MemorySender, clock: FixedClock
) -> None:
    submitted(client, ann)
    bob = signed_up_with_totp(client, mailbox, clock, Person("bob", "bob@example.com"))
    second = submitted(client, bob, legal_name={"given": "Ann", "middle": "Marie", "family": "Lee"})
    assert second["status"] == "pending_review"
    queue = {item["id"]: item for item in client.get(QUEUE, headers=reviewer.headers).json()}
    assert "duplicate_tax_id" in queue[second["id"]]["failed_checks"]
