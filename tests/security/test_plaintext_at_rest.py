"""Proof by scanning: the values of every encrypted column of the real tables never reach
the database in clear, on either backend.

The encrypted columns are found by walking ``Base.metadata`` for the ``Encrypted`` column
type, so a column added later is scanned too; the test then insists that it was filled
with a known value. Each value is planted through the API, read back decrypted through
the application's own sessions (so it is known to be in that column), and looked for,
in its obvious encodings, in the raw bytes that plain SQL reads from every encrypted
column.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text

from functional.api_key_flows import create_key
from functional.identity_flows import (
    Person,
    client_at,
    signed_up_with_totp,
    start_code_factor,
)
from functional.kyc_flows import ready_application, upload
from support import TestDatabase, registry_of
from tradeguard.access.staff_invites import Operator
from tradeguard.aml.sar_service import SarForm
from tradeguard.audit.records import Actor
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cli.users_commands import COMMAND_ORIGIN
from tradeguard.core.clock import FixedClock
from tradeguard.crypto.fields import Encrypted
from tradeguard.db.base import Base
from tradeguard.db.session import transaction
from tradeguard.kyc.models import KycApplication
from tradeguard.notify.notifier import MemorySender

Column = tuple[str, str]
USERNAME = "scanner"
EMAIL = "scan.target.7c1e@broker.test"
PENDING_EMAIL = "scan.pending.4b9d@broker.test"
PHONE = "+447911123456"
INVITED_EMAIL = "scan.invited.93aa@broker.test"
SESSION_IP = "198.51.100.77"
KNOWN_ENCRYPTED = {
    ("staff_invites", "email"),
    ("users", "email"),
    ("users", "pending_email"),
    ("mfa_factors", "secret"),
    ("mfa_factors", "phone"),
    ("auth_sessions", "ip"),
    ("api_keys", "secret"),
    ("kyc_applications", "answers"),
    ("kyc_applications", "tax_id"),
    ("kyc_applications", "decision_note"),
    ("kyc_documents", "content"),
    ("kyc_documents", "mrz"),
    ("case_notes", "body"),
    ("aml_sars", "subject_name"),
    ("aml_sars", "subject_dob"),
    ("aml_sars", "subject_occupation"),
    ("aml_sars", "narrative"),
    ("payment_bank_links", "account_number"),
    ("payment_bank_links", "holder_name"),
    ("payment_bank_links", "micro_amounts"),
}
KYC_FAMILY_NAME = "Quixleworth"
BANK_ACCOUNT = "83920174650"
BANK_HOLDER = "Ann Quixleworth-Bankholder"
KYC_NOTE = "Send the back of the licence 5d2e"
DOCUMENT_MARKER = "scan-document-body-0c41e2"
CASE_NOTE = "customer Quixleworth called about the deposits 7a3f"
SAR_FORM = SarForm(
    subject_name="Quixleworth Ann 2b61",
    subject_dob="1961-03-12",
    subject_occupation="sculptor 9c0d",
    narrative="cash deposits just under the threshold e84a",
    detected_on=date(2026, 11, 2),
    amount_cents=2_850_000,
)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client at a known address (the one stored, encrypted, with each session)."""
    with client_at(app, SESSION_IP) as test:
        yield test


def encrypted_columns() -> set[Column]:
    """Every column of the mapped tables declared with the ``Encrypted`` type."""
    return {
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, Encrypted)
    }


