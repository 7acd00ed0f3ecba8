"""Documents through HTTP: refused before anything is stored, MRZ entered and checked,
files read back by reviewers only (audited), without the metadata they came with."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import text

from functional.identity_flows import (
    Person,
    audit_event_types,
    signed_up_with_totp,
    staff_signed_in,
)
from functional.kyc_flows import (
    APPLICATION,
    QUEUE,
    broken_check_digit,
    complete_answers,
    passport_mrz,
    png_bytes,
    ready_application,
    save,
    submit,
    upload,
)
from support import TestDatabase
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender


@pytest.fixture
def ann(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    person = signed_up_with_totp(client, mailbox, clock, Person("ann", "ann@example.com"))
    assert save(client, person, **complete_answers()).status_code == 200
    return person


def stored_documents(database: TestDatabase) -> int:
    with database.engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM kyc_documents")).scalar_one())


def enter_mrz(client: TestClient, person: Person, document_id: str, mrz: str) -> Any:
    return client.put(
        f"{APPLICATION}/documents/{document_id}/mrz", json={"mrz": mrz}, headers=person.headers
    )


def bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "status", "reason"),
    [
        (b"GIF89a not accepted", 422, "KYC_DOCUMENT_TYPE"),
        (b"<html><script>alert(1)</script></html>", 422, "KYC_DOCUMENT_TYPE"),
        (b"\x89PNG\r\n\x1a\n truncated", 422, "KYC_DOCUMENT_UNREADABLE"),
        (b"%PDF-1.7\n<< /JavaScript (x) >>\n%%EOF", 422, "KYC_DOCUMENT_TYPE"),
        (b"\xff\xd8\xff" + b"0" * 1_000_001, 413, "KYC_DOCUMENT_TOO_LARGE"),
    ],
)
def test_a_bad_file_when_uploaded_then_refused_and_nothing_stored(  # noqa: PLR0913, PLR0917 - fixtures and parameters
    client: TestClient,
    ann: Person,
    clean_database: TestDatabase,
    content: bytes,
    status: int,
    reason: str,
) -> None:
    refused = upload(client, ann, "passport", content)
    assert (refused.status_code, refused.json()["reason_code"]) == (status, reason)
    assert stored_documents(clean_database) == 0


def test_a_decompression_bomb_when_uploaded_then_refused_unread(
    client: TestClient, ann: Person, clean_database: TestDatabase
) -> None:
    refused = upload(client, ann, "passport", bomb())
    assert refused.status_code == 413
    assert refused.json()["reason_code"] == "KYC_DOCUMENT_TOO_LARGE"
    assert stored_documents(clean_database) == 0


def test_an_unknown_kind_or_side_when_uploaded_then_422(client: TestClient, ann: Person) -> None:
    for kind, side in (("selfie", "front"), ("passport", "back")):
        refused = upload(client, ann, kind, png_bytes(), side=side)
        assert refused.json()["reason_code"] == "KYC_DOCUMENT_KIND", (kind, side)


def test_an_mrz_when_a_check_digit_is_wrong_then_422_and_nothing_recorded(
    client: TestClient, ann: Person
) -> None:
    passport = upload(client, ann, "passport", png_bytes()).json()
    refused = enter_mrz(client, ann, passport["id"], broken_check_digit(passport_mrz()))
    assert refused.status_code == 422
    assert refused.json()["reason_code"] == "KYC_MRZ_CHECK_DIGIT"
    listed = client.get(APPLICATION, headers=ann.headers).json()["documents"]
    assert listed[0]["mrz"] == {}


def test_an_expired_passport_when_its_mrz_is_entered_then_refused(
    client: TestClient, ann: Person
) -> None:
    passport = upload(client, ann, "passport", png_bytes()).json()
    refused = enter_mrz(client, ann, passport["id"], passport_mrz(expires="200101"))
    assert refused.status_code == 422
    assert refused.json()["reason_code"] == "KYC_DOCUMENT_EXPIRED"


def test_an_mrz_of_someone_else_when_entered_then_recorded_as_not_matching(
    client: TestClient, ann: Person
) -> None:
    passport = upload(client, ann, "passport", png_bytes()).json()
    other = enter_mrz(client, ann, passport["id"], passport_mrz(family="Smith"))
    assert other.status_code == 200, other.text
    assert other.json()["mrz"]["surname_matches"] is False
    assert other.json()["mrz"]["birth_date_matches"] is True


def test_a_proof_of_address_when_given_an_mrz_then_422(client: TestClient, ann: Person) -> None:
    proof = upload(client, ann, "proof_of_address", png_bytes()).json()
    refused = enter_mrz(client, ann, proof["id"], passport_mrz())
    assert refused.json()["reason_code"] == "KYC_DOCUMENT_KIND"


def test_a_document_when_uploaded_again_then_replaces_the_earlier_one(
    client: TestClient, ann: Person, clean_database: TestDatabase
) -> None:
    upload(client, ann, "proof_of_address", png_bytes())
    upload(client, ann, "proof_of_address", png_bytes((50, 50)))
    assert stored_documents(clean_database) == 1


def test_a_reviewer_when_reading_a_document_then_gets_it_without_metadata_and_it_is_audited(
    client: TestClient,
    ann: Person,
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database: TestDatabase,
) -> None:
    exif = Image.Exif()
    exif[0x013B] = "Ann Lee, 12 Elm St"  # the Artist tag
    photo = io.BytesIO()
    Image.new("RGB", (80, 60), "navy").save(photo, "JPEG", exif=exif.tobytes())
    ready_application(client, ann)
    upload(client, ann, "proof_of_address", photo.getvalue())
    application = submit(client, ann).json()
    reviewer = staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="COMPLIANCE", level="operator"
    )
    proof = next(doc for doc in application["documents"] if doc["kind"] == "proof_of_address")
    read = client.get(
        f"{QUEUE}/{application['id']}/documents/{proof['id']}", headers=reviewer.headers
    )
    assert read.status_code == 200
    assert read.headers["content-type"] == "image/jpeg"
    assert b"Elm St" not in read.content
    assert Image.open(io.BytesIO(read.content)).size == (80, 60)
    assert "kyc.document.viewed" in audit_event_types(clean_database.engine)
    elsewhere = client.get(
        f"{QUEUE}/{application['id']}/documents/{application['id']}", headers=reviewer.headers
    )
    assert elsewhere.status_code == 404
    assert client.get(read.request.url.path, headers=ann.headers).status_code == 403
