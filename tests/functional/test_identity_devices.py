"""Devices and IP allowlists through the HTTP API.

A device is told apart by the hints the client sends and what the server sees (user
agent, language, network); a full sign-in from a device the account has not approved
emails the owner a link to approve it and one to report it. TestClient's own address
(``testclient``) is not an IP address, so allowlist tests use clients with real ones.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import (
    Person,
    audit_event_types,
    bearer,
    client_at,
    device_link_token,
    login,
    reason_of,
    sign_in_with_totp,
    signed_up_with_totp,
    step_up_with_totp,
    totp_now,
)

from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

PHONE = {"id": "a1f7c3d2-phone", "name": "Alice's phone", "platform": "iOS"}
TABLET = {"id": "9b2e41aa-tablet", "name": "Alice's tablet", "platform": "Android"}
NEW_DEVICE = "security.new_device"
OFFICE = "203.0.113.7"
OFFICE_NETWORK = "203.0.113.0/24"
ELSEWHERE = "198.51.100.9"
WEEK_SECONDS = 7 * 86_400
CHROME_ON_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def _new_device_emails(mailbox: MemorySender) -> list[Any]:
    return [message for message in mailbox.emails if message.kind == NEW_DEVICE]


def _devices(client: TestClient, person: Person) -> list[dict[str, Any]]:
    response = client.get("/v1/devices", headers=person.headers)
    assert response.status_code == 200, response.text
    devices: list[dict[str, Any]] = response.json()
    return devices


def _tokens_work(client: TestClient, tokens: dict[str, Any]) -> tuple[int, str | None]:
    response = client.get("/v1/me", headers=bearer(tokens["access_token"]))
    return response.status_code, response.json().get("reason_code")


def _on_phone(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> tuple[Person, dict[str, Any], dict[str, Any]]:
    """Alice signed up (on the default client) and then signed in on her phone."""
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    laptop = dict(alice.tokens)
    phone = dict(sign_in_with_totp(client, alice, clock, device=PHONE))
    return alice, laptop, phone


# New-device notices and their links


def test_first_full_sign_in_records_device_and_emails_links_after_the_second_factor(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    challenge = login(client, alice, device=PHONE)
    assert challenge.json()["status"] == "mfa_required"
    assert _new_device_emails(mailbox) == []  # nothing before the second factor
    answer = {
        "challenge_id": challenge.json()["challenge_id"],
        "method": "totp",
        "code": totp_now(alice, clock),
    }
    verified = client.post("/v1/auth/mfa/verify", json=answer)
    assert verified.status_code == 200, verified.text
    (notice,) = _new_device_emails(mailbox)
    assert notice.to == alice.email
    assert "Alice's phone" in notice.text
    approve, report = (
        device_link_token(notice.text, "approve"),
        device_link_token(notice.text, "report"),
    )
    assert approve == report  # one single-use link token, two actions
    alice.tokens = verified.json()
    labels = {device["label"]: device["approved"] for device in _devices(client, alice)}
    assert labels["Alice's phone"] is False
    assert "auth.device.new" in audit_event_types(clean_database.engine)


def test_approve_link_marks_the_device_approved_once(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    alice, _, phone = _on_phone(client, mailbox, clock)
    token = device_link_token(mailbox.last_email(kind=NEW_DEVICE).text, "approve")
    approved = client.post("/v1/devices/approve", json={"token": token})
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved"] is True
    assert approved.json()["label"] == "Alice's phone"
    again = client.post("/v1/devices/approve", json={"token": token})
    assert reason_of(again) == (400, "DEVICE_LINK_INVALID")
    late_report = client.post("/v1/devices/report", json={"token": token})
    assert reason_of(late_report) == (400, "DEVICE_LINK_INVALID")
    assert _tokens_work(client, phone) == (200, None)
    listed = {device["label"]: device["approved"] for device in _devices(client, alice)}
    assert listed["Alice's phone"] is True
    assert "auth.device.approved" in audit_event_types(clean_database.engine)


def test_report_link_revokes_the_device_and_ends_its_sessions(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    alice, laptop, phone = _on_phone(client, mailbox, clock)
    token = device_link_token(mailbox.last_email(kind=NEW_DEVICE).text, "report")
    reported = client.post("/v1/devices/report", json={"token": token})
    assert reported.status_code == 200, reported.text
    assert _tokens_work(client, phone) == (401, "AUTH_SESSION_REVOKED")
    refresh = client.post("/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert reason_of(refresh) == (401, "AUTH_SESSION_REVOKED")
    assert _tokens_work(client, laptop) == (200, None)
    alice.tokens = laptop
    assert [device["label"] for device in _devices(client, alice)] == ["testclient"]
    again = client.post("/v1/devices/report", json={"token": token})
    assert reason_of(again) == (400, "DEVICE_LINK_INVALID")
    events = audit_event_types(clean_database.engine)
    assert {"auth.device.reported", "auth.session.revoked"} <= set(events)


def test_device_link_expires_after_a_week(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    _on_phone(client, mailbox, clock)
    token = device_link_token(mailbox.last_email(kind=NEW_DEVICE).text, "approve")
    clock.advance(seconds=WEEK_SECONDS)
    expired = client.post("/v1/devices/approve", json={"token": token})
    assert reason_of(expired) == (400, "DEVICE_LINK_INVALID")


def test_device_link_when_token_forged_then_refused(client: TestClient) -> None:
    forged = client.post("/v1/devices/approve", json={"token": "A" * 43})
    assert reason_of(forged) == (400, "DEVICE_LINK_INVALID")


def test_second_sign_in_from_the_same_device_sends_no_email_but_still_needs_mfa(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice, _, _ = _on_phone(client, mailbox, clock)
    mailbox.clear()
    challenge = login(client, alice, device=PHONE)
    assert challenge.json()["status"] == "mfa_required"
    sign_in_with_totp(client, alice, clock, device=PHONE)
    assert _new_device_emails(mailbox) == []
    assert len(_devices(client, alice)) == 2


def test_sign_in_from_another_device_or_browser_sends_a_new_email(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice, _, _ = _on_phone(client, mailbox, clock)
    mailbox.clear()
    sign_in_with_totp(client, alice, clock, device=TABLET)
    client.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
    sign_in_with_totp(client, alice, clock, device=PHONE)
    assert len(_new_device_emails(mailbox)) == 2
    assert len(_devices(client, alice)) == 4


# Listing and revoking devices


def test_list_devices_shows_each_device_most_recent_first(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice, _, _ = _on_phone(client, mailbox, clock)
    sign_in_with_totp(client, alice, clock, device=TABLET)
    devices = _devices(client, alice)
    assert [device["label"] for device in devices] == [
        "Alice's tablet",
        "Alice's phone",
        "testclient",
    ]
    assert set(devices[0]) == {"id", "name", "label", "first_seen_at", "last_seen_at", "approved"}
    assert [device["name"] for device in devices] == [
        "Alice's tablet",
        "Alice's phone",
        "testclient",
    ]


def test_device_from_a_browser_when_listed_and_announced_then_named_by_browser_and_system(
    app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> None:
    with client_at(app, OFFICE) as client:
        alice = signed_up_with_totp(client, mailbox, clock, Person())
        client.headers["User-Agent"] = CHROME_ON_MAC
        sign_in_with_totp(client, alice, clock, device={"id": "5f0c-browser"})
        notice = mailbox.last_email(kind=NEW_DEVICE)
        devices = _devices(client, alice)
        sessions = client.get("/v1/sessions", headers=alice.headers).json()
    assert "Device: Chrome 131 on macOS" in notice.text
    assert f"Address: {OFFICE}" in notice.text
    assert "When: 2026-" in notice.text
    assert CHROME_ON_MAC not in notice.text
    assert (devices[0]["name"], devices[0]["label"]) == ("Chrome 131 on macOS", CHROME_ON_MAC)
    assert (sessions[0]["device_name"], sessions[0]["user_agent"]) == (
        "Chrome 131 on macOS",
        CHROME_ON_MAC,
    )


def test_delete_device_revokes_it_and_ends_its_sessions(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    alice, laptop, phone = _on_phone(client, mailbox, clock)
    alice.tokens = laptop
    (phone_device,) = [d for d in _devices(client, alice) if d["label"] == "Alice's phone"]
    deleted = client.delete(f"/v1/devices/{phone_device['id']}", headers=alice.headers)
    assert deleted.status_code == 204, deleted.text
    assert _tokens_work(client, phone) == (401, "AUTH_SESSION_REVOKED")
    assert _tokens_work(client, laptop) == (200, None)
    assert [device["label"] for device in _devices(client, alice)] == ["testclient"]
    again = client.delete(f"/v1/devices/{phone_device['id']}", headers=alice.headers)
    assert reason_of(again) == (404, "NOT_FOUND")
    assert "auth.device.revoked" in audit_event_types(clean_database.engine)


def test_delete_device_of_another_user_then_404_and_device_kept(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice, _, phone = _on_phone(client, mailbox, clock)
    bob = signed_up_with_totp(client, mailbox, clock, Person("bob", "bob@example.com"))
    alice.tokens = phone
    alice_devices = _devices(client, alice)
    for device in alice_devices:
        refused = client.delete(f"/v1/devices/{device['id']}", headers=bob.headers)
        assert reason_of(refused) == (404, "NOT_FOUND")
    assert _devices(client, alice) == alice_devices
    assert _tokens_work(client, phone) == (200, None)


def test_devices_need_a_full_session(client: TestClient) -> None:
    assert reason_of(client.get("/v1/devices")) == (401, "AUTH_REQUIRED")


# IP allowlist


def _office_user(
    app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> tuple[TestClient, Person]:
    office = client_at(app, OFFICE)
    return office, signed_up_with_totp(office, mailbox, clock, Person())


def _set_allowlist(client: TestClient, person: Person, networks: list[str]) -> Any:
    return client.put(
        "/v1/account/ip-allowlist", json={"networks": networks}, headers=person.headers
    )


def test_ip_allowlist_when_it_excludes_the_callers_address_then_refused(
    app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> None:
    office, alice = _office_user(app, mailbox, clock)
    refused = _set_allowlist(office, alice, ["198.51.100.0/24"])
    assert reason_of(refused) == (400, "AUTH_IP_NOT_ALLOWED")
    assert office.get("/v1/me", headers=alice.headers).json()["ip_allowlist"] == []
    malformed = _set_allowlist(office, alice, [OFFICE_NETWORK, "203.0.113.0/99"])
    assert reason_of(malformed) == (422, "VALIDATION_FAILED")
    assert office.get("/v1/me", headers=alice.headers).json()["ip_allowlist"] == []


def test_ip_allowlist_when_client_address_is_not_an_ip_then_any_list_refused(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    refused = _set_allowlist(client, alice, ["0.0.0.0/0", "::/0"])
    assert reason_of(refused) == (400, "AUTH_IP_NOT_ALLOWED")


def test_ip_allowlist_needs_step_up(app: FastAPI, mailbox: MemorySender, clock: FixedClock) -> None:
    office, alice = _office_user(app, mailbox, clock)
    clock.advance(seconds=301)
    stale = _set_allowlist(office, alice, [OFFICE_NETWORK])
    assert reason_of(stale) == (403, "AUTH_STEP_UP_REQUIRED")
    step_up_with_totp(office, alice, clock)
    assert _set_allowlist(office, alice, [OFFICE_NETWORK]).status_code == 200


def test_ip_allowlist_refuses_requests_and_logins_from_elsewhere(
    app: FastAPI, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    office, alice = _office_user(app, mailbox, clock)
    elsewhere = client_at(app, ELSEWHERE)
    assert elsewhere.get("/v1/me", headers=alice.headers).status_code == 200
    networks = [OFFICE_NETWORK, "2001:db8::/32"]
    saved = _set_allowlist(office, alice, networks)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {"networks": networks}
    assert reason_of(elsewhere.get("/v1/me", headers=alice.headers)) == (
        403,
        "AUTH_IP_NOT_ALLOWED",
    )
    assert reason_of(login(elsewhere, alice)) == (403, "AUTH_IP_NOT_ALLOWED")
    assert office.get("/v1/me", headers=alice.headers).json()["ip_allowlist"] == networks
    neighbour = client_at(app, "203.0.113.200")
    assert login(neighbour, alice).json()["status"] == "mfa_required"
    events = audit_event_types(clean_database.engine)
    assert {"auth.ip_allowlist.changed", "auth.ip.refused"} <= set(events)


def test_ip_allowlist_cleared_allows_every_address_again(
    app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> None:
    office, alice = _office_user(app, mailbox, clock)
    elsewhere = client_at(app, ELSEWHERE)
    assert _set_allowlist(office, alice, [OFFICE_NETWORK]).status_code == 200
    assert _set_allowlist(office, alice, []).json() == {"networks": []}
    assert elsewhere.get("/v1/me", headers=alice.headers).status_code == 200
    assert login(elsewhere, alice).json()["status"] == "mfa_required"


def test_ip_allowlist_refuses_a_refresh_from_elsewhere_and_keeps_the_token(
    app: FastAPI, mailbox: MemorySender, clock: FixedClock
) -> None:
    office, alice = _office_user(app, mailbox, clock)
    assert _set_allowlist(office, alice, [OFFICE_NETWORK]).status_code == 200
    body = {"refresh_token": alice.tokens["refresh_token"]}
    refused = client_at(app, ELSEWHERE).post("/v1/auth/refresh", json=body)
    assert reason_of(refused) == (403, "AUTH_IP_NOT_ALLOWED")
    assert office.post("/v1/auth/refresh", json=body).status_code == 200


def test_ip_allowlist_refuses_the_second_factor_answered_from_elsewhere(
    app: FastAPI, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    office, alice = _office_user(app, mailbox, clock)
    assert _set_allowlist(office, alice, [OFFICE_NETWORK]).status_code == 200
    challenge = login(office, alice).json()["challenge_id"]
    answer = {"challenge_id": challenge, "method": "totp", "code": totp_now(alice, clock)}
    refused = client_at(app, ELSEWHERE).post("/v1/auth/mfa/verify", json=answer)
    assert reason_of(refused) == (403, "AUTH_IP_NOT_ALLOWED")
    assert office.post("/v1/auth/mfa/verify", json=answer).status_code == 200
    assert "auth.ip.refused" in audit_event_types(clean_database.engine)
