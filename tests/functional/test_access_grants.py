"""Time-limited grants and break-glass through the API: asked, decided, in force, ended."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import (
    Person,
    assert_refused,
    audit_event_types,
    build_app,
    client_at,
    forget_session_states,
    staff_signed_in,
)
from sqlalchemy import Engine, text

from tradeguard.core.clock import NS_PER_SECOND, FixedClock, ns_to_rfc3339
from tradeguard.notify.notifier import MemorySender

AUDIT_EVENTS = "/v1/audit/events"
AUDIT = "compliance:audit"
GRANTS = "/v1/access/grants"
BREAK_GLASS = "/v1/access/break-glass"
REASON = "ticket 4711: reconcile the audit trail"
COMPLIANCE = "compliance@tradeguard.localhost"
EMERGENCY = "incident 88: trading halt investigation needs the audit trail"


def ask(
    client: TestClient, person: Person, minutes: int = 5, permission: str = AUDIT, **extra: Any
) -> Any:
    body = {"permission": permission, "reason": REASON, "duration_minutes": minutes, **extra}
    return client.post(GRANTS, json=body, headers=person.headers)


def asked(client: TestClient, person: Person, minutes: int = 5) -> dict[str, Any]:
    response = ask(client, person, minutes)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def decide(client: TestClient, admin: Person, grant_id: str, decision: str) -> Any:
    return client.post(f"{GRANTS}/{grant_id}/{decision}", headers=admin.headers)


def break_glass(client: TestClient, person: Person, reason: str = EMERGENCY) -> Any:
    body = {"permission": AUDIT, "reason": reason, "duration_minutes": 30}
    return client.post(BREAK_GLASS, json=body, headers=person.headers)


def reads_audit(client: TestClient, person: Person) -> int:
    status: int = client.get(AUDIT_EVENTS, headers=person.headers).status_code
    return status


def event_data(engine: Engine, event_type: str) -> list[dict[str, Any]]:
    """The actor and data of every audit event of ``event_type``, oldest first."""
    with engine.connect() as connection:
        records = connection.scalars(
            text("SELECT record FROM audit_events WHERE event_type = :type ORDER BY seq"),
            {"type": event_type},
        )
        return [_actor_and_data(json.loads(bytes(record))) for record in records]


def _actor_and_data(document: dict[str, Any]) -> dict[str, Any]:
    return {"actor": document["actor"]["id"], **document["data"]}


def user_id_of(client: TestClient, person: Person) -> str:
    me = client.get("/v1/me", headers=person.headers)
    assert me.status_code == 200, me.text
    found: str = me.json()["id"]
    return found


@pytest.fixture
def support(client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database) -> Person:
    """A read-only support agent, who may not read the audit trail."""
    return staff_signed_in(
        client,
        mailbox,
        clock,
        clean_database.engine,
        role="SUPPORT",
        level="read-only",
        username="sam",
    )


@pytest.fixture
def admin(client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database) -> Person:
    """An administrator who decides on grants."""
    return staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="ADMIN", level="admin", username="ada"
    )


@pytest.fixture
def cleo(client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database) -> Person:
    """A read-only compliance officer (KYC review is beyond her level)."""
    return staff_signed_in(
        client,
        mailbox,
        clock,
        clean_database.engine,
        role="COMPLIANCE",
        level="read-only",
        username="cleo",
    )


def test_grant_when_approved_then_in_force_until_it_expires(
    client: TestClient, app: FastAPI, clock: FixedClock, support: Person, admin: Person
) -> None:
    assert_refused(client.get(AUDIT_EVENTS, headers=support.headers), 403, "ACCESS_DENIED")
    grant = asked(client, support, minutes=5)
    assert grant["status"] == "requested"
    assert grant["expires_at"] is None
    assert reads_audit(client, support) == 403

    approved = decide(client, admin, grant["id"], "approve")

    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    assert reads_audit(client, support) == 200
    clock.advance(seconds=5 * 60 - 1)
    assert reads_audit(client, support) == 200
    clock.advance(seconds=1)
    assert_refused(client.get(AUDIT_EVENTS, headers=support.headers), 403, "ACCESS_DENIED")
    forget_session_states(app)
    assert_refused(client.get(AUDIT_EVENTS, headers=support.headers), 403, "ACCESS_DENIED")
    mine = client.get(GRANTS, headers=support.headers).json()
    assert [(each["id"], each["status"]) for each in mine] == [(grant["id"], "expired")]


def test_grant_when_approved_then_expiry_counts_from_the_approval(
    client: TestClient, clock: FixedClock, support: Person, admin: Person
) -> None:
    grant = asked(client, support, minutes=10)
    clock.advance(seconds=120)
    approved_at = clock.now_ns()

    approved = decide(client, admin, grant["id"], "approve").json()

    assert grant["requested_at"] == ns_to_rfc3339(approved_at - 120 * NS_PER_SECOND)
    assert approved["decided_at"] == ns_to_rfc3339(approved_at)
    assert approved["expires_at"] == ns_to_rfc3339(approved_at + 600 * NS_PER_SECOND)
    assert approved["decided_by"] == user_id_of(client, admin)


def test_grant_when_decided_then_every_step_audited_with_actor_permission_reason_duration(
    client: TestClient, support: Person, admin: Person, clean_database
) -> None:
    grant = asked(client, support, minutes=5)
    decide(client, admin, grant["id"], "approve")
    client.post(f"{GRANTS}/{grant['id']}/revoke", headers=support.headers)
    refused = asked(client, support, minutes=7)
    decide(client, admin, refused["id"], "deny")

    engine = clean_database.engine
    support_id, admin_id = user_id_of(client, support), user_id_of(client, admin)
    expected = {"permission": AUDIT, "reason": REASON, "holder": support_id}
    for event_type, actor, minutes in [
        ("access.grant.requested", support_id, 5),
        ("access.grant.approved", admin_id, 5),
        ("access.grant.revoked", support_id, 5),
        ("access.grant.denied", admin_id, 7),
    ]:
        data = event_data(engine, event_type)[0]
        assert data["actor"] == actor, event_type
        assert data["duration_seconds"] == minutes * 60, event_type
        assert data.items() >= expected.items(), (event_type, data)
    assert event_data(engine, "access.grant.approved")[0]["decided_by"] == admin_id


def test_grant_when_denied_then_never_in_force_and_cannot_be_approved_later(
    client: TestClient, support: Person, admin: Person
) -> None:
    grant = asked(client, support)

    denied = decide(client, admin, grant["id"], "deny")

    assert denied.status_code == 200, denied.text
    assert denied.json()["status"] == "denied"
    assert reads_audit(client, support) == 403
    assert_refused(decide(client, admin, grant["id"], "approve"), 409, "GRANT_NOT_PENDING")
    assert reads_audit(client, support) == 403


@pytest.mark.parametrize("revoker", ["holder", "admin"])
def test_revoke_when_grant_in_force_then_it_ends_on_the_next_request(
    client: TestClient, support: Person, admin: Person, revoker: str
) -> None:
    grant = asked(client, support, minutes=60)
    decide(client, admin, grant["id"], "approve")
    assert reads_audit(client, support) == 200
    by = support if revoker == "holder" else admin

    revoked = client.post(f"{GRANTS}/{grant['id']}/revoke", headers=by.headers)

    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"
    assert revoked.json()["revoked_at"] is not None
    assert_refused(client.get(AUDIT_EVENTS, headers=support.headers), 403, "ACCESS_DENIED")
    again = client.post(f"{GRANTS}/{grant['id']}/revoke", headers=by.headers)
    assert_refused(again, 409, "GRANT_NOT_ACTIVE")


def test_revoke_when_request_pending_then_it_is_withdrawn(
    client: TestClient, support: Person, admin: Person
) -> None:
    grant = asked(client, support)

    withdrawn = client.post(f"{GRANTS}/{grant['id']}/revoke", headers=support.headers)

    assert withdrawn.json()["status"] == "revoked"
    assert_refused(decide(client, admin, grant["id"], "approve"), 409, "GRANT_NOT_PENDING")


def test_break_glass_when_used_then_in_force_at_once_with_alert_and_email_to_compliance(
    client: TestClient, mailbox: MemorySender, support: Person, clean_database
) -> None:
    assert reads_audit(client, support) == 403

    used = break_glass(client, support)

    assert used.status_code == 201, used.text
    body = used.json()
    assert (body["status"], body["break_glass"], body["decided_by"]) == ("active", True, None)
    assert reads_audit(client, support) == 200
    email = mailbox.last_email(to=COMPLIANCE, kind="access.alert.break_glass")
    for fact in ("sam", AUDIT, EMERGENCY, body["id"]):
        assert fact in email.text, fact
    with clean_database.engine.connect() as connection:
        alerts = connection.execute(
            text("SELECT kind, staff_user_id, detail FROM access_alerts")
        ).all()
    assert [(kind, user) for kind, user, _ in alerts] == [("break_glass", body["user_id"])]
    detail = json.loads(alerts[0][2])
    assert (detail["grant_id"], detail["reason"]) == (body["id"], EMERGENCY)
    used_event = event_data(clean_database.engine, "access.break_glass.used")
    assert len(used_event) == 1
    assert used_event[0]["reason"] == EMERGENCY
    assert used_event[0]["duration_seconds"] == 30 * 60
    assert "access.alert.raised" in audit_event_types(clean_database.engine)


def test_break_glass_when_used_twice_then_each_use_alerts_compliance(
    client: TestClient, mailbox: MemorySender, support: Person, cleo: Person
) -> None:
    first = break_glass(client, support).json()
    second = break_glass(client, support).json()

    listed = client.get("/v1/admin/alerts?kind=break_glass", headers=cleo.headers)

    assert listed.status_code == 200, listed.text
    details = [alert["detail"] for alert in listed.json()["alerts"]]
    assert [detail["grant_id"] for detail in details] == [second["id"], first["id"]]
    assert {detail["permission"] for detail in details} == {AUDIT}
    assert len([email for email in mailbox.emails if email.to == COMPLIANCE]) == 2


def test_break_glass_when_revoked_then_it_ends_at_once(
    client: TestClient, support: Person, admin: Person
) -> None:
    used = break_glass(client, support).json()
    assert reads_audit(client, support) == 200

    revoked = client.post(f"{GRANTS}/{used['id']}/revoke", headers=admin.headers)

    assert revoked.status_code == 200, revoked.text
    assert reads_audit(client, support) == 403


@pytest.mark.parametrize("reason", ["", "too short a reason", " " * 30, "x" + " " * 25 + "y"])
def test_break_glass_when_reason_missing_or_short_then_refused_and_nothing_in_force(
    client: TestClient, mailbox: MemorySender, support: Person, reason: str
) -> None:
    refused = break_glass(client, support, reason)

    assert refused.status_code == 422, refused.text
    assert refused.json()["reason_code"] in {"GRANT_REASON_TOO_SHORT", "VALIDATION_FAILED"}
    assert reads_audit(client, support) == 403
    assert not [email for email in mailbox.emails if email.to == COMPLIANCE]


def test_break_glass_when_reason_is_twenty_characters_then_accepted(
    client: TestClient, support: Person
) -> None:
    assert break_glass(client, support, "x" * 20).status_code == 201


@pytest.mark.parametrize("minutes", [8 * 60 + 1, 10_000, 10**30, 0, -5])
def test_request_when_duration_out_of_range_then_refused_with_reason_code(
    client: TestClient, support: Person, minutes: int
) -> None:
    refused = ask(client, support, minutes)

    assert_refused(refused, 422, "GRANT_DURATION_OUT_OF_RANGE")
    assert refused.json()["max_minutes"] == 480
    assert client.get(GRANTS, headers=support.headers).json() == []


def test_request_when_duration_is_the_maximum_then_accepted(
    client: TestClient, support: Person
) -> None:
    assert ask(client, support, 8 * 60).status_code == 201


def test_request_when_maximum_configured_lower_then_it_applies(
    settings_for, clean_database, clock: FixedClock, mailbox: MemorySender
) -> None:
    app = build_app(settings_for(grant_max_hours=1), clean_database.engine, clock, mailbox)
    with client_at(app) as client:
        sam = staff_signed_in(
            client, mailbox, clock, clean_database.engine, role="SUPPORT", level="read-only"
        )
        assert_refused(ask(client, sam, 61), 422, "GRANT_DURATION_OUT_OF_RANGE")
        assert ask(client, sam, 60).status_code == 201


def test_request_when_role_already_holds_the_permission_then_conflict(
    client: TestClient, support: Person
) -> None:
    assert_refused(ask(client, support, permission="support:users:view"), 409, "GRANT_ALREADY_HELD")


def test_list_when_staff_then_own_grants_and_for_admins_every_open_one(
    client: TestClient, support: Person, admin: Person, cleo: Person
) -> None:
    pending = asked(client, support)
    denied = asked(client, support)
    decide(client, admin, denied["id"], "deny")
    running = ask(client, cleo, permission="kyc:review").json()
    decide(client, admin, running["id"], "approve")

    own = client.get(GRANTS, headers=support.headers).json()
    everyone = client.get(GRANTS, headers=admin.headers).json()

    assert [grant["id"] for grant in own] == [denied["id"], pending["id"]]
    assert [grant["id"] for grant in everyone] == [running["id"], pending["id"]]
    assert [grant["username"] for grant in everyone] == ["cleo", "sam"]
    assert [grant["id"] for grant in client.get(GRANTS, headers=cleo.headers).json()] == [
        running["id"]
    ]
