"""Attacks on onboarding: other people's applications and documents, self-approval,
tampering with a submitted application, and personal data in the logs."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from functional.identity_flows import (
    Person,
    make_staff,
    register_security_key,
    sign_in_with_security_key,
    signed_up_with_totp,
)
from functional.kyc_flows import (
    APPLICATION,
    QUEUE,
    complete_answers,
    decide,
    ready_application,
    save,
    submit,
    upload,
)
from support import TestDatabase
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

PDF_MARKER = b"PASSPORT-SCAN-7f3a91"


@pytest.fixture
def ann(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    return signed_up_with_totp(client, mailbox, clock, Person("ann", "ann@example.com"))


@pytest.fixture
def mallory(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    return signed_up_with_totp(client, mailbox, clock, Person("mallory", "mallory@example.com"))


def test_another_users_document_when_mrz_is_entered_then_404(
    client: TestClient, ann: Person, mallory: Person
) -> None:
    application = ready_application(client, ann)
    passport_id = application["documents"][0]["id"]
    save(client, mallory, legal_name={"given": "Mal"})
    attempt = client.put(
        f"{APPLICATION}/documents/{passport_id}/mrz", json={"mrz": "P<"}, headers=mallory.headers
    )
    assert attempt.status_code == 404
    assert attempt.json()["reason_code"] == "NOT_FOUND"


def test_an_applicant_without_an_application_when_reading_then_404_not_someone_elses(
    client: TestClient, ann: Person, mallory: Person
) -> None:
    ready_application(client, ann)
    assert client.get(APPLICATION, headers=mallory.headers).status_code == 404


def test_a_trader_when_calling_the_review_routes_then_403_and_nothing_changes(
    client: TestClient, ann: Person, mallory: Person, clean_database: TestDatabase
) -> None:
    ready_application(client, ann)
    application = submit(client, ann).json()
    for path in ("approve", "reject", "request-information"):
        attempt = client.post(
            f"{QUEUE}/{application['id']}/{path}",
            json={
                "version": application["version"],
                "note": "looks fine",
                "reason_code": "KYC_OTHER",
            },
            headers=ann.headers,
        )
        assert attempt.status_code == 403, attempt.text
    assert client.get(QUEUE, headers=mallory.headers).status_code == 403
    with clean_database.engine.connect() as connection:
        status = connection.execute(text("SELECT status FROM kyc_applications")).scalar_one()
        accounts = connection.execute(text("SELECT count(*) FROM trading_accounts")).scalar_one()
    assert (status, accounts) == ("pending_review", 0)


def test_a_reviewer_when_deciding_their_own_application_then_403(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database: TestDatabase
) -> None:
    insider = signed_up_with_totp(client, mailbox, clock, Person("ivan", "ivan@example.com"))
    ready_application(client, insider)
    application = submit(client, insider).json()
    register_security_key(client, insider)
    make_staff(clean_database.engine, "ivan", "COMPLIANCE", "operator")
    sign_in_with_security_key(client, insider)
    own = decide(client, insider, application["id"], "approve")
    assert own.status_code == 403
    assert own.json()["reason_code"] == "KYC_SELF_REVIEW"


def test_a_submitted_application_when_changed_by_its_applicant_then_409_and_unchanged(
    client: TestClient, ann: Person
) -> None:
    ready_application(client, ann)
    before = submit(client, ann).json()
    tampered = save(client, ann, **complete_answers(tax_id="912-70-3456"))
    assert tampered.status_code == 409
    assert tampered.json()["reason_code"] == "KYC_APPLICATION_LOCKED"
    swapped = upload(client, ann, "proof_of_address", b"%PDF-1.4\n%%EOF")
    assert swapped.status_code == 409
    after = client.get(APPLICATION, headers=ann.headers).json()
    assert (after["version"], after["tax_id"]) == (before["version"], before["tax_id"])


def test_a_resubmission_when_already_in_review_then_409(client: TestClient, ann: Person) -> None:
    ready_application(client, ann)
    assert submit(client, ann).status_code == 200
    again = submit(client, ann)
    assert again.status_code == 409


def test_a_stored_ciphertext_when_moved_to_another_application_then_does_not_decrypt(
    client: TestClient,
    ann: Person,
    mallory: Person,
    clean_database: TestDatabase,
) -> None:
    ready_application(client, ann)
    save(client, mallory, legal_name={"given": "Mal"}, tax_id="912-70-3456")
    with clean_database.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE kyc_applications SET tax_id = (SELECT tax_id FROM kyc_applications"
                " k JOIN users u ON u.id = k.user_id WHERE u.username = 'ann')"
                " WHERE user_id = (SELECT id FROM users WHERE username = 'mallory')"
            )
        )
    read = client.get(APPLICATION, headers=mallory.headers)
    assert read.status_code == 500
    problem = read.json()
    assert problem.pop("request_id")  # random: its digits may hold "536" by chance
    shown = json.dumps(problem)
    assert "536" not in shown
    assert "4399" not in shown


def test_personal_answers_and_documents_when_handled_then_never_logged(
    client: TestClient,
    ann: Person,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    ready_application(client, ann)
    upload(client, ann, "proof_of_address", b"%PDF-1.4\n" + PDF_MARKER + b"\n%%EOF")
    submit(client, ann)
    logged = caplog.text + "".join(capsys.readouterr())
    for secret in (
        "536-90-4399",
        "536904399",
        "ELM ST",
        "Elm Street",
        "1990-02-03",
        PDF_MARKER.decode(),
    ):
        assert secret not in logged, secret
