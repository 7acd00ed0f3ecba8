"""The applicant's application through HTTP: drafts saved and resumed, every field checked."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from functional.identity_flows import Person, audit_event_types, signed_up_with_totp
from functional.kyc_flows import APPLICATION, complete_answers, save, submit
from support import TestDatabase
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender


@pytest.fixture
def ann(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    return signed_up_with_totp(client, mailbox, clock, Person("ann", "ann@example.com"))


def field_reasons(response: Any) -> dict[str, str]:
    """Each refused field's dotted name and reason code."""
    return {
        ".".join(error["location"][1:]): error["reason_code"] for error in response.json()["errors"]
    }


def test_a_draft_when_saved_in_parts_then_resumes_with_every_part(
    client: TestClient, ann: Person, clean_database: TestDatabase
) -> None:
    first = save(client, ann, legal_name={"given": "Ann", "family": "Lee"}, tax_id="536904399")
    assert first.status_code == 200, first.text
    second = save(client, ann, legal_name={"middle": "Marie"}, phone="617 555 0123")
    assert second.status_code == 200, second.text

    resumed = client.get(APPLICATION, headers=ann.headers).json()
    assert resumed["status"] == "draft"
    assert resumed["answers"]["legal_name"] == {"given": "Ann", "middle": "Marie", "family": "Lee"}
    assert resumed["answers"]["phone"] == "+16175550123"
    assert resumed["tax_id"] == "***-**-4399"
    assert "date_of_birth" in resumed["missing"]
    assert "legal_name.given" not in resumed["missing"]
    assert audit_event_types(clean_database.engine).count("kyc.application.saved") == 2


def test_the_address_when_saved_then_is_normalised_and_a_po_box_is_refused(
    client: TestClient, ann: Person
) -> None:
    saved = save(
        client, ann, residential_address="1600 pennsylvania avenue nw, washington dc 20500"
    )
    assert saved.status_code == 200, saved.text
    address = saved.json()["answers"]["residential_address"]
    assert address["line"] == "1600 PENNSYLVANIA AVE NW, WASHINGTON, DC 20500"

    box = save(client, ann, residential_address="PO Box 77, Boston, MA 02110")
    assert box.status_code == 422
    assert field_reasons(box) == {"residential_address": "KYC_ADDRESS_PO_BOX"}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"tax_id": "000-12-3456"}, {"tax_id": "KYC_TAX_ID_INVALID"}),
        ({"tax_id": "987-65-4320"}, {"tax_id": "KYC_TAX_ID_INVALID"}),
        ({"date_of_birth": "2010-05-05"}, {"date_of_birth": "KYC_UNDERAGE"}),
        ({"date_of_birth": "1850-05-05"}, {"date_of_birth": "KYC_DOB_INVALID"}),
        ({"citizenship": "QQQ"}, {"citizenship": "KYC_COUNTRY_INVALID"}),
        ({"residence_country": "FRA"}, {"residence_country": "KYC_RESIDENCE_UNSUPPORTED"}),
        ({"phone": "call me"}, {"phone": "KYC_PHONE_INVALID"}),
        ({"residential_address": "somewhere"}, {"residential_address": "KYC_ADDRESS_INVALID"}),
        (
            {"agreements": [{"name": "customer_agreement", "version": "2019-01"}]},
            {"agreements": "KYC_AGREEMENT_VERSION"},
        ),
    ],
)
def test_a_field_when_invalid_then_422_with_its_reason_and_nothing_saved(
    client: TestClient, ann: Person, answers: dict[str, Any], expected: dict[str, str]
) -> None:
    refused = save(client, ann, legal_name={"given": "Ann"}, **answers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["reason_code"] == next(iter(expected.values()))
    assert field_reasons(refused) == expected
    assert client.get(APPLICATION, headers=ann.headers).status_code == 404


def test_an_itin_when_valid_then_is_accepted(client: TestClient, ann: Person) -> None:
    saved = save(client, ann, tax_id="912-70-3456")
    assert saved.status_code == 200, saved.text
    assert saved.json()["tax_id"] == "***-**-3456"


def test_a_submission_when_incomplete_then_422_listing_what_is_missing(
    client: TestClient, ann: Person
) -> None:
    save(client, ann, legal_name={"given": "Ann", "family": "Lee"})
    refused = submit(client, ann)
    assert refused.status_code == 422
    assert refused.json()["reason_code"] == "KYC_APPLICATION_INCOMPLETE"
    assert "tax_id" in refused.json()["missing"]
    assert "agreements.customer_agreement" in refused.json()["missing"]


def test_margin_when_net_worth_is_low_then_refused_at_submission(
    client: TestClient, ann: Person
) -> None:
    agreements = [
        *complete_answers()["agreements"],
        {"name": "margin_agreement", "version": "2026-01"},
    ]
    answers = complete_answers(account_kind="margin", net_worth="under_25k", agreements=agreements)
    assert save(client, ann, **answers).status_code == 200
    refused = submit(client, ann)
    assert refused.status_code == 422, refused.text
    assert field_reasons(refused) == {"account_kind": "KYC_MARGIN_INELIGIBLE"}


def test_margin_when_its_agreement_is_missing_then_the_submission_is_incomplete(
    client: TestClient, ann: Person
) -> None:
    assert save(client, ann, **complete_answers(account_kind="margin")).status_code == 200
    refused = submit(client, ann)
    assert refused.status_code == 422
    assert refused.json()["missing"] == ["agreements.margin_agreement"]


def test_agreements_when_accepted_then_recorded_with_version_and_time(
    client: TestClient, ann: Person, clock: FixedClock
) -> None:
    saved = save(client, ann, agreements=complete_answers()["agreements"])
    recorded = saved.json()["agreements"]
    assert {item["name"] for item in recorded} == {
        "customer_agreement",
        "privacy_notice",
        "esign_consent",
    }
    assert all(item["version"] == "2026-01" for item in recorded)
    assert all(item["accepted_at"].startswith(str(clock.now().date())) for item in recorded)


def test_staff_when_they_apply_then_403(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database: TestDatabase
) -> None:
    from functional.identity_flows import staff_signed_in  # noqa: PLC0415 - one test needs it

    staff = staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="COMPLIANCE", level="operator"
    )
    refused = save(client, staff, legal_name={"given": "Sam"})
    assert refused.status_code == 403


def stored_answers(engine: Engine) -> list[bytes]:
    """The raw bytes of every stored application's answers."""
    with engine.connect() as connection:
        return [
            bytes(row)
            for row in connection.execute(text("SELECT answers FROM kyc_applications")).scalars()
        ]


def test_answers_when_saved_then_stored_only_encrypted(
    client: TestClient, ann: Person, clean_database: TestDatabase
) -> None:
    assert save(client, ann, **complete_answers()).status_code == 200
    stored = stored_answers(clean_database.engine)
    assert len(stored) == 1
    assert b"Lee" not in stored[0]
    assert b"ELM ST" not in stored[0]
