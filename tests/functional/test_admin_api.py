"""Admin API: find users, suspend and reactivate, two-admin role changes, audit history,
run-time settings; every change audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import (
    Person,
    assert_refused,
    audit_event_types,
    login,
    refresh,
    sign_in_with_totp,
    sign_up,
    signed_up_with_totp,
    staff_signed_in,
)
from sqlalchemy import Engine, text

from support import registry_of
from tradeguard.access.runtime_settings import RuntimeSettings
from tradeguard.audit.search import AuditEvent
from tradeguard.core.clock import FixedClock
from tradeguard.db.session import transaction
from tradeguard.notify.notifier import MemorySender

USERS = "/v1/admin/users"
ROLE_CHANGES = "/v1/admin/role-changes"
CONFIG = "/v1/admin/config"


@dataclass
class Admins:
    """Two administrators (ADMIN role at the admin level), signed in."""

    ada: Person
    bert: Person


@pytest.fixture
def engine(clean_database) -> Engine:
    return clean_database.engine


@pytest.fixture
def admins(client: TestClient, mailbox: MemorySender, clock: FixedClock, engine: Engine) -> Admins:
    def admin(username: str) -> Person:
        return staff_signed_in(
            client, mailbox, clock, engine, role="ADMIN", level="admin", username=username
        )

    return Admins(admin("ada"), admin("bert"))


def person(username: str) -> Person:
    return Person(username=username, email=f"{username}@example.com")


def user_id(engine: Engine, username: str) -> str:
    with engine.connect() as connection:
        found = connection.scalar(
            text("SELECT id FROM users WHERE username = :name"), {"name": username}
        )
    assert isinstance(found, str), username
    return found


def events_of(engine: Engine, event_type: str) -> list[AuditEvent]:
    with engine.connect() as connection:
        records = connection.scalars(
            text("SELECT record FROM audit_events WHERE event_type = :type ORDER BY seq"),
            {"type": event_type},
        )
        return [AuditEvent.from_record(bytes(record)) for record in records]


def usernames(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [user["username"] for user in response.json()["users"]]


def request_change(
    client: TestClient, by: Person, target: str, role: str, level: str | None
) -> Any:
    return client.post(
        f"{USERS}/{target}/role-changes",
        json={"role": role, "access_level": level, "reason": "team change, ticket OPS-12"},
        headers=by.headers,
    )


# Listing and searching.


def test_list_users_when_username_prefix_then_only_matches_in_pages(
    client: TestClient, mailbox: MemorySender, admins: Admins
) -> None:
    for name in ("carol", "carlos", "dave"):
        sign_up(client, mailbox, person(name))

    found = client.get(USERS, params={"q": "CAR"}, headers=admins.ada.headers)
    first = client.get(USERS, params={"q": "car", "limit": 1}, headers=admins.ada.headers)
    cursor = first.json()["next_after"]
    second = client.get(
        USERS, params={"q": "car", "limit": 1, "after": cursor}, headers=admins.ada.headers
    )

    assert sorted(usernames(found)) == ["carlos", "carol"]
    assert found.json()["next_after"] is None
    assert len(usernames(first)) == 1
    assert usernames(second) != usernames(first)
    assert sorted(usernames(first) + usernames(second)) == ["carlos", "carol"]
    assert second.json()["next_after"] is None


def test_list_users_when_exact_email_then_found_by_its_blind_index(
    client: TestClient, mailbox: MemorySender, admins: Admins, engine: Engine
) -> None:
    sign_up(client, mailbox, person("carol"))
    sign_up(client, mailbox, person("carlos"))

    exact = client.get(USERS, params={"q": "Carol@EXAMPLE.com"}, headers=admins.ada.headers)
    partial = client.get(USERS, params={"q": "carol@example"}, headers=admins.ada.headers)

    assert usernames(exact) == ["carol"]
    assert "email" not in exact.json()["users"][0]  # lists decrypt nothing
    assert usernames(partial) == []
    searched = events_of(engine, "admin.users.searched")
    assert searched[0].data["by_email"] is True
    assert "carol@" not in str(searched[0].data).casefold()  # the address is not in the trail


def test_list_users_when_filtered_by_status_and_role_then_only_those(
    client: TestClient, mailbox: MemorySender, admins: Admins, engine: Engine
) -> None:
    sign_up(client, mailbox, person("carol"))
    sign_up(client, mailbox, person("dave"))
    carol = user_id(engine, "carol")
    suspended = client.post(
        f"{USERS}/{carol}/suspend", json={"reason": "fraud hold"}, headers=admins.ada.headers
    )
    assert suspended.status_code == 200, suspended.text

    by_status = client.get(USERS, params={"status": "suspended"}, headers=admins.ada.headers)
    by_role = client.get(USERS, params={"role": "ADMIN"}, headers=admins.ada.headers)
    traders = client.get(
        USERS, params={"role": "TRADER", "status": "active"}, headers=admins.ada.headers
    )

    assert usernames(by_status) == ["carol"]
    assert sorted(usernames(by_role)) == ["ada", "bert"]
    assert usernames(traders) == ["dave"]


def test_read_user_then_admin_view_without_secrets(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, admins: Admins, engine: Engine
) -> None:
    carol = signed_up_with_totp(client, mailbox, clock, person("carol"))
    carol_id = user_id(engine, "carol")

    shown = client.get(f"{USERS}/{carol_id}", headers=admins.ada.headers)

    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert (body["id"], body["username"], body["email"]) == (carol_id, "carol", carol.email)
    assert (body["role"], body["access_level"], body["status"]) == ("TRADER", None, "active")
    assert "order:place" in body["permissions"]
    assert [factor["kind"] for factor in body["factors"]] == ["totp"]
    assert body["live_sessions"] == 1
    assert body["pending_role_change"] is None
    assert carol.totp_secret is not None
    assert carol.totp_secret not in shown.text
    assert "argon2" not in shown.text
    assert "password" not in shown.text
    assert events_of(engine, "admin.user.viewed")[0].subject == carol_id


# Suspension.


def test_suspend_then_sessions_end_tokens_are_refused_and_it_is_audited(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, admins: Admins, engine: Engine
) -> None:
    carol = signed_up_with_totp(client, mailbox, clock, person("carol"))
    carol_id = user_id(engine, "carol")

    suspended = client.post(
        f"{USERS}/{carol_id}/suspend", json={"reason": "fraud hold"}, headers=admins.ada.headers
    )

    assert suspended.status_code == 200, suspended.text
    assert (suspended.json()["status"], suspended.json()["live_sessions"]) == ("suspended", 0)
    assert_refused(client.get("/v1/me", headers=carol.headers), 401, "AUTH_SESSION_REVOKED")
    assert_refused(refresh(client, carol.tokens["refresh_token"]), 401, "AUTH_SESSION_REVOKED")
    assert_refused(login(client, carol), 403, "AUTH_ACCOUNT_SUSPENDED")
    [event] = events_of(engine, "admin.user.suspended")
    assert (event.subject, event.data["reason"]) == (carol_id, "fraud hold")
    assert (event.actor.kind, event.actor.id) == ("staff", user_id(engine, "ada"))
    [account_event] = events_of(engine, "auth.account.suspended")
    assert account_event.actor.id == user_id(engine, "ada")


def test_reactivate_when_suspended_then_sign_in_works_again(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, admins: Admins, engine: Engine
) -> None:
    carol = signed_up_with_totp(client, mailbox, clock, person("carol"))
    carol_id = user_id(engine, "carol")
    client.post(f"{USERS}/{carol_id}/suspend", json={"reason": "hold"}, headers=admins.ada.headers)

    again = client.post(
        f"{USERS}/{carol_id}/reactivate", json={"reason": "cleared"}, headers=admins.ada.headers
    )

    assert again.status_code == 200, again.text
    assert again.json()["status"] == "active"
    sign_in_with_totp(client, carol, clock)
    assert client.get("/v1/me", headers=carol.headers).status_code == 200
    assert "admin.user.reactivated" in audit_event_types(engine)


def test_suspend_when_already_suspended_or_reason_missing_then_refused(
    client: TestClient, mailbox: MemorySender, admins: Admins, engine: Engine
) -> None:
    sign_up(client, mailbox, person("carol"))
    carol_id = user_id(engine, "carol")
    path = f"{USERS}/{carol_id}/suspend"
    client.post(path, json={"reason": "hold"}, headers=admins.ada.headers)

    twice = client.post(path, json={"reason": "hold"}, headers=admins.ada.headers)
    no_reason = client.post(path, json={}, headers=admins.ada.headers)
    blank = client.post(path, json={"reason": "   "}, headers=admins.ada.headers)

    assert_refused(twice, 409, "ADMIN_STATUS_UNCHANGED")
    assert_refused(no_reason, 422, "VALIDATION_FAILED")
    assert_refused(blank, 422, "VALIDATION_FAILED")
    assert len(events_of(engine, "admin.user.suspended")) == 1


# Role changes.


def test_role_change_when_requested_then_nothing_changes_until_approved(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, admins: Admins, engine: Engine
) -> None:
    sam = staff_signed_in(
        client, mailbox, clock, engine, role="SUPPORT", level="read-only", username="sam"
    )
    sam_id = user_id(engine, "sam")

    requested = request_change(client, admins.ada, sam_id, "SUPPORT", "operator")

    assert requested.status_code == 201, requested.text
    change = requested.json()
    assert (change["status"], change["user_id"]) == ("requested", sam_id)
    assert change["requested_by"] == user_id(engine, "ada")
    assert (change["decided_by"], change["decided_at"]) == (None, None)
    me = client.get("/v1/me", headers=sam.headers)
    assert me.status_code == 200
    assert "support:users:unmask" not in me.json()["permissions"]
    shown = client.get(f"{USERS}/{sam_id}", headers=admins.bert.headers).json()
    assert shown["pending_role_change"]["id"] == change["id"]
    [event] = events_of(engine, "admin.role_change.requested")
    assert event.data["role_before"] == "SUPPORT"
    assert event.data["level_before"] == "read-only"
    assert (event.data["role"], event.data["access_level"]) == ("SUPPORT", "operator")


def test_role_change_when_approved_by_another_admin_then_stale_tokens_and_refresh_gives_it(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, admins: Admins, engine: Engine
) -> None:
    sam = staff_signed_in(
        client, mailbox, clock, engine, role="SUPPORT", level="read-only", username="sam"
    )
    change = request_change(client, admins.ada, user_id(engine, "sam"), "SUPPORT", "operator")

    approved = client.post(
        f"{ROLE_CHANGES}/{change.json()['id']}/approve", headers=admins.bert.headers
    )

    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == user_id(engine, "bert")
    assert_refused(client.get("/v1/me", headers=sam.headers), 401, "AUTH_TOKEN_STALE")
    renewed = refresh(client, sam.tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    sam.tokens = renewed.json()
    me = client.get("/v1/me", headers=sam.headers)
    assert me.status_code == 200
    assert "support:users:unmask" in me.json()["permissions"]
    [event] = events_of(engine, "admin.role_change.approved")
    assert event.actor.id == user_id(engine, "bert")
    assert mailbox.last_email(to=sam.email, kind="security.role_changed")


def test_role_change_when_denied_then_nothing_changes_and_tokens_still_work(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, admins: Admins, engine: Engine
) -> None:
    sam = staff_signed_in(
        client, mailbox, clock, engine, role="SUPPORT", level="read-only", username="sam"
    )
    change = request_change(client, admins.ada, user_id(engine, "sam"), "SUPPORT", "operator")

    denied = client.post(f"{ROLE_CHANGES}/{change.json()['id']}/deny", headers=admins.bert.headers)

    assert denied.status_code == 200, denied.text
    assert denied.json()["status"] == "denied"
    me = client.get("/v1/me", headers=sam.headers)
    assert me.status_code == 200
    assert "support:users:unmask" not in me.json()["permissions"]
    assert "admin.role_change.denied" in audit_event_types(engine)
    assert "admin.role_change.approved" not in audit_event_types(engine)


def test_role_change_when_a_customer_becomes_staff_then_their_sessions_end(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, admins: Admins, engine: Engine
) -> None:
    carol = signed_up_with_totp(client, mailbox, clock, person("carol"))
    change = request_change(client, admins.ada, user_id(engine, "carol"), "SUPPORT", "read-only")

    approved = client.post(
        f"{ROLE_CHANGES}/{change.json()['id']}/approve", headers=admins.bert.headers
    )

    assert approved.status_code == 200, approved.text
    assert_refused(client.get("/v1/me", headers=carol.headers), 401, "AUTH_SESSION_REVOKED")
    assert_refused(refresh(client, carol.tokens["refresh_token"]), 401, "AUTH_SESSION_REVOKED")
    shown = client.get(f"{USERS}/{user_id(engine, 'carol')}", headers=admins.ada.headers).json()
    assert (shown["role"], shown["access_level"], shown["live_sessions"]) == (
        "SUPPORT",
        "read-only",
        0,
    )


def test_role_change_when_a_change_is_pending_or_nothing_would_change_then_409(
    client: TestClient, mailbox: MemorySender, admins: Admins, engine: Engine
) -> None:
    sign_up(client, mailbox, person("carol"))
    carol_id = user_id(engine, "carol")

    same = request_change(client, admins.ada, carol_id, "TRADER", None)
    first = request_change(client, admins.ada, carol_id, "COMPLIANCE", "read-only")
    second = request_change(client, admins.bert, carol_id, "SUPPORT", "read-only")

    assert_refused(same, 409, "ADMIN_ROLE_UNCHANGED")
    assert first.status_code == 201, first.text
    assert_refused(second, 409, "ADMIN_ROLE_CHANGE_PENDING")


def test_role_change_when_level_does_not_fit_the_role_then_422(
    client: TestClient, mailbox: MemorySender, admins: Admins, engine: Engine
) -> None:
    sign_up(client, mailbox, person("carol"))
    carol_id = user_id(engine, "carol")

    staff_without_level = request_change(client, admins.ada, carol_id, "SUPPORT", None)
    customer_with_level = request_change(client, admins.ada, carol_id, "TRADER", "admin")
    unknown_role = request_change(client, admins.ada, carol_id, "ROOT", "admin")
    unknown_level = request_change(client, admins.ada, carol_id, "SUPPORT", "god")

    assert_refused(staff_without_level, 422, "ADMIN_ACCESS_LEVEL_INVALID")
    assert_refused(customer_with_level, 422, "ADMIN_ACCESS_LEVEL_INVALID")
    assert_refused(unknown_role, 422, "VALIDATION_FAILED")
    assert_refused(unknown_level, 422, "VALIDATION_FAILED")
    assert "admin.role_change.requested" not in audit_event_types(engine)


def test_list_role_changes_when_filtered_by_status_then_only_those(
    client: TestClient, mailbox: MemorySender, admins: Admins, engine: Engine
) -> None:
    for name in ("carol", "dave"):
        sign_up(client, mailbox, person(name))
    approved = request_change(client, admins.ada, user_id(engine, "carol"), "SUPPORT", "operator")
    pending = request_change(client, admins.ada, user_id(engine, "dave"), "SUPPORT", "operator")
    client.post(f"{ROLE_CHANGES}/{approved.json()['id']}/approve", headers=admins.bert.headers)

    def listed(**params: Any) -> list[str]:
        response = client.get(ROLE_CHANGES, params=params, headers=admins.ada.headers)
        assert response.status_code == 200, response.text
        return [change["id"] for change in response.json()["role_changes"]]

    assert listed(status="requested") == [pending.json()["id"]]
    assert listed(status="approved") == [approved.json()["id"]]
    assert listed(status="denied") == []
    assert listed() == [approved.json()["id"], pending.json()["id"]]
    assert listed(limit=1, after=approved.json()["id"]) == [pending.json()["id"]]


# Audit history.


def test_user_audit_history_then_events_about_the_user_in_pages(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, admins: Admins, engine: Engine
) -> None:
    signed_up_with_totp(client, mailbox, clock, person("carol"))
    carol_id = user_id(engine, "carol")
    path = f"{USERS}/{carol_id}/audit"

    everything = client.get(path, params={"limit": 1000}, headers=admins.ada.headers)
    first = client.get(path, params={"limit": 2}, headers=admins.ada.headers)
    cursor = first.json()["next_after_seq"]
    second = client.get(path, params={"limit": 2, "after_seq": cursor}, headers=admins.ada.headers)

    assert everything.status_code == 200, everything.text
    events = everything.json()["events"]
    assert {event["subject"] for event in events} == {carol_id}
    assert "auth.register.created" in [event["type"] for event in events]
    assert [event["seq"] for event in first.json()["events"]] == [e["seq"] for e in events[:2]]
    assert [event["seq"] for event in second.json()["events"]] == [e["seq"] for e in events[2:4]]
    viewed = events_of(engine, "admin.user.audit_viewed")
    assert [event.subject for event in viewed] == [carol_id] * 3


# Run-time settings.


def test_config_when_read_then_every_runtime_setting_with_default_and_range(
    client: TestClient, admins: Admins, app: FastAPI
) -> None:
    shown = client.get(CONFIG, headers=admins.ada.headers)

    assert shown.status_code == 200, shown.text
    settings = {entry["key"]: entry for entry in shown.json()}
    assert set(settings) == {
        "anomaly_denials",
        "anomaly_distinct_records",
        "anomaly_window_seconds",
        "grant_max_hours",
        "staff_hours_end",
        "staff_hours_start",
    }
    configured = registry_of(app).services.settings
    assert settings["anomaly_denials"]["value"] == configured.anomaly_denials
    assert settings["grant_max_hours"] == {
        "key": "grant_max_hours",
        "value": 8,
        "default": 8,
        "minimum": 1,
        "maximum": 72,
        "description": "Longest a time-limited staff grant may last",
        "updated_at": None,
        "updated_by": None,
    }


def test_config_when_changed_then_in_force_for_readers_and_audited_before_and_after(
    client: TestClient, admins: Admins, app: FastAPI, engine: Engine
) -> None:
    first = client.put(f"{CONFIG}/anomaly_denials", json={"value": 5}, headers=admins.ada.headers)
    second = client.put(f"{CONFIG}/anomaly_denials", json={"value": 7}, headers=admins.bert.headers)

    assert first.status_code == 200, first.text
    assert (second.json()["value"], second.json()["default"]) == (7, 10)
    assert second.json()["updated_by"] == user_id(engine, "bert")
    listed = {
        entry["key"]: entry["value"]
        for entry in client.get(CONFIG, headers=admins.ada.headers).json()
    }
    assert listed["anomaly_denials"] == 7
    settings = registry_of(app).services.settings
    with transaction(registry_of(app).services.sessions) as db:
        assert RuntimeSettings.current(db, settings, "anomaly_denials") == 7
        assert RuntimeSettings.get(db, "anomaly_window_seconds", 123) == 123
        assert RuntimeSettings.current(db, settings, "grant_max_hours") == 8
        with pytest.raises(KeyError):
            RuntimeSettings.get(db, "database_url", 0)
    changes = events_of(engine, "admin.config.changed")
    assert [event.data for event in changes] == [
        {"key": "anomaly_denials", "before": 10, "after": 5},
        {"key": "anomaly_denials", "before": 5, "after": 7},
    ]
    assert changes[0].actor.id == user_id(engine, "ada")


def test_config_when_value_out_of_range_unknown_or_not_an_integer_then_refused(
    client: TestClient, admins: Admins, engine: Engine
) -> None:
    def put(key: str, value: Any) -> Any:
        return client.put(f"{CONFIG}/{key}", json={"value": value}, headers=admins.ada.headers)

    assert_refused(put("grant_max_hours", 73), 422, "ADMIN_SETTING_OUT_OF_RANGE")
    assert_refused(put("staff_hours_start", -1), 422, "ADMIN_SETTING_OUT_OF_RANGE")
    assert_refused(put("anomaly_window_seconds", 59), 422, "ADMIN_SETTING_OUT_OF_RANGE")
    assert_refused(put("database_url", 1), 404, "ADMIN_SETTING_UNKNOWN")
    assert_refused(put("session_idle_seconds", 60), 404, "ADMIN_SETTING_UNKNOWN")
    assert_refused(put("grant_max_hours", 2.5), 422, "VALIDATION_FAILED")
    assert_refused(put("grant_max_hours", "4"), 422, "VALIDATION_FAILED")
    assert_refused(put("grant_max_hours", value=True), 422, "VALIDATION_FAILED")
    assert put("grant_max_hours", 72).status_code == 200
    assert len(events_of(engine, "admin.config.changed")) == 1


def test_config_when_engineer_level_admin_then_config_allowed_but_users_denied(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, engine: Engine
) -> None:
    eve = staff_signed_in(
        client, mailbox, clock, engine, role="ADMIN", level="engineer", username="eve"
    )

    assert client.get(CONFIG, headers=eve.headers).status_code == 200
    assert_refused(client.get(USERS, headers=eve.headers), 403, "ACCESS_DENIED")
