"""The staff screening API: a compliance officer screens names; others are refused.

The list is the hand-written OFAC sample loaded through the registry's service, so the
route answers the same decision onboarding and rescreening get.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, reason_of, signed_up_with_totp, staff_signed_in
from sqlalchemy import select

from support import registry_of
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.records import Actor
from tradeguard.audit.search import trusted_event
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender
from tradeguard.screening.service import SanctionsScreening

SCREEN = "/v1/screening/screen"
LISTS = "/v1/screening/lists"
SAMPLE = Path(__file__).parents[1] / "unit" / "screening" / "ofac_sample"


def load_sample(app: FastAPI) -> str:
    screening = registry_of(app).find(SanctionsScreening)
    return screening.load(SAMPLE, "ofac-sdn", Actor("staff", "cli:test")).version_id


@pytest.fixture
def officer(client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI) -> Person:
    engine = registry_of(app).services.engine
    return staff_signed_in(
        client, mailbox, clock, engine, role="COMPLIANCE", level="read-only", username="cco"
    )


def test_screen_when_listed_person_then_match_with_entry_and_reasons(
    client: TestClient, app: FastAPI, officer: Person
) -> None:
    version = load_sample(app)

    response = client.post(
        SCREEN,
        json={"name": "Nicolás Maduro", "dob": "1962-11-23", "country": "ve"},
        headers=officer.headers,
    )

    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["match"], result["ent_num"], result["list"]) == (True, "22151", "ofac-sdn")
    assert result["list_version"] == version
    assert any("DOB 23 Nov 1962" in reason for reason in result["reasons"])
    assert any("country VE agrees" in reason for reason in result["reasons"])


def test_screen_when_generic_words_only_shared_then_no_match(
    client: TestClient, app: FastAPI, officer: Person
) -> None:
    load_sample(app)

    response = client.post(SCREEN, json={"name": "BELLETECH CORP."}, headers=officer.headers)

    assert response.status_code == 200
    assert (response.json()["match"], response.json()["ent_num"]) == (False, None)


def test_screen_when_no_list_loaded_then_503_not_a_clearance(
    client: TestClient, officer: Person
) -> None:
    response = client.post(SCREEN, json={"name": "Anyone"}, headers=officer.headers)

    assert reason_of(response) == (503, "SCREENING_NO_LIST_LOADED")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 301},
        {"name": "Ann", "dob": "23/11/1962"},
        {"name": "Ann", "country": "VEN"},
        {"name": "Ann", "country": 7},
        {"name": "Ann", "extra": True},
        {"name": "Ann\u0000"},
    ],
)
def test_screen_when_body_invalid_then_422(
    client: TestClient, app: FastAPI, officer: Person, body: dict[str, object]
) -> None:
    load_sample(app)

    response = client.post(SCREEN, json=body, headers=officer.headers)

    assert reason_of(response) == (422, "VALIDATION_FAILED")


def test_lists_when_loaded_then_version_with_hashes_and_counts(
    client: TestClient, app: FastAPI, officer: Person
) -> None:
    version = load_sample(app)

    response = client.get(LISTS, headers=officer.headers)

    assert response.status_code == 200
    (listed,) = response.json()
    assert (listed["list"], listed["version"], listed["entries"]) == ("ofac-sdn", version, 18)
    assert set(listed["file_sha256"]) == {"sdn.csv", "alt.csv", "add.csv"}


@pytest.mark.parametrize("who", [("TRADER", None), ("SUPPORT", "operator")])
def test_screen_when_caller_lacks_the_permission_then_403(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    who: tuple[str, str | None],
) -> None:
    load_sample(app)
    engine = registry_of(app).services.engine
    other = staff_signed_in(client, mailbox, clock, engine, role=who[0], level=who[1])

    for response in (
        client.post(SCREEN, json={"name": "Vladimir Putin"}, headers=other.headers),
        client.get(LISTS, headers=other.headers),
    ):
        assert reason_of(response) == (403, "ACCESS_DENIED")


def test_screen_when_trader_signed_up_then_403(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> None:
    load_sample(app)
    trader = signed_up_with_totp(client, mailbox, clock, Person())

    response = client.post(SCREEN, json={"name": "Vladimir Putin"}, headers=trader.headers)

    assert reason_of(response) == (403, "ACCESS_DENIED")


def test_screen_when_anonymous_then_401(client: TestClient, app: FastAPI) -> None:
    load_sample(app)

    response = client.post(SCREEN, json={"name": "Vladimir Putin"})

    assert response.status_code == 401


def test_screen_when_staff_screen_a_name_then_audited_with_a_keyed_digest_never_the_name(
    client: TestClient, app: FastAPI, officer: Person
) -> None:
    load_sample(app)
    for name in ("Nicolás Maduro", "  nicolás   MADURO ", "Ada Quinterra"):
        answer = client.post(SCREEN, json={"name": name, "dob": "1962-11-23"},
                             headers=officer.headers)  # fmt: skip
        assert answer.status_code == 200, answer.text
    with registry_of(app).services.sessions() as db:
        rows = db.execute(
            select(AuditEventRow.seq, AuditEventRow.record)
            .where(AuditEventRow.event_type == "screening.screened")
            .order_by(AuditEventRow.seq)
        ).all()
    events = [trusted_event(seq, bytes(record)) for seq, record in rows]
    assert len(events) == 3
    digests = [e.data["name_digest"] for e in events if e is not None]
    assert digests[0] == digests[1] != digests[2]
    assert all(e is not None and e.actor.id for e in events)
    assert events[0] is not None
    assert events[0].data["match"] is True
    raw = b"".join(bytes(record) for _, record in rows).lower()
    for secret in ("maduro", "quinterra", "1962"):
        assert secret.encode() not in raw
