"""Attacks on staff access: weaker factors, passkeys, idle sessions, support data, alerts."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from functional.identity_flows import (
    Person,
    answer_challenge,
    assert_refused,
    build_app,
    client_at,
    enrol_code_factor,
    make_staff,
    new_backup_codes,
    refresh,
    register_security_key,
    send_login_code,
    signed_up_with_totp,
    staff_signed_in,
    start_login,
    totp_now,
    wrong_code,
)
from support import registry_of
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.db.session import transaction
from tradeguard.notify.notifier import MemorySender
from unit.identity.webauthn_authenticator import SoftAuthenticator

PHONE = "+15555550177"
REASON = "ticket 9001: confirm the customer's contact details"
STAFF_KEY_REQUIRED = "AUTH_STAFF_HARDWARE_KEY_REQUIRED"
PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def count_rows(engine: Engine, table: str, where: str = "1 = 1") -> int:
    with engine.connect() as connection:
        found = connection.scalar(text(f"SELECT COUNT(*) FROM {table} WHERE {where}"))  # noqa: S608 - fixed test SQL
    return int(found or 0)


def sessions_started(engine: Engine) -> int:
    return count_rows(engine, "audit_events", "event_type = 'auth.session.started'")


def user_id(engine: Engine, username: str) -> str:
    with engine.connect() as connection:
        found = connection.scalar(
            text("SELECT id FROM users WHERE username = :name"), {"name": username}
        )
    assert isinstance(found, str), found
    return found


def register_platform_passkey(client: TestClient, person: Person) -> SoftAuthenticator:
    """Register a platform authenticator's passkey (resident) for ``person``."""
    laptop = SoftAuthenticator(rp_id="localhost", origin="https://localhost:8443")
    options = client.post(
        "/v1/mfa/webauthn/options", json={"authenticator": "platform"}, headers=person.headers
    )
    assert options.status_code == 200, options.text
    created = client.post(
        "/v1/mfa/webauthn",
        json={
            "challenge_id": options.json()["challenge_id"],
            "credential": laptop.create(options.json()["publicKey"]),
        },
        headers=person.headers,
    )
    assert created.status_code == 201, created.text
    return laptop


@dataclass
class Equipped:
    """A support agent with every factor: app, platform passkey, SMS, backup codes, key."""

    person: Person
    laptop: SoftAuthenticator
    backup_codes: list[str]


