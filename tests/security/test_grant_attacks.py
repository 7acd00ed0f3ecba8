"""Attacks on time-limited grants: approving one's own, escalating past one's role, reaching
other people's grants, and using a grant after it expired, was denied or was revoked."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from functional.identity_flows import (
    Person,
    assert_refused,
    audit_event_types,
    forget_session_states,
    make_staff,
    signed_up_with_totp,
    staff_signed_in,
)
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

GRANTS = "/v1/access/grants"
BREAK_GLASS = "/v1/access/break-glass"
AUDIT_EVENTS = "/v1/audit/events"
AUDIT = "compliance:audit"
REASON = "incident 12: reconcile the audit trail with the ledger"


def ask(client: TestClient, person: Person, permission: str = AUDIT, minutes: int = 30) -> Any:
    body = {"permission": permission, "reason": REASON, "duration_minutes": minutes}
    return client.post(GRANTS, json=body, headers=person.headers)


def break_glass(client: TestClient, person: Person, permission: str = AUDIT) -> Any:
    body = {"permission": permission, "reason": REASON, "duration_minutes": 30}
    return client.post(BREAK_GLASS, json=body, headers=person.headers)


def grant_of(client: TestClient, person: Person, permission: str = AUDIT, minutes: int = 30) -> str:
    asked = ask(client, person, permission, minutes)
    assert asked.status_code == 201, asked.text
    grant_id: str = asked.json()["id"]
    return grant_id


def act(client: TestClient, person: Person, grant_id: str, action: str) -> Any:
    return client.post(f"{GRANTS}/{grant_id}/{action}", headers=person.headers)


def status_of(engine: Engine, grant_id: str) -> str:
    with engine.connect() as connection:
        found = connection.scalar(
            text("SELECT status FROM access_grants WHERE id = :id"), {"id": grant_id}
        )
    assert isinstance(found, str)
    return found


def grant_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.scalar(text("SELECT count(*) FROM access_grants")) or 0)


@pytest.fixture
def engine(clean_database) -> Engine:
    found: Engine = clean_database.engine
    return found


@pytest.fixture
def sam(client: TestClient, mailbox: MemorySender, clock: FixedClock, engine: Engine) -> Person:
    """A read-only support agent."""
    return staff_signed_in(
        client, mailbox, clock, engine, role="SUPPORT", level="read-only", username="sam"
    )


@pytest.fixture
def sue(client: TestClient, mailbox: MemorySender, clock: FixedClock, engine: Engine) -> Person:
    """Another support agent, at operator level."""
    return staff_signed_in(
        client, mailbox, clock, engine, role="SUPPORT", level="operator", username="sue"
    )


@pytest.fixture
def ada(client: TestClient, mailbox: MemorySender, clock: FixedClock, engine: Engine) -> Person:
    """An administrator who decides on grants."""
    return staff_signed_in(
        client, mailbox, clock, engine, role="ADMIN", level="admin", username="ada"
    )


@pytest.fixture
def trader(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    """A customer."""
    return signed_up_with_totp(
        client, mailbox, clock, Person(username="tom", email="tom@example.com")
    )


@pytest.mark.parametrize("action", ["approve", "deny"])
def test_decide_when_own_grant_then_refused_and_attempt_audited(
    client: TestClient, ada: Person, engine: Engine, action: str
) -> None:
    grant_id = grant_of(client, ada)

    assert_refused(act(client, ada, grant_id, action), 403, "GRANT_SELF_APPROVAL")

    assert status_of(engine, grant_id) == "requested"
    assert client.get(AUDIT_EVENTS, headers=ada.headers).status_code == 403
    assert "access.grant.refused" in audit_event_types(engine)


def test_request_when_trader_then_refused_and_nothing_stored(
    client: TestClient, trader: Person, engine: Engine
) -> None:
    assert_refused(ask(client, trader), 403, "GRANT_STAFF_ONLY")
    assert_refused(break_glass(client, trader), 403, "GRANT_STAFF_ONLY")
    assert_refused(ask(client, trader, "admin:users"), 403, "GRANT_STAFF_ONLY")

    assert grant_count(engine) == 0
    assert audit_event_types(engine).count("access.grant.refused") == 3


@pytest.fixture(params=["sue", "trader"])
def outsider(request: pytest.FixtureRequest) -> Person:
    """Someone without admin:grants: another support agent, or a customer."""
    person: Person = request.getfixturevalue(request.param)
    return person


@pytest.mark.parametrize("action", ["approve", "deny"])
def test_decide_when_caller_lacks_admin_grants_then_access_denied(
    client: TestClient, sam: Person, engine: Engine, outsider: Person, action: str
) -> None:
    grant_id = grant_of(client, sam)

    assert_refused(act(client, outsider, grant_id, action), 403, "ACCESS_DENIED")

    assert status_of(engine, grant_id) == "requested"
    assert client.get(AUDIT_EVENTS, headers=sam.headers).status_code == 403


def test_decide_when_approver_holds_a_break_glass_grant_then_still_denied(
    client: TestClient, sam: Person, sue: Person, engine: Engine
) -> None:
    assert break_glass(client, sue, "admin:users").status_code == 201
    grant_id = grant_of(client, sam)

    assert_refused(act(client, sue, grant_id, "approve"), 403, "ACCESS_DENIED")
    assert status_of(engine, grant_id) == "requested"


@pytest.mark.parametrize("path", [GRANTS, BREAK_GLASS])
def test_request_when_admin_grants_asked_then_never_granted(
    client: TestClient, sam: Person, sue: Person, engine: Engine, path: str
) -> None:
    body = {"permission": "admin:grants", "reason": REASON, "duration_minutes": 30}

    refused = client.post(path, json=body, headers=sam.headers)

    assert_refused(refused, 403, "GRANT_NOT_GRANTABLE")
    assert grant_count(engine) == 0
    sue_grant = grant_of(client, sue)
    assert_refused(act(client, sam, sue_grant, "approve"), 403, "ACCESS_DENIED")


@pytest.mark.parametrize("permission", ["root", "admin:*", "compliance:audit ", "COMPLIANCE:AUDIT"])
def test_request_when_permission_unknown_then_validation_failed(
    client: TestClient, sam: Person, engine: Engine, permission: str
) -> None:
    assert_refused(ask(client, sam, permission), 422, "VALIDATION_FAILED")
    assert grant_count(engine) == 0


def test_request_when_extra_fields_smuggled_then_refused(
    client: TestClient, sam: Person, engine: Engine
) -> None:
    body = {
        "permission": AUDIT,
        "reason": REASON,
        "duration_minutes": 30,
        "status": "active",
        "user_id": "someone-else",
        "expires_at_ns": 2**62,
    }

    assert_refused(client.post(GRANTS, json=body, headers=sam.headers), 422, "VALIDATION_FAILED")
    assert grant_count(engine) == 0


def test_revoke_when_grant_is_someone_elses_then_not_found(
    client: TestClient, sam: Person, ada: Person, engine: Engine, outsider: Person
) -> None:
    grant_id = grant_of(client, sam)
    act(client, ada, grant_id, "approve")

    assert_refused(act(client, outsider, grant_id, "revoke"), 404, "NOT_FOUND")

    assert status_of(engine, grant_id) == "active"
    listed = client.get(GRANTS, headers=outsider.headers).json()
    assert grant_id not in {grant["id"] for grant in listed}
    assert client.get(AUDIT_EVENTS, headers=sam.headers).status_code == 200


def test_grant_when_approved_for_one_then_another_gains_nothing(
    client: TestClient, sam: Person, sue: Person, ada: Person
) -> None:
    act(client, ada, grant_of(client, sam), "approve")

    assert client.get(AUDIT_EVENTS, headers=sam.headers).status_code == 200
    assert_refused(client.get(AUDIT_EVENTS, headers=sue.headers), 403, "ACCESS_DENIED")


@pytest.mark.parametrize("grant_id", ["0" * 36, "not-a-grant", "x" * 5000, "%2e%2e"])
def test_decide_when_grant_unknown_then_not_found(
    client: TestClient, ada: Person, sam: Person, grant_id: str
) -> None:
    assert_refused(act(client, ada, grant_id, "approve"), 404, "NOT_FOUND")
    assert_refused(act(client, sam, grant_id, "revoke"), 404, "NOT_FOUND")


def test_grant_when_expired_then_refused_even_from_a_cached_state_and_not_revivable(
    client: TestClient, clock: FixedClock, sam: Person, ada: Person, engine: Engine
) -> None:
    grant_id = grant_of(client, sam, minutes=1)
    act(client, ada, grant_id, "approve")
    assert client.get(AUDIT_EVENTS, headers=sam.headers).status_code == 200

    clock.advance(seconds=61)  # the state cached a moment ago still lists the grant

    assert_refused(client.get(AUDIT_EVENTS, headers=sam.headers), 403, "ACCESS_DENIED")
    assert_refused(act(client, ada, grant_id, "approve"), 409, "GRANT_NOT_PENDING")
    assert_refused(act(client, sam, grant_id, "revoke"), 409, "GRANT_NOT_ACTIVE")
    assert status_of(engine, grant_id) == "active"  # stored as approved; time ended it


def test_grant_when_denied_or_revoked_then_decisions_cannot_be_replayed(
    client: TestClient, sam: Person, ada: Person
) -> None:
    denied, revoked = grant_of(client, sam), grant_of(client, sam)
    act(client, ada, denied, "deny")
    act(client, ada, revoked, "approve")
    act(client, sam, revoked, "revoke")

    for grant_id in (denied, revoked):
        assert_refused(act(client, ada, grant_id, "approve"), 409, "GRANT_NOT_PENDING")
        assert_refused(act(client, ada, grant_id, "deny"), 409, "GRANT_NOT_PENDING")
    assert_refused(client.get(AUDIT_EVENTS, headers=sam.headers), 403, "ACCESS_DENIED")


def test_approve_when_requester_was_demoted_then_refused(
    client: TestClient, app: FastAPI, sam: Person, ada: Person, engine: Engine
) -> None:
    grant_id = grant_of(client, sam)
    make_staff(engine, "sam", "TRADER", None)
    forget_session_states(app)

    assert_refused(act(client, ada, grant_id, "approve"), 409, "GRANT_HOLDER_NOT_STAFF")
    assert status_of(engine, grant_id) == "requested"


def test_request_when_unauthenticated_then_refused(client: TestClient, engine: Engine) -> None:
    body = {"permission": AUDIT, "reason": REASON, "duration_minutes": 30}

    assert_refused(client.post(GRANTS, json=body), 401, "AUTH_REQUIRED")
    assert_refused(client.post(BREAK_GLASS, json=body), 401, "AUTH_REQUIRED")
    assert_refused(client.get(GRANTS), 401, "AUTH_REQUIRED")
    assert grant_count(engine) == 0
