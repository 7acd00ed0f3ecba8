"""Support agents see customers masked, unmask a field only with a reason, and are counted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from identity_flows import (
    Person,
    assert_refused,
    enrol_code_factor,
    sign_in_with_security_key,
    signed_up_with_totp,
    staff_signed_in,
)
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from tradeguard.audit.search import AuditQuery, search
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

PHONE = "+15555550123"
REASON = "ticket 4711: customer asked to confirm contact details"


def audit_events(engine: Engine, event_type: str) -> list[dict[str, Any]]:
    """The audit events of one type, oldest first, as the audit API shows them."""
    with Session(engine) as session:
        page = search(session, AuditQuery(event_type=event_type, limit=1000))
    return [event.to_json() for event in page.events]


def data_access_rows(engine: Engine) -> list[tuple[Any, ...]]:
    """Every stored staff data access: staff, customer, action, field, reason."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT staff_user_id, subject_user_id, action, field, reason"
                " FROM staff_data_access ORDER BY at_ns, id"
            )
        )
        return [tuple(row) for row in rows]


def user_id_of(client: TestClient, person: Person) -> str:
    me = client.get("/v1/me", headers=person.headers)
    assert me.status_code == 200, me.text
    return str(me.json()["id"])


@pytest.fixture
def customer(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    """Carol, a trader with an authenticator app and a phone for SMS codes."""
    carol = signed_up_with_totp(
        client, mailbox, clock, Person(username="carol", email="carol@example.com")
    )
    enrol_code_factor(client, mailbox, carol, "sms", phone=PHONE)
    return carol


@pytest.fixture
def agent(client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database) -> Person:
    """A support agent at operator level (may view and unmask)."""
    return staff_signed_in(
        client,
        mailbox,
        clock,
        clean_database.engine,
        role="SUPPORT",
        level="operator",
        username="agent",
    )


def view(client: TestClient, agent: Person, user_id: str) -> Any:
    return client.get(f"/v1/support/users/{user_id}", headers=agent.headers)


def unmask(client: TestClient, agent: Person, user_id: str, **body: Any) -> Any:
    return client.post(f"/v1/support/users/{user_id}/unmask", json=body, headers=agent.headers)


def test_view_when_agent_looks_then_personal_fields_are_masked(
    client: TestClient, customer: Person, agent: Person
) -> None:
    carol_id = user_id_of(client, customer)
    shown = view(client, agent, carol_id)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["id"] == carol_id
    assert body["username"] == "carol"
    assert body["email"] == "c***@example.com"
    assert [phone["number"] for phone in body["phones"]] == ["***0123"]
    assert (body["status"], body["role"]) == ("active", "TRADER")
    assert body["factor_kinds"] == ["sms", "totp"]
    assert body["created_at"].startswith("2026-11-21T09:")
    assert "carol@example.com" not in shown.text
    assert "5555550123" not in shown.text


def test_view_when_agent_looks_then_stored_and_audited(
    client: TestClient, customer: Person, agent: Person, clean_database
) -> None:
    carol_id = user_id_of(client, customer)
    agent_id = user_id_of(client, agent)
    assert view(client, agent, carol_id).status_code == 200
    assert data_access_rows(clean_database.engine) == [(agent_id, carol_id, "view", None, None)]
    (viewed,) = audit_events(clean_database.engine, "support.user.viewed")
    assert viewed["subject"] == carol_id
    assert (viewed["actor"]["kind"], viewed["actor"]["id"]) == ("staff", agent_id)


def test_unmask_when_email_asked_with_a_reason_then_clear_value_stored_audited_and_counted(
    client: TestClient, customer: Person, agent: Person, clean_database
) -> None:
    carol_id = user_id_of(client, customer)
    agent_id = user_id_of(client, agent)
    shown = unmask(client, agent, carol_id, field="email", reason=REASON)
    assert shown.status_code == 200, shown.text
    assert shown.json() == {
        "user_id": carol_id,
        "field": "email",
        "value": "carol@example.com",
        "factor_id": None,
        "unmasked_today": 1,
    }
    assert data_access_rows(clean_database.engine) == [
        (agent_id, carol_id, "unmask", "email", REASON)
    ]
    (unmasked,) = audit_events(clean_database.engine, "support.field.unmasked")
    assert unmasked["subject"] == carol_id
    assert unmasked["data"]["field"] == "email"
    assert unmasked["data"]["reason"] == REASON
    assert "carol@example.com" not in str(unmasked)


def test_unmask_when_phone_asked_then_the_sms_factors_number_in_clear(
    client: TestClient, customer: Person, agent: Person
) -> None:
    carol_id = user_id_of(client, customer)
    factor_id = view(client, agent, carol_id).json()["phones"][0]["factor_id"]
    first = unmask(client, agent, carol_id, field="phone", reason=REASON)
    assert first.status_code == 200, first.text
    assert (first.json()["value"], first.json()["factor_id"]) == (PHONE, factor_id)
    named = unmask(client, agent, carol_id, field="phone", reason=REASON, factor_id=factor_id)
    assert (named.json()["value"], named.json()["unmasked_today"]) == (PHONE, 2)


def test_unmask_when_customer_has_no_phone_then_not_found(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, agent: Person
) -> None:
    dave = signed_up_with_totp(client, mailbox, clock, Person(username="dave"))
    refused = unmask(client, agent, user_id_of(client, dave), field="phone", reason=REASON)
    assert_refused(refused, 404, "NOT_FOUND")


def test_unmask_count_when_a_new_utc_day_starts_then_counts_from_zero(
    client: TestClient, customer: Person, agent: Person, clock: FixedClock
) -> None:
    carol_id = user_id_of(client, customer)
    for expected in (1, 2):
        shown = unmask(client, agent, carol_id, field="email", reason=REASON)
        assert shown.json()["unmasked_today"] == expected
    clock.set(datetime(2026, 11, 22, 0, 0, 1, tzinfo=UTC))
    sign_in_with_security_key(client, agent)  # the old session timed out overnight
    assert (
        unmask(client, agent, carol_id, field="email", reason=REASON).json()["unmasked_today"] == 1
    )


@pytest.fixture
def second_agent(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> Person:
    """Another support agent, at the highest level."""
    return staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="SUPPORT", level="admin", username="ola"
    )


def test_unmask_count_when_another_agent_unmasks_then_counted_separately(
    client: TestClient, customer: Person, agent: Person, second_agent: Person
) -> None:
    carol_id = user_id_of(client, customer)
    assert unmask(client, agent, carol_id, field="email", reason=REASON).status_code == 200
    counted = unmask(client, second_agent, carol_id, field="email", reason=REASON)
    assert counted.json()["unmasked_today"] == 1


@pytest.mark.parametrize("user_id", ["01a1fd70-0000-7000-8000-000000000000", "nobody"])
def test_view_and_unmask_when_user_unknown_then_not_found(
    client: TestClient, agent: Person, clean_database, user_id: str
) -> None:
    assert_refused(view(client, agent, user_id), 404, "NOT_FOUND")
    assert_refused(unmask(client, agent, user_id, field="email", reason=REASON), 404, "NOT_FOUND")
    assert data_access_rows(clean_database.engine) == []