def plant_values(
    app: FastAPI, client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> dict[Column, str]:
    """Fill every encrypted column; the plaintext each one now holds.

    Through the API, but for the staff invitation: through the service its command uses.
    """
    invite_staff(app, INVITED_EMAIL)
    person = signed_up_with_totp(client, mailbox, clock, Person(USERNAME, EMAIL))
    start_code_factor(client, person, "sms", PHONE)
    key = create_key(client, person, clock)  # steps up, which changing the address needs
    changing = client.post("/v1/me/email", json={"email": PENDING_EMAIL}, headers=person.headers)
    assert changing.status_code == 202, changing.text
    assert person.totp_secret
    kyc = plant_application(app, client, person)
    return (
        kyc
        | plant_case_and_sar(app)
        | plant_bank_link(app, client, person)
        | {
            ("users", "email"): EMAIL,
            ("users", "pending_email"): PENDING_EMAIL,
            ("mfa_factors", "secret"): person.totp_secret,
            ("mfa_factors", "phone"): PHONE,
            ("auth_sessions", "ip"): SESSION_IP,
            ("api_keys", "secret"): key["secret"],
            ("staff_invites", "email"): INVITED_EMAIL,
        }
    )


def plant_application(app: FastAPI, client: TestClient, person: Person) -> dict[Column, str]:
    """An application with a passport (MRZ entered), a PDF and a reviewer's note."""
    application = ready_application(
        client, person, legal_name={"given": "Ann", "family": KYC_FAMILY_NAME}
    )
    pdf = f"%PDF-1.4\n{DOCUMENT_MARKER}\n%%EOF".encode()
    assert upload(client, person, "proof_of_address", pdf).status_code == 201
    registry = registry_of(app)
    with transaction(registry.services.sessions) as db:
        stored = db.get(KycApplication, application["id"])
        assert stored is not None
        stored.decision_note = KYC_NOTE
    return {
        ("kyc_applications", "answers"): KYC_FAMILY_NAME,
        ("kyc_applications", "tax_id"): "536-90-4399",
        ("kyc_applications", "decision_note"): KYC_NOTE,
        ("kyc_documents", "content"): DOCUMENT_MARKER,
        ("kyc_documents", "mrz"): "X1234567",
    }


def plant_case_and_sar(app: FastAPI) -> dict[Column, str]:
    """A case with a note and a SAR drafted from it, through the services compliance uses."""
    registry = registry_of(app)
    officer = Actor("staff", "scan-officer")
    draft = AlertDraft("structuring", 0.9, Subject(accounts=("acct-scan",)), 0, 1, "r", "scan")
    with transaction(registry.services.sessions) as db:
        alert = registry.alert_store.raise_alert(db, draft, "aml")
        assert alert is not None
        case = registry.cases.open_case(db, officer, [alert.id], "structuring")
        registry.cases.comment(db, officer, case.id, CASE_NOTE)
        registry.sar_reports.draft(db, officer, case.id, SAR_FORM)
    return {
        ("case_notes", "body"): CASE_NOTE,
        ("aml_sars", "subject_name"): SAR_FORM.subject_name,
        ("aml_sars", "subject_dob"): SAR_FORM.subject_dob,
        ("aml_sars", "subject_occupation"): SAR_FORM.subject_occupation,
        ("aml_sars", "narrative"): SAR_FORM.narrative,
    }


def plant_bank_link(app: FastAPI, client: TestClient, person: Person) -> dict[Column, str]:
    """A bank link: its account number, holder name and micro-deposit amounts."""
    body = {
        "routing_number": "021000021",
        "account_number": BANK_ACCOUNT,
        "account_type": "checking",
        "holder_name": BANK_HOLDER,
    }
    added = client.post("/v1/payments/bank-links", json=body, headers=person.headers)
    assert added.status_code == 201, added.text
    (amounts,) = decrypted(app, ("payment_bank_links", "micro_amounts"))
    return {
        ("payment_bank_links", "account_number"): BANK_ACCOUNT,
        ("payment_bank_links", "holder_name"): BANK_HOLDER,
        ("payment_bank_links", "micro_amounts"): str(amounts),
    }


def holds(value: object, plaintext: str) -> bool:
    """Whether a decrypted value is, or contains, ``plaintext`` (answers are JSON, files bytes)."""
    if isinstance(value, bytes):
        return plaintext.encode() in value
    return isinstance(value, str) and plaintext in value


def invite_staff(app: FastAPI, email: str) -> None:
    """The first administrator's invitation, as ``tradeguard staff bootstrap-admin`` makes it."""
    registry = registry_of(app)
    operator = Operator(Actor("staff", "cli:scanner"), COMMAND_ORIGIN)
    with transaction(registry.services.sessions) as db:
        registry.staff_invites.bootstrap_admin(db, email, operator)


def decrypted(app: FastAPI, column: Column) -> list[Any]:
    """The values of ``column`` as the application reads them (decrypted)."""
    table, name = column
    mapper = next(m for m in Base.registry.mappers if m.local_table.name == table)
    key = mapper.get_property_by_column(mapper.local_table.c[name]).key
    with registry_of(app).services.sessions() as session:
        return [getattr(row, key) for row in session.scalars(select(mapper.class_))]


def raw_values(engine: Engine, column: Column) -> list[bytes]:
    """The stored bytes of ``column`` as plain SQL reads them (no type, no decryption)."""
    table, name = column
    with engine.connect() as connection:
        rows = connection.execute(text(f'SELECT "{name}" FROM "{table}"')).scalars()  # noqa: S608 - names from the metadata
        return [_as_bytes(value) for value in rows if value is not None]


def _as_bytes(value: object) -> bytes:
    if isinstance(value, str):
        return value.encode()
    assert isinstance(value, bytes | memoryview), type(value)
    return bytes(value)


def encodings(plaintext: str) -> set[bytes]:
    """``plaintext`` as it could sit on disk: as is, case-folded, base64, hex, UTF-16."""
    data = plaintext.encode()
    return {
        data,
        plaintext.lower().encode(),
        plaintext.upper().encode(),
        base64.b64encode(data).rstrip(b"="),
        base64.urlsafe_b64encode(data).rstrip(b"="),
        data.hex().encode(),
        data.hex().upper().encode(),
        plaintext.encode("utf-16-le"),
    }


def exposures(stored: list[bytes], plaintexts: dict[Column, str]) -> list[Column]:
    """The columns whose plaintext shows, in any encoding, in any of ``stored``."""
    return [
        column
        for column, plaintext in plaintexts.items()
        if any(form in value for form in encodings(plaintext) for value in stored)
    ]


def test_encrypted_columns_when_filled_through_the_api_then_no_plaintext_stored(
    app: FastAPI,
    client: TestClient,
    clean_database: TestDatabase,
    mailbox: MemorySender,
    clock: FixedClock,
) -> None:
    columns = encrypted_columns()
    assert columns >= KNOWN_ENCRYPTED, "the walk of the metadata missed encrypted columns"

    planted = plant_values(app, client, mailbox, clock)

    assert set(planted) == columns, "fill every encrypted column in plant_values"
    for column, plaintext in planted.items():
        found = decrypted(app, column)
        assert any(holds(value, plaintext) for value in found), f"{column} lacks the planted value"
        stored = raw_values(clean_database.engine, column)
        assert stored, f"{column} was never filled: the scan would prove nothing"
        assert exposures(stored, planted) == [], f"plaintext found in {column}"
    username = raw_values(clean_database.engine, ("users", "username"))
    assert exposures(username, {("users", "username"): USERNAME.upper()}), "the scan is blind"
