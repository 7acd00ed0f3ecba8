"""Every permission check is audited: allowed and denied, with principal, permission, object."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, signed_up_with_totp

from support import registry_of
from tradeguard.audit.search import AuditQuery, search
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

FLUSH_WAIT_SECONDS = 5.0


def _checks(app: FastAPI, event_type: str) -> list[dict[str, Any]]:
    services = registry_of(app).services
    with services.sessions() as session:
        page = search(session, AuditQuery(event_type=event_type, limit=1000))
    return [event.to_json() for event in page.events]


def test_check_when_allowed_then_audited_with_permission_route_and_principal(
    app: FastAPI, client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    assert client.get("/v1/sessions", headers=alice.headers).status_code == 200

    registry_of(app).access_checks.flush()

    [event] = [
        e for e in _checks(app, "access.check.allowed") if e["data"]["route"] == "/v1/sessions"
    ]
    me = client.get("/v1/me", headers=alice.headers).json()
    assert event["actor"]["id"] == me["id"]
    assert event["actor"]["session_id"] == alice.tokens["session_id"]
    assert event["data"]["permission"] == "profile:manage"
    assert event["data"]["checked_at"].startswith("2026-11-21T")


def test_check_when_denied_then_audited_as_denied(
    app: FastAPI, client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    assert client.get("/v1/audit/events", headers=alice.headers).status_code == 403

    registry_of(app).access_checks.flush()

    [event] = _checks(app, "access.check.denied")
    assert event["data"]["permission"] == "compliance:audit"
    assert event["data"]["route"] == "/v1/audit/events"


def test_check_when_route_names_an_object_then_the_object_is_recorded(
    app: FastAPI, client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    missing = "01a1fd70-0000-7000-8000-000000000000"
    assert client.delete(f"/v1/sessions/{missing}", headers=alice.headers).status_code == 404

    registry_of(app).access_checks.flush()

    objects = [event["data"]["object"] for event in _checks(app, "access.check.allowed")]
    assert missing in objects


def test_check_log_when_app_running_then_written_in_the_background(
    app: FastAPI, client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    client.get("/v1/devices", headers=alice.headers)

    deadline = time.monotonic() + FLUSH_WAIT_SECONDS
    while time.monotonic() < deadline:
        if any(e["data"]["route"] == "/v1/devices" for e in _checks(app, "access.check.allowed")):
            return
        time.sleep(0.1)
    raise AssertionError("the check was not written by the background writer")


def test_check_when_object_id_is_not_an_id_then_recorded_as_invalid_and_the_log_flows(
    app: FastAPI, client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    assert client.delete("/v1/sessions/%00", headers=alice.headers).status_code in {404, 422}
    assert client.get("/v1/devices", headers=alice.headers).status_code == 200

    registry_of(app).access_checks.flush()  # the background writer may have written some already

    allowed = _checks(app, "access.check.allowed")
    objects = [event["data"]["object"] for event in allowed]
    assert "invalid" in objects
    assert any(event["data"]["route"] == "/v1/devices" for event in allowed)
    assert "\x00" not in "".join(str(item) for item in objects)
