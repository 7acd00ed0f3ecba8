"""Audit API: compliance:audit required, JSON and CSV, 422 for bad input."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, build_app, staff_signed_in
from sqlalchemy import Engine

from support import registry_of
from tradeguard.audit.records import Actor
from tradeguard.audit.search import CSV_COLUMNS
from tradeguard.core.clock import FixedClock
from tradeguard.db.session import transaction
from tradeguard.notify.notifier import MemorySender

ALICE = Actor("user", "alice", ip="198.51.100.1", session_id="s-1")
BOB = Actor("staff", "bob")
EVENTS = "/v1/audit/events"


def _record(app: FastAPI, clock: FixedClock, event_type: str, actor: Actor, **fields: Any) -> int:
    services = registry_of(app).services
    with transaction(services.sessions) as session:
        recorded = services.audit.record(session, event_type, actor, **fields)
    clock.advance(seconds=1)
    return int(recorded.seq)


@dataclass
class Recorded:
    """The app, and the sequence number of each event the fixture recorded, by name."""

    app: FastAPI
    seq: dict[str, int]
    mailbox: MemorySender
    engine: Engine


@pytest.fixture
def recorded(settings_for, clean_database, clock: FixedClock) -> Recorded:
    mailbox = MemorySender()
    app = build_app(settings_for(), clean_database.engine, clock, mailbox)
    seq = {
        "placed": _record(
            app, clock, "order.placed", ALICE, subject="order:1", data={"qty": 10}, request_id="r1"
        ),
        "cancelled": _record(
            app, clock, "order.cancelled", ALICE, subject="order:1", data={"why": "user"}
        ),
        "updated": _record(
            app,
            clock,
            "account.updated",
            ALICE,
            subject="user:alice",
            data={"field": "address"},
            personal={"address": "12 Elm Street"},
        ),
        "bob": _record(app, clock, "order.placed", BOB, subject="order:2", data={"qty": 5}),
    }
    return Recorded(app, seq, mailbox, clean_database.engine)


@pytest.fixture
def audit_app(recorded: Recorded) -> FastAPI:
    return recorded.app


@pytest.fixture
def seq(recorded: Recorded) -> dict[str, int]:
    return recorded.seq


@pytest.fixture
def bare(audit_app: FastAPI) -> Iterator[TestClient]:
    """A client with no credentials."""
    with TestClient(audit_app, base_url="https://testserver", raise_server_exceptions=False) as c:
        yield c


def _signed_in_as(
    recorded: Recorded, client: TestClient, clock: FixedClock, role: str, level: str | None
) -> Person:
    return staff_signed_in(
        client, recorded.mailbox, clock, recorded.engine, role=role, level=level, username="who"
    )


@pytest.fixture
def officer(recorded: Recorded, bare: TestClient, clock: FixedClock) -> Person:
    """A compliance officer (read-only access level), signed in after the events were recorded."""
    return _signed_in_as(recorded, bare, clock, "COMPLIANCE", "read-only")


@pytest.fixture
def api(bare: TestClient, officer: Person) -> TestClient:
    """The compliance officer's client: every request carries their access token."""
    bare.headers.update(officer.headers)
    return bare


def _seqs(body: dict[str, Any]) -> list[int]:
    return [event["seq"] for event in body["events"]]


def _events(api: TestClient, **params: Any) -> dict[str, Any]:
    response = api.get(EVENTS, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _assert_problem(response: Any, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["reason_code"] == reason
    assert body["status"] == status
    return body


# Access -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", [("TRADER", None), ("SUPPORT", "admin"), ("ADMIN", "admin")])
@pytest.mark.parametrize("path", [EVENTS, f"{EVENTS}/1"])
def test_audit_api_when_caller_lacks_compliance_audit_then_403_access_denied(
    recorded: Recorded, bare: TestClient, clock: FixedClock, who: tuple[str, str | None], path: str
) -> None:
    caller = _signed_in_as(recorded, bare, clock, *who)
    body = _assert_problem(bare.get(path, headers=caller.headers), 403, "ACCESS_DENIED")
    assert body["permission"] == "compliance:audit"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "AUTH_REQUIRED"),
        ({"Authorization": "Bearer wrong-token"}, "AUTH_TOKEN_INVALID"),
        ({"Authorization": "Basic b2ZmaWNlcjpwdw=="}, "AUTH_REQUIRED"),
        ({"Authorization": "Bearer "}, "AUTH_TOKEN_INVALID"),
    ],
)
@pytest.mark.parametrize("path", [EVENTS, f"{EVENTS}/1"])
def test_audit_api_when_token_missing_or_wrong_then_401_with_challenge(
    bare: TestClient, headers: dict[str, str], reason: str, path: str
) -> None:
    response = bare.get(path, headers=headers)
    _assert_problem(response, 401, reason)
    assert response.headers["www-authenticate"] == 'Bearer realm="tradeguard"'


