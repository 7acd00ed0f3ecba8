"""API keys through HTTP: create after step-up, sign requests, scopes, list, rotate, revoke."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functional.api_key_flows import keyed_trader, signed_call, with_probes
from functional.identity_flows import (
    Person,
    audit_event_types,
    client_at,
    reason_of,
    set_user_status,
    sign_in_with_totp,
    signed_up_with_totp,
    staff_signed_in,
    step_up_with_totp,
)
from support import TestDatabase, registry_of
from tradeguard.core.clock import FixedClock
from tradeguard.db.session import transaction
from tradeguard.notify.notifier import MemorySender

NINETY_DAYS = timedelta(days=90)


@pytest.fixture
def client(app: FastAPI) -> Any:
    with TestClient(
        with_probes(app), base_url="https://testserver", raise_server_exceptions=False
    ) as test:
        yield test


def _place(client: TestClient, key: dict[str, Any], clock: FixedClock) -> Any:
    return signed_call(client, key, clock, "POST", "/v1/probe/orders", payload={"qty": 1})


def test_signed_request_when_key_is_good_then_served_as_its_owner(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    _, key = keyed_trader(client, mailbox, clock)
    placed = signed_call(
        client, key, clock, "POST", "/v1/probe/orders", query="b=2&a=1", payload={"qty": 5}
    )
    assert placed.status_code == 200, placed.text
    assert placed.json() == {"body": {"qty": 5}, "query": "b=2&a=1"}
    assert signed_call(client, key, clock, "GET", "/v1/probe/account").status_code == 200
    assert signed_call(client, key, clock, "DELETE", "/v1/probe/orders/o-1").json() == {
        "cancelled": "o-1"
    }


def test_create_key_when_not_stepped_up_then_refused(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    clock.advance(seconds=600)
    created = client.post(
        "/v1/api-keys", json={"scope": "data", "label": "x"}, headers=alice.headers
    )
    assert reason_of(created) == (403, "AUTH_STEP_UP_REQUIRED")
    assert "apikey.created" not in audit_event_types(registry_of(client.app).services.engine)


def test_create_key_then_secret_shown_once_and_listed_without_it(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice, key = keyed_trader(client, mailbox, clock, scope="data", ip_allowlist=["10.1.2.3/8"])
    assert (key["scope"], key["status"], key["expiring_soon"]) == ("data", "active", False)
    assert key["ip_allowlist"] == ["10.0.0.0/8"]
    assert key["key_id"].startswith("tgk_")
    assert len(key["secret"]) >= 43
    assert key["expires_at"] == _rfc3339(clock, NINETY_DAYS)
    [shown] = client.get("/v1/api-keys", headers=alice.headers).json()
    assert "secret" not in shown
    assert shown["key_id"] == key["key_id"]
    assert "apikey.created" in audit_event_types(registry_of(client.app).services.engine)


@pytest.mark.parametrize(
    "ask",
    [
        {"scope": "withdrawals", "label": "x"},
        {"scope": "trading", "label": ""},
        {"scope": "trading", "label": "x", "expires_in_days": 91},
        {"scope": "trading", "label": "x", "ip_allowlist": ["10.0.0.0/99"]},
        {"scope": "trading", "label": "x", "extra": 1},
    ],
)
def test_create_key_when_request_is_invalid_then_422_and_nothing_created(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, ask: dict[str, Any]
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    step_up_with_totp(client, alice, clock)
    assert reason_of(client.post("/v1/api-keys", json=ask, headers=alice.headers)) == (
        422,
        "VALIDATION_FAILED",
    )
    assert client.get("/v1/api-keys", headers=alice.headers).json() == []


def test_scope_when_data_key_places_an_order_then_refused_but_it_reads(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    _, key = keyed_trader(client, mailbox, clock, scope="data")
    assert reason_of(_place(client, key, clock)) == (403, "APIKEY_SCOPE")
    assert reason_of(signed_call(client, key, clock, "DELETE", "/v1/probe/orders/1")) == (
        403,
        "APIKEY_SCOPE",
    )
    assert signed_call(client, key, clock, "GET", "/v1/probe/account").status_code == 200


@pytest.mark.parametrize(
    "call",
    [
        ("POST", "/v1/probe/withdrawals", None),
        ("GET", "/v1/api-keys", None),
        ("POST", "/v1/api-keys", {"scope": "trading", "label": "more"}),
        ("GET", "/v1/me", None),
        ("GET", "/v1/sessions", None),
    ],
)
def test_scope_when_trading_key_reaches_money_or_account_routes_then_refused(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, call: tuple[str, str, Any]
) -> None:
    _, key = keyed_trader(client, mailbox, clock)
    method, path, payload = call
    refused = signed_call(client, key, clock, method, path, payload=payload)
    assert reason_of(refused) == (403, "APIKEY_SCOPE")


def test_rotate_when_successor_issued_then_old_key_works_through_the_overlap_only(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice, old = keyed_trader(client, mailbox, clock)
    rotated = client.post(f"/v1/api-keys/{old['id']}/rotate", headers=alice.headers)
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert new["key_id"] != old["key_id"]
    assert new["secret"] != old["secret"]
    assert (new["scope"], new["label"]) == (old["scope"], old["label"])
    assert _place(client, new, clock).status_code == 200
    assert _place(client, old, clock).status_code == 200
    listed = {k["key_id"]: k for k in client.get("/v1/api-keys", headers=alice.headers).json()}
    assert listed[old["key_id"]]["status"] == "rotated"
    assert listed[old["key_id"]]["replaced_by"] == new["id"]
    clock.advance(seconds=24 * 3600 + 1)
    registry_of(client.app).api_key_verifier.directory.forget_all()
    assert reason_of(_place(client, old, clock)) == (401, "APIKEY_INVALID")
    assert _place(client, new, clock).status_code == 200
    assert "apikey.rotated" in audit_event_types(registry_of(client.app).services.engine)


def test_rotate_when_key_is_revoked_then_404(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice, key = keyed_trader(client, mailbox, clock)
    assert client.delete(f"/v1/api-keys/{key['id']}", headers=alice.headers).status_code == 200
    assert reason_of(client.post(f"/v1/api-keys/{key['id']}/rotate", headers=alice.headers)) == (
        404,
        "NOT_FOUND",
    )


def test_revoke_when_owner_revokes_then_next_request_refused_and_audited(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice, key = keyed_trader(client, mailbox, clock)
    assert _place(client, key, clock).status_code == 200  # cached as usable
    revoked = client.delete(f"/v1/api-keys/{key['id']}", headers=alice.headers)
    assert revoked.json()["status"] == "revoked"
    assert reason_of(_place(client, key, clock)) == (401, "APIKEY_INVALID")
    registry_of(client.app).access_checks.flush()
    events = audit_event_types(registry_of(client.app).services.engine)
    assert "apikey.revoked" in events
    assert "apikey.request.refused" in events


def test_keys_of_another_user_when_rotated_or_revoked_then_404_and_unchanged(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    _, key = keyed_trader(client, mailbox, clock, Person(username="alice", email="a@example.com"))
    mallory = signed_up_with_totp(
        client, mailbox, clock, Person(username="mallory", email="m@example.com")
    )
    step_up_with_totp(client, mallory, clock)
    for attempt in (
        client.delete(f"/v1/api-keys/{key['id']}", headers=mallory.headers),
        client.post(f"/v1/api-keys/{key['id']}/rotate", headers=mallory.headers),
    ):
        assert reason_of(attempt) == (404, "NOT_FOUND")
    assert client.get("/v1/api-keys", headers=mallory.headers).json() == []
    assert _place(client, key, clock).status_code == 200


def test_reported_key_when_compliance_revokes_it_then_refused_and_owner_emailed(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database: TestDatabase,
) -> None:
    _, key = keyed_trader(client, mailbox, clock, Person(username="alice", email="a@example.com"))
    officer = staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="COMPLIANCE", level="operator"
    )
    found = client.get(f"/v1/admin/api-keys/{key['key_id']}", headers=officer.headers)
    assert found.json()["owner"] == key["owner"]
    assert "secret" not in found.json()
    revoked = client.post(
        f"/v1/admin/api-keys/{key['key_id']}/revoke",
        json={"reason": "posted on a public forum"},
        headers=officer.headers,
    )
    assert revoked.json()["status"] == "revoked", revoked.text
    assert reason_of(_place(client, key, clock)) == (401, "APIKEY_INVALID")
    assert any(
        m.to == "a@example.com" and "posted on a public forum" in m.text for m in mailbox.emails
    )


def test_reported_key_when_a_trader_tries_to_revoke_it_then_access_denied(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    _, key = keyed_trader(client, mailbox, clock, Person(username="alice", email="a@example.com"))
    bob = signed_up_with_totp(client, mailbox, clock, Person(username="bob", email="b@example.com"))
    attempt = client.post(
        f"/v1/admin/api-keys/{key['key_id']}/revoke",
        json={"reason": "reported"},
        headers=bob.headers,
    )
    assert reason_of(attempt) == (403, "ACCESS_DENIED")
    assert _place(client, key, clock).status_code == 200


def test_staff_key_when_role_has_nothing_the_scope_allows_then_refused(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database: TestDatabase
) -> None:
    admin = staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="ADMIN", level="admin"
    )
    clock.advance(seconds=1)
    created = client.post(
        "/v1/api-keys", json={"scope": "trading", "label": "x"}, headers=admin.headers
    )
    assert reason_of(created) == (403, "APIKEY_SCOPE")


def test_expiry_when_key_expires_within_two_weeks_then_flagged_and_emailed_once(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice, key = keyed_trader(client, mailbox, clock, expires_in_days=20)
    assert key["expiring_soon"] is False
    clock.advance(seconds=7 * 86400)
    sign_in_with_totp(client, alice, clock)
    [listed] = client.get("/v1/api-keys", headers=alice.headers).json()
    assert listed["expiring_soon"] is True
    service = registry_of(client.app).api_keys
    with transaction(registry_of(client.app).services.sessions) as db:
        assert service.warn_expiring(db) == 1
    with transaction(registry_of(client.app).services.sessions) as db:
        assert service.warn_expiring(db) == 0
    warnings = [m for m in mailbox.emails if m.kind == "apikey.expiring"]
    assert [m.to for m in warnings] == [alice.email]
    assert key["key_id"] in warnings[0].text


def test_expiry_when_key_has_expired_then_refused(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice, key = keyed_trader(client, mailbox, clock, expires_in_days=1)
    clock.advance(seconds=86400 + 1)
    registry_of(client.app).api_key_verifier.directory.forget_all()
    assert reason_of(_place(client, key, clock)) == (401, "APIKEY_INVALID")
    sign_in_with_totp(client, alice, clock)
    [listed] = client.get("/v1/api-keys", headers=alice.headers).json()
    assert listed["status"] == "expired"


def test_ip_allowlist_when_request_comes_from_outside_then_refused(
    app: FastAPI, client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    _, key = keyed_trader(client, mailbox, clock, ip_allowlist=["203.0.113.0/24"])
    with client_at(app, "198.51.100.7") as elsewhere:
        assert reason_of(_place(elsewhere, key, clock)) == (403, "APIKEY_IP_NOT_ALLOWED")
    with client_at(app, "203.0.113.9") as office:
        assert _place(office, key, clock).status_code == 200


def test_owner_when_suspended_then_their_keys_stop(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database: TestDatabase
) -> None:
    alice, key = keyed_trader(client, mailbox, clock)
    set_user_status(clean_database.engine, alice.username, "suspended")
    verifier = registry_of(client.app).api_key_verifier
    verifier.directory.forget_all()  # as a second of real time would
    assert reason_of(_place(client, key, clock)) == (401, "AUTH_ACCOUNT_SUSPENDED")


def _rfc3339(clock: FixedClock, after: timedelta) -> str:
    return (clock.now() + after).strftime("%Y-%m-%dT%H:%M:%S.000000000Z")
