"""The alert queue and case workflow over HTTP: compliance only, every step audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from identity_flows import Person, build_app, client_at, staff_signed_in
from sqlalchemy import Engine, func, select

from support import registry_of
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.models import CaseRow
from tradeguard.cases.referral import verify_referral
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.db.session import transaction
from tradeguard.notify.notifier import MemorySender


@pytest.fixture
def client(
    settings: Settings, clean_database, clock: FixedClock, mailbox: MemorySender
) -> Iterator[TestClient]:
    app = build_app(settings, clean_database.engine, clock, mailbox)
    with client_at(app) as started:
        yield started


def raise_alert(  # noqa: PLR0913 - the alert's distinguishing parts
    client: TestClient,
    episode: str,
    score: float = 0.9,
    *,
    source: str = "surveillance",
    typology: str = "spoofing",
    symbol: str | None = "ACME",
) -> str:
    registry = registry_of(client.app)  # type: ignore[arg-type]
    draft = AlertDraft(
        typology,
        score,
        Subject(accounts=("acct-1",), symbol=symbol),
        1,
        2,
        "spoofing.layered_cancel",
        episode,
        {"cancel_ratio": 0.95},
        {"min_cancel_ratio": 0.8},
    )
    with transaction(registry.services.sessions) as db:
        row = registry.alert_store.raise_alert(db, draft, source)
        assert row is not None
        return row.id


def person(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, engine: Engine, role: str
) -> Person:
    level = None if role == "TRADER" else "read-only"
    return staff_signed_in(
        client, mailbox, clock, engine, role=role, level=level, username=role.lower()
    )


def test_case_flow_when_officer_works_a_case_then_each_step_is_in_its_history(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    officer = person(client, mailbox, clock, clean_database.engine, "COMPLIANCE")
    first, second = raise_alert(client, "e1", 0.7), raise_alert(client, "e2", 0.95)
    queue = client.get("/v1/compliance/alerts", headers=officer.headers)
    assert [alert["id"] for alert in queue.json()] == [second, first]
    opened = client.post(
        "/v1/compliance/cases",
        json={"alert_ids": [first], "title": "ACME layering"},
        headers=officer.headers,
    )
    assert opened.status_code == 201, opened.text
    case_id = opened.json()["id"]
    steps = [
        ("assign", {"assignee": "0190a8f0-0000-7000-8000-000000000001"}),
        ("comments", {"body": "orders 30x the usual size"}),
        ("alerts", {"alert_ids": [second]}),
        ("decision", {"decision": "escalate", "reason": "second review needed"}),
    ]
    for path, body in steps:
        answer = client.post(
            f"/v1/compliance/cases/{case_id}/{path}", json=body, headers=officer.headers
        )
        assert answer.status_code in (200, 201), answer.text
    detail = client.get(f"/v1/compliance/cases/{case_id}", headers=officer.headers).json()
    assert detail["case"]["status"] == "escalated"
    assert detail["case"]["score"] == 0.95
    assert [alert["id"] for alert in detail["alerts"]] == [first, second]
    assert detail["notes"][0]["body"] == "orders 30x the usual size"
    referral = client.post(f"/v1/compliance/cases/{case_id}/referral", headers=officer.headers)
    assert referral.status_code == 200, referral.text
    assert verify_referral(referral.json()) == []
    assert [event["type"] for event in detail["history"]] == [
        "case.opened",
        "case.assigned",
        "case.commented",
        "case.alerts.attached",
        "case.decided",
        "case.viewed",
    ]


@pytest.mark.parametrize("role", ["TRADER", "SUPPORT"])
def test_cases_when_caller_lacks_compliance_audit_then_403_and_nothing_opened(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database, role: str
) -> None:
    intruder = person(client, mailbox, clock, clean_database.engine, role)
    alert = raise_alert(client, "e1")
    assert client.get("/v1/compliance/alerts", headers=intruder.headers).status_code == 403
    refused = client.post(
        "/v1/compliance/cases",
        json={"alert_ids": [alert], "title": "mine"},
        headers=intruder.headers,
    )
    assert refused.status_code == 403
    with registry_of(client.app).services.sessions() as db:  # type: ignore[arg-type]
        assert db.scalar(select(func.count()).select_from(CaseRow)) == 0


def test_cases_when_input_is_bad_then_problem_documents_and_nothing_changed(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    officer = person(client, mailbox, clock, clean_database.engine, "COMPLIANCE")
    alert = raise_alert(client, "e1")
    opened = client.post(
        "/v1/compliance/cases",
        json={"alert_ids": [alert], "title": "t1 case"},
        headers=officer.headers,
    )
    case_id = opened.json()["id"]
    early = client.post(f"/v1/compliance/cases/{case_id}/referral", headers=officer.headers)
    assert (early.status_code, early.json()["reason_code"]) == (409, "CASE_NOT_ESCALATED")
    again = client.post(
        "/v1/compliance/cases",
        json={"alert_ids": [alert], "title": "again"},
        headers=officer.headers,
    )
    assert (again.status_code, again.json()["reason_code"]) == (409, "ALERT_TAKEN")
    unknown = client.post(
        "/v1/compliance/cases",
        json={"alert_ids": ["0190a8f0-0000-7000-8000-00000000dead"], "title": "ghost"},
        headers=officer.headers,
    )
    assert (unknown.status_code, unknown.json()["reason_code"]) == (422, "ALERT_NOT_FOUND")
    wrong = client.post(
        f"/v1/compliance/cases/{case_id}/decision",
        json={"decision": "ignore", "reason": "why not"},
        headers=officer.headers,
    )
    assert wrong.status_code == 422
    missing = client.get(
        "/v1/compliance/cases/0190a8f0-0000-7000-8000-00000000dead", headers=officer.headers
    )
    assert (missing.status_code, missing.json()["reason_code"]) == (404, "CASE_NOT_FOUND")


def test_alert_queue_when_filtered_then_every_source_listed_and_filters_apply(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    officer = person(client, mailbox, clock, clean_database.engine, "COMPLIANCE")
    spoof = raise_alert(client, "e1", 0.6)
    aml = raise_alert(client, "a1", 0.8, source="aml", typology="structuring", symbol=None)
    sanctions = raise_alert(
        client, "s1", 0.95, source="sanctions", typology="list_match", symbol=None
    )

    def queue(query: str) -> list[str]:
        answer = client.get(f"/v1/compliance/alerts{query}", headers=officer.headers)
        assert answer.status_code == 200, answer.text
        return [alert["id"] for alert in answer.json()]

    assert queue("") == [sanctions, aml, spoof]
    assert queue("?source=aml") == [aml]
    assert queue("?symbol=ACME") == [spoof]
    assert queue("?min_score=0.7") == [sanctions, aml]
    assert queue("?status=closed") == []
    bad = client.get("/v1/compliance/alerts?min_score=2", headers=officer.headers)
    assert (bad.status_code, bad.json()["reason_code"]) == (422, "VALIDATION_FAILED")
    shown = client.get(f"/v1/compliance/alerts/{aml}", headers=officer.headers).json()
    assert shown["presentation"]["summary"] == "Structuring"
    assert shown["presentation"]["measures"][0]["value"] == "0.95"
    partial = client.get(f"/v1/compliance/alerts/{spoof}", headers=officer.headers).json()
    assert [m["label"] for m in partial["presentation"]["measures"]] == ["Cancel ratio"]


def test_escalated_case_when_the_escalating_reviewer_decides_then_403_and_another_decides(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    first = person(client, mailbox, clock, clean_database.engine, "COMPLIANCE")
    second = staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="COMPLIANCE", level="read-only",
        username="second",
    )  # fmt: skip
    alert = raise_alert(client, "e1")
    case_id = client.post(
        "/v1/compliance/cases", json={"alert_ids": [alert], "title": "ACME"}, headers=first.headers
    ).json()["id"]
    escalate = {"decision": "escalate", "reason": "looks like layering"}
    path = f"/v1/compliance/cases/{case_id}/decision"
    assert client.post(path, json=escalate, headers=first.headers).status_code == 200
    report = {"decision": "false_positive", "reason": "my own escalation was wrong"}
    own = client.post(path, json=report, headers=first.headers)
    assert (own.status_code, own.json()["reason_code"]) == (403, "SECOND_REVIEW_REQUIRED")
    with registry_of(client.app).services.sessions() as db:  # type: ignore[arg-type]
        assert db.get(CaseRow, case_id).status == "escalated"  # type: ignore[union-attr]
    decided = client.post(path, json=report | {"decision": "report"}, headers=second.headers)
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "closed"