def test_audit_api_when_bearer_scheme_in_other_case_then_accepted(
    bare: TestClient, officer: Person
) -> None:
    token = officer.tokens["access_token"]
    response = bare.get(EVENTS, headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


def test_audit_api_when_unauthenticated_and_query_invalid_then_401_first(
    bare: TestClient,
) -> None:
    response = bare.get(EVENTS, params={"limit": "0", "from": "nonsense"})
    _assert_problem(response, 401, "AUTH_REQUIRED")


# JSON -------------------------------------------------------------------------------------


def test_search_when_json_then_events_in_order_with_cursor(
    api: TestClient, seq: dict[str, int]
) -> None:
    body = _events(api, event_type="order.*")
    assert _seqs(body) == [seq["placed"], seq["cancelled"], seq["bob"]]
    assert body["next_after_seq"] is None
    first = body["events"][0]
    assert first["type"] == "order.placed"
    assert first["actor"] == {
        "kind": "user",
        "id": "alice",
        "ip": "198.51.100.1",
        "session_id": "s-1",
        "device_id": None,
    }
    assert (first["subject"], first["request_id"], first["data"]) == ("order:1", "r1", {"qty": 10})
    assert first["ts"] == "2026-11-21T09:30:00.000000000Z"
    assert isinstance(first["ts_ns"], int)
    assert len(first["event_id"]) == 36


def test_search_when_filters_then_applied(api: TestClient, seq: dict[str, int]) -> None:
    assert _seqs(_events(api, actor_id="bob")) == [seq["bob"]]
    assert _seqs(_events(api, subject="order:1")) == [seq["placed"], seq["cancelled"]]
    assert _seqs(_events(api, request_id="r1")) == [seq["placed"]]
    assert _seqs(_events(api, event_type="order.placed")) == [seq["placed"], seq["bob"]]
    assert _seqs(_events(api, event_type="account.*", actor_id="alice")) == [seq["updated"]]


def test_search_when_time_range_then_half_open_in_rfc3339(
    api: TestClient, seq: dict[str, int]
) -> None:
    window = {"from": "2026-11-21T09:30:01Z", "to": "2026-11-21T09:30:03Z", "actor_id": "alice"}
    assert _seqs(_events(api, **window)) == [seq["cancelled"], seq["updated"]]
    shifted = {"from": "2026-11-21T10:30:01.000000001+01:00", "to": "2026-11-21T09:30:04Z"}
    assert _seqs(_events(api, **shifted, actor_id="alice")) == [seq["updated"]]
    assert _seqs(_events(api, **shifted, actor_id="bob")) == [seq["bob"]]


def test_search_when_limited_then_cursor_pages_through(
    api: TestClient, seq: dict[str, int]
) -> None:
    first = _events(api, event_type="order.*", limit=2)
    assert _seqs(first) == [seq["placed"], seq["cancelled"]]
    assert first["next_after_seq"] == seq["cancelled"]
    second = _events(api, event_type="order.*", limit=2, after_seq=first["next_after_seq"])
    assert _seqs(second) == [seq["bob"]]
    assert second["next_after_seq"] is None


def test_search_when_personal_data_then_ciphertext_only(api: TestClient) -> None:
    [event] = _events(api, subject="user:alice")["events"]
    assert event["personal"]["subject"] == "user:alice"
    assert event["personal"]["ciphertext"]
    assert "12 Elm Street" not in json.dumps(event)


def test_search_when_served_then_the_access_itself_is_audited(api: TestClient) -> None:
    api.get(EVENTS, params={"actor_id": "bob", "limit": 5})
    officer_id = api.get("/v1/me").json()["id"]
    [access] = _events(api, event_type="audit.events.searched", actor_id=officer_id)["events"]
    assert access["actor"]["kind"] == "staff"
    assert access["data"] == {"actor_id": "bob", "limit": 5, "after_seq": 0, "returned": 1}
    assert access["request_id"]


# CSV --------------------------------------------------------------------------------------


def test_search_when_csv_then_header_and_one_row_per_event(
    api: TestClient, seq: dict[str, int]
) -> None:
    response = api.get(EVENTS, params={"format": "csv", "actor_id": "alice"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    reader = csv.reader(io.StringIO(response.text))
    header, *rows = list(reader)
    assert tuple(header) == CSV_COLUMNS
    assert [int(row[0]) for row in rows] == [seq["placed"], seq["cancelled"], seq["updated"]]
    record = dict(zip(header, rows[0], strict=True))
    assert record == {
        "seq": str(seq["placed"]),
        "event_id": record["event_id"],
        "ts": "2026-11-21T09:30:00.000000000Z",
        "ts_ns": record["ts_ns"],
        "type": "order.placed",
        "actor_kind": "user",
        "actor_id": "alice",
        "actor_ip": "198.51.100.1",
        "subject": "order:1",
        "request_id": "r1",
        "data": '{"qty":10}',
    }
    assert int(record["ts_ns"]) > 0
    assert dict(zip(header, rows[1], strict=True))["request_id"] == ""
    assert "12 Elm Street" not in response.text


# One event --------------------------------------------------------------------------------


def test_read_event_when_present_then_that_event(api: TestClient, seq: dict[str, int]) -> None:
    response = api.get(f"{EVENTS}/{seq['cancelled']}")
    assert response.status_code == 200
    body = response.json()
    assert (body["seq"], body["type"]) == (seq["cancelled"], "order.cancelled")
    assert body["data"] == {"why": "user"}
    [access] = _events(api, event_type="audit.event.read")["events"]
    assert access["data"] == {"seq": seq["cancelled"], "found": True}


def test_read_event_when_absent_then_404_problem_and_access_audited(api: TestClient) -> None:
    response = api.get(f"{EVENTS}/999")
    body = _assert_problem(response, 404, "NOT_FOUND")
    assert body["type"] == "urn:tradeguard:problem:not-found"
    [access] = _events(api, event_type="audit.event.read")["events"]
    assert access["data"] == {"seq": 999, "found": False}


# Bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "21.11.2026"}, "to"),
        ({"from": "2026-02-30T00:00:00Z"}, "from"),
        ({"from": "9999-12-31T23:59:59Z"}, "from"),
        ({"to": "1969-12-31T23:59:59Z"}, "to"),
        ({"limit": "0"}, "limit"),
        ({"limit": "1001"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"format": "xml"}, "format"),
        ({"after_seq": "-1"}, "after_seq"),
        ({"after_seq": str(2**63)}, "after_seq"),
        ({"event_type": "order placed"}, "event_type"),
        ({"event_type": "key*"}, "event_type"),
        ({"actor_id": "ali\x00ce"}, "actor_id"),
        ({"subject": "s" * 200}, "subject"),
        ({"actor": "alice"}, "actor"),
        ({"since": "2026-11-21T09:30:00Z"}, "since"),
    ],
)
def test_search_when_input_invalid_then_422_problem(
    api: TestClient, params: dict[str, str], field: str
) -> None:
    response = api.get(EVENTS, params=params)
    body = _assert_problem(response, 422, "VALIDATION_FAILED")
    assert any(field in error["location"] for error in body["errors"]), body["errors"]
    for value in params.values():
        if len(value) > 3:
            assert value not in json.dumps(body["errors"])


@pytest.mark.parametrize("seq", ["abc", "0", "-3", str(2**63)])
def test_read_event_when_seq_invalid_then_422_problem(api: TestClient, seq: str) -> None:
    _assert_problem(api.get(f"{EVENTS}/{seq}"), 422, "VALIDATION_FAILED")


# OpenAPI ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [EVENTS, EVENTS + "/{seq}"])
def test_openapi_when_generated_then_routes_declare_permission_and_summary(
    audit_app: FastAPI, path: str
) -> None:
    operation = audit_app.openapi()["paths"][path]["get"]
    assert operation["x-permission"] == "compliance:audit"
    assert operation["summary"]
