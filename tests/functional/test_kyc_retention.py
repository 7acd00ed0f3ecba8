"""Retention of onboarding records: recorded on the application, its documents and its
screening at each decision, and started when a customer's account closes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from functional.identity_flows import Person, audit_event_types, signed_up_with_totp
from functional.kyc_flows import QUEUE, decide, load_sample_lists, reviewer_named, submitted
from support import TestDatabase, registry_of
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.db.session import transaction
from tradeguard.kyc.retention import start_after_closing, years_after
from tradeguard.notify.notifier import MemorySender

MADURO = {
    "legal_name": {"given": "Nicolas", "family": "Maduro Moros"},
    "date_of_birth": "1962-11-23",
    "citizenship": "VEN",
}


@pytest.fixture
def settings(settings_for: Callable[..., Settings]) -> Settings:
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


def retention(database: TestDatabase) -> dict[str, Any]:
    """The one application's retention columns and its documents' ends."""
    with database.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT retention_years, retain_until_ns, retention_basis, "
                "screening_retain_until_ns, decided_at_ns FROM kyc_applications"
            )
        ).one()
        documents = connection.execute(
            text("SELECT retention_years, retain_until_ns FROM kyc_documents")
        ).all()
    names = ("years", "until", "basis", "screening_until", "decided")
    return dict(zip(names, row, strict=True)) | {"documents": {tuple(doc) for doc in documents}}


def test_an_approved_customer_when_the_account_closes_then_five_years_start(  # noqa: PLR0913, PLR0917 - fixtures
    app: FastAPI,
    client: TestClient,
    ann: Person,
    reviewer: Person,
    clean_database: TestDatabase,
    clock: FixedClock,
) -> None:
    application = submitted(client, ann)
    assert decide(client, reviewer, application["id"], "approve").status_code == 200
    kept = retention(clean_database)
    assert (kept["years"], kept["until"]) == (5, None)
    assert "1023.220" in kept["basis"]
    assert kept["documents"] == {(5, None)}
    assert kept["screening_until"] == years_after(kept["decided"], 10)

    services = registry_of(app).services
    with transaction(services.sessions) as db:
        assert start_after_closing(db, services.clock, services.audit) == 0  # still open
    with clean_database.engine.begin() as connection:
        connection.execute(text("UPDATE trading_accounts SET status = 'closed'"))
    with transaction(services.sessions) as db:
        assert start_after_closing(db, services.clock, services.audit) == 1
    closed = retention(clean_database)
    end = years_after(clock.now_ns(), 5)
    assert closed["until"] == end
    assert closed["documents"] == {(5, end)}
    assert "kyc.retention.started" in audit_event_types(clean_database.engine)
    with transaction(services.sessions) as db:
        assert start_after_closing(db, services.clock, services.audit) == 0  # once


def test_a_rejected_applicant_when_decided_then_five_years_ten_for_a_sanctions_match(
    client: TestClient, ann: Person, reviewer: Person, clean_database: TestDatabase
) -> None:
    application = submitted(client, ann, **MADURO)
    decide(client, reviewer, application["id"], "reject", reason_code="KYC_SANCTIONS_MATCH")
    kept = retention(clean_database)
    assert kept["until"] == years_after(kept["decided"], 10)
    assert "501.601" in kept["basis"]
    assert kept["documents"] == {(10, kept["until"])}
    shown = client.get(f"{QUEUE}/{application['id']}", headers=reviewer.headers).json()
    assert "501.601" in shown["retention_basis"]
    assert shown["retain_until"] >= shown["screening_retain_until"] > shown["submitted_at"]