@pytest.fixture
def well_equipped(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> Equipped:
    """Sid enrols every kind of factor as a trader, then becomes a support agent."""
    person = signed_up_with_totp(client, mailbox, clock, Person(username="sid"))
    laptop = register_platform_passkey(client, person)
    enrol_code_factor(client, mailbox, person, "sms", phone=PHONE)
    codes = new_backup_codes(client, person)
    register_security_key(client, person)
    make_staff(clean_database.engine, "sid", "SUPPORT", "operator")
    return Equipped(person, laptop, codes)


# Signing in as staff without the security key


@pytest.mark.parametrize("right", [True, False])
def test_staff_sign_in_when_answered_with_totp_then_refused_without_checking_the_code(
    client: TestClient,
    clock: FixedClock,
    clean_database,
    well_equipped: Equipped,
    right: bool,  # noqa: FBT001 - a parameter of the test
) -> None:
    person = well_equipped.person
    before = sessions_started(clean_database.engine)
    challenge = start_login(client, person)
    assert challenge["methods"] == ["webauthn"]
    code = totp_now(person, clock)
    answered = answer_challenge(
        client, challenge["challenge_id"], "totp", code=code if right else wrong_code(code)
    )
    assert_refused(answered, 403, STAFF_KEY_REQUIRED)
    assert sessions_started(clean_database.engine) == before


def test_staff_sign_in_when_answered_with_sms_or_backup_code_then_refused(
    client: TestClient, clean_database, well_equipped: Equipped
) -> None:
    person, codes = well_equipped.person, well_equipped.backup_codes
    before = sessions_started(clean_database.engine)
    challenge_id = start_login(client, person)["challenge_id"]
    assert_refused(send_login_code(client, challenge_id, "sms"), 403, STAFF_KEY_REQUIRED)
    assert_refused(send_login_code(client, challenge_id, "email"), 403, STAFF_KEY_REQUIRED)
    backup = answer_challenge(client, challenge_id, "backup_code", code=codes[0])
    assert_refused(backup, 403, STAFF_KEY_REQUIRED)
    assert sessions_started(clean_database.engine) == before


def test_staff_sign_in_when_answered_with_a_platform_passkey_then_refused(
    client: TestClient, clean_database, well_equipped: Equipped
) -> None:
    person, laptop = well_equipped.person, well_equipped.laptop
    before = sessions_started(clean_database.engine)
    challenge_id = start_login(client, person)["challenge_id"]
    options = client.post("/v1/auth/mfa/webauthn/options", json={"challenge_id": challenge_id})
    assert options.status_code == 200, options.text
    public_key = options.json()["publicKey"]
    assert len(public_key["allowCredentials"]) == 1  # the key only, not the passkey
    forced = laptop.get({**public_key, "allowCredentials": []})  # a tampered client
    answered = answer_challenge(client, challenge_id, "webauthn", credential=forced)
    assert_refused(answered, 403, STAFF_KEY_REQUIRED)
    assert sessions_started(clean_database.engine) == before


def test_staff_passwordless_passkey_sign_in_when_tried_then_refused(
    client: TestClient, clean_database, well_equipped: Equipped
) -> None:
    laptop = well_equipped.laptop
    before = sessions_started(clean_database.engine)
    options = client.post("/v1/auth/passkey/options")
    assert options.status_code == 200, options.text
    answered = client.post(
        "/v1/auth/passkey/login",
        json={
            "challenge_id": options.json()["challenge_id"],
            "credential": laptop.get(options.json()["publicKey"]),
        },
    )
    assert_refused(answered, 403, STAFF_KEY_REQUIRED)
    assert sessions_started(clean_database.engine) == before


def test_trader_passwordless_passkey_sign_in_when_tried_then_signed_in(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    person = signed_up_with_totp(client, mailbox, clock, Person(username="tess"))
    laptop = register_platform_passkey(client, person)
    options = client.post("/v1/auth/passkey/options").json()
    answered = client.post(
        "/v1/auth/passkey/login",
        json={
            "challenge_id": options["challenge_id"],
            "credential": laptop.get(options["publicKey"]),
        },
    )
    assert answered.status_code == 200, answered.text


# Idle staff sessions


@pytest.fixture
def lenient_client(
    settings_for: Callable[..., Settings], clean_database, clock: FixedClock, mailbox: MemorySender
) -> Iterator[TestClient]:
    """A client of an app configured for hour-long tokens and idle timeouts."""
    settings = settings_for(
        access_token_seconds=3600,
        session_idle_seconds=3600,
        session_idle_seconds_by_role={"SUPPORT": 3600, "ADMIN": 86_400},
    )
    with client_at(build_app(settings, clean_database.engine, clock, mailbox)) as started:
        yield started


@pytest.mark.parametrize("role", ["SUPPORT", "ADMIN", "COMPLIANCE"])
def test_idle_staff_session_when_fifteen_minutes_pass_then_refused_despite_hour_setting(
    lenient_client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database, role: str
) -> None:
    staff = staff_signed_in(
        lenient_client, mailbox, clock, clean_database.engine, role=role, level="admin"
    )
    clock.advance(seconds=901)
    answered = lenient_client.get("/v1/support/users/anyone", headers=staff.headers)
    assert_refused(answered, 401, "AUTH_SESSION_EXPIRED")
    assert_refused(
        refresh(lenient_client, staff.tokens["refresh_token"]), 401, "AUTH_SESSION_REVOKED"
    )


# The support view


def staff_member(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, engine: Engine, spec: str
) -> Person:
    """A person signed in as ``ROLE/level`` (e.g. ``SUPPORT/read-only``, ``TRADER/``)."""
    role, level = spec.split("/")
    name = f"{role.lower()}-{level or 'none'}"
    return staff_signed_in(
        client, mailbox, clock, engine, role=role, level=level or None, username=name
    )


@dataclass
class Desk:
    """Carol, a customer with a phone number, and a way to sign staff in."""

    client: TestClient
    engine: Engine
    carol_id: str
    staff: Callable[[str], Person]

    def view(self, person: Person, customer_id: str) -> Any:
        return self.client.get(f"/v1/support/users/{customer_id}", headers=person.headers)

    def unmask(self, person: Person, customer_id: str, body: dict[str, Any]) -> Any:
        return self.client.post(
            f"/v1/support/users/{customer_id}/unmask", json=body, headers=person.headers
        )

    def support_rows(self) -> int:
        return count_rows(self.engine, "staff_data_access")


@pytest.fixture
def desk(client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database) -> Desk:
    engine = clean_database.engine
    carol = signed_up_with_totp(
        client, mailbox, clock, Person(username="carol", email="carol@example.com")
    )
    enrol_code_factor(client, mailbox, carol, "sms", phone=PHONE)
    return Desk(
        client,
        engine,
        user_id(engine, "carol"),
        lambda spec: staff_member(client, mailbox, clock, engine, spec),
    )


@pytest.mark.parametrize("spec", ["TRADER/", "ADMIN/admin", "COMPLIANCE/admin"])
def test_support_routes_when_called_without_support_permissions_then_access_denied(
    desk: Desk, spec: str
) -> None:
    caller = desk.staff(spec)
    shown = desk.view(caller, desk.carol_id)
    assert_refused(shown, 403, "ACCESS_DENIED")
    unmasked = desk.unmask(caller, desk.carol_id, {"field": "email", "reason": REASON})
    assert_refused(unmasked, 403, "ACCESS_DENIED")
    assert "carol@example.com" not in shown.text + unmasked.text
    assert desk.support_rows() == 0


def test_unmask_when_agent_is_read_only_then_access_denied_but_may_view(desk: Desk) -> None:
    reader = desk.staff("SUPPORT/read-only")
    assert desk.view(reader, desk.carol_id).status_code == 200
    refused = desk.unmask(reader, desk.carol_id, {"field": "email", "reason": REASON})
    assert_refused(refused, 403, "ACCESS_DENIED")
    assert "carol@example.com" not in refused.text


@pytest.mark.parametrize(
    "body",
    [
        {"field": "email"},
        {"field": "email", "reason": ""},
        {"field": "email", "reason": "          "},
        {"field": "email", "reason": "because"},
        {"field": "phone", "reason": None},
        {"field": "password", "reason": REASON},
        {"field": "email", "reason": REASON, "as_user": "admin"},
    ],
)
def test_unmask_when_reason_missing_or_request_odd_then_refused_and_nothing_shown(
    desk: Desk, body: dict[str, Any]
) -> None:
    agent = desk.staff("SUPPORT/operator")
    refused = desk.unmask(agent, desk.carol_id, body)
    assert_refused(refused, 422, "VALIDATION_FAILED")
    assert "carol@example.com" not in refused.text
    assert desk.support_rows() == 0
    assert count_rows(desk.engine, "audit_events", "event_type LIKE 'support.%'") == 0


@pytest.mark.parametrize("target", ["admin-admin", "support-operator"])
def test_support_view_when_target_is_a_staff_account_then_not_found(
    desk: Desk, target: str
) -> None:
    agent = desk.staff("SUPPORT/operator")
    if target == "admin-admin":
        desk.staff("ADMIN/admin")
    staff_id = user_id(desk.engine, target)
    assert_refused(desk.view(agent, staff_id), 404, "NOT_FOUND")
    unmasked = desk.unmask(agent, staff_id, {"field": "email", "reason": REASON})
    assert_refused(unmasked, 404, "NOT_FOUND")
    assert desk.support_rows() == 0


def test_unmask_when_phone_factor_of_another_customer_named_then_not_found(
    desk: Desk, mailbox: MemorySender, clock: FixedClock
) -> None:
    dave = signed_up_with_totp(desk.client, mailbox, clock, Person(username="dave"))
    agent = desk.staff("SUPPORT/operator")
    factor_id = desk.view(agent, desk.carol_id).json()["phones"][0]["factor_id"]
    body = {"field": "phone", "reason": REASON, "factor_id": factor_id}
    refused = desk.unmask(agent, user_id(desk.engine, dave.username), body)
    assert_refused(refused, 404, "NOT_FOUND")
    assert PHONE not in refused.text


def _get_routes(app: FastAPI) -> list[str]:
    return sorted(
        {
            route.path
            for route in app.routes
            if isinstance(route, APIRoute) and "GET" in route.methods
        }
    )


def test_support_agent_when_trying_every_other_route_then_never_sees_clear_data(
    desk: Desk, app: FastAPI
) -> None:
    agent = desk.staff("SUPPORT/admin")
    leaks = []
    for path in _get_routes(app):
        if path == "/v1/support/users/{user_id}":
            continue
        concrete = PATH_PARAMETER.sub(desk.carol_id, path)
        for query in ("", f"?subject={desk.carol_id}&user_id={desk.carol_id}&q=carol"):
            answered = desk.client.get(concrete + query, headers=agent.headers)
            assert answered.status_code < 500, (concrete, answered.text)
            if "carol@example.com" in answered.text or PHONE[1:] in answered.text:
                leaks.append(concrete + query)
    assert leaks == []
    search = desk.client.get(f"/v1/audit/events?subject={desk.carol_id}", headers=agent.headers)
    assert_refused(search, 403, "ACCESS_DENIED")
    unmasked = desk.unmask(agent, desk.carol_id, {"field": "email", "reason": REASON})
    assert "carol@example.com" in unmasked.text  # the one way to see it, which is counted


# Alerts


def test_alert_routes_when_called_by_support_or_trader_then_access_denied(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    for spec in ("SUPPORT/admin", "TRADER/"):
        caller = staff_member(client, mailbox, clock, clean_database.engine, spec)
        assert_refused(client.get("/v1/admin/alerts", headers=caller.headers), 403, "ACCESS_DENIED")
        acknowledged = client.post(
            "/v1/admin/alerts/01a1fd70-0000-7000-8000-000000000000/acknowledge",
            headers=caller.headers,
        )
        assert_refused(acknowledged, 403, "ACCESS_DENIED")


def test_acknowledge_when_the_alert_is_about_the_caller_then_refused(
    client: TestClient, app: FastAPI, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    officer = staff_member(client, mailbox, clock, clean_database.engine, "COMPLIANCE/operator")
    officer_id = user_id(clean_database.engine, officer.username)
    with transaction(registry_of(app).services.sessions) as db:
        alert = registry_of(app).access_alerts.raise_alert(db, "off_hours", officer_id, {}, 1)
    refused = client.post(f"/v1/admin/alerts/{alert.id}/acknowledge", headers=officer.headers)
    assert_refused(refused, 403, "ALERT_OWN")
    assert count_rows(clean_database.engine, "access_alerts", "acknowledged_at_ns IS NULL") == 1


def test_staff_step_up_when_tried_with_totp_then_refused_and_with_the_key_accepted(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    person = staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="ADMIN", level="admin"
    )
    totp = client.post("/v1/auth/step-up/start", json={"method": "totp"}, headers=person.headers)
    assert_refused(totp, 400, "AUTH_MFA_METHOD_UNAVAILABLE")
    assert totp.json()["methods"] == ["webauthn"]

    started = client.post(
        "/v1/auth/step-up/start", json={"method": "webauthn"}, headers=person.headers
    )
    assert started.status_code == 200, started.text
    assert person.security_key is not None
    credential = person.security_key.get(started.json()["publicKey"])
    answered = client.post(
        "/v1/auth/step-up",
        json={
            "challenge_id": started.json()["challenge_id"],
            "method": "webauthn",
            "credential": credential,
        },
        headers=person.headers,
    )
    assert answered.status_code == 200, answered.text
