"""Staff sign in with the password and a security key, and time out after 15 idle minutes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from identity_flows import (
    Person,
    answer_challenge,
    answer_with_security_key,
    assert_refused,
    audit_event_types,
    bearer,
    build_app,
    client_at,
    enrol_totp,
    enrolment_session,
    make_staff,
    refresh,
    register_security_key,
    sign_in_with_security_key,
    sign_in_with_totp,
    signed_up_with_totp,
    staff_signed_in,
    start_login,
    totp_now,
)

from support import registry_of
from tradeguard.config import Settings, load_settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender
from unit.identity.webauthn_authenticator import SoftAuthenticator, b64url

STAFF_IDLE = 900
SUPPORT_VIEW = "support:users:view"


@pytest.fixture
def build_client(
    settings_for: Callable[..., Settings], clean_database, clock: FixedClock, mailbox: MemorySender
) -> Iterator[Callable[..., TestClient]]:
    """Start a client of an app built with setting overrides."""
    clients: list[TestClient] = []

    def build(**overrides: object) -> TestClient:
        app = build_app(settings_for(**overrides), clean_database.engine, clock, mailbox)
        clients.append(client_at(app).__enter__())
        return clients[-1]

    yield build
    for started in clients:
        started.__exit__(None, None, None)


def _me(client: TestClient, tokens: dict[str, Any]) -> Any:
    return client.get("/v1/me", headers=bearer(tokens["access_token"]))


def _amr(client: TestClient, person: Person) -> list[str]:
    listed = client.get("/v1/sessions", headers=person.headers)
    assert listed.status_code == 200, listed.text
    current: list[str] = next(item for item in listed.json() if item["current"])["amr"]
    return current


def _platform_passkey(client: TestClient, person: Person) -> SoftAuthenticator:
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


# Signing in


def test_staff_sign_in_when_password_and_security_key_then_full_staff_session(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    agent = staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="SUPPORT", level="operator"
    )
    me = _me(client, agent.tokens)
    assert me.status_code == 200, me.text
    assert me.json()["role"] == "SUPPORT"
    assert SUPPORT_VIEW in me.json()["permissions"]
    assert _amr(client, agent) == ["pwd", "hwk", "user", "mfa"]


def test_staff_login_challenge_when_other_factors_enrolled_then_only_the_security_key_offered(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    person = signed_up_with_totp(client, mailbox, clock, Person(username="sam"))
    _platform_passkey(client, person)
    key = register_security_key(client, person)
    make_staff(clean_database.engine, "sam", "SUPPORT", "operator")
    challenge = start_login(client, person)
    assert challenge["methods"] == ["webauthn"]
    options = client.post(
        "/v1/auth/mfa/webauthn/options", json={"challenge_id": challenge["challenge_id"]}
    )
    assert options.status_code == 200, options.text
    allowed = options.json()["publicKey"]["allowCredentials"]
    assert person.security_key is not None
    assert [item["id"] for item in allowed] == [
        b64url(credential) for credential in person.security_key.credentials
    ]
    assert key["authenticator"] == "security-key"


def test_trader_login_challenge_when_totp_and_key_then_both_offered(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    person = signed_up_with_totp(client, mailbox, clock, Person(username="tess"))
    register_security_key(client, person)
    assert start_login(client, person)["methods"] == ["totp", "webauthn"]
    sign_in_with_totp(client, person, clock)
    assert _me(client, person.tokens).status_code == 200


def test_staff_without_any_factor_when_signing_in_then_enrols_a_key_in_an_enrolment_session(
    client: TestClient, mailbox: MemorySender, clean_database
) -> None:
    person = Person(username="nina", email="nina@example.com")
    enrolment_session(client, mailbox, person)
    make_staff(clean_database.engine, "nina", "SUPPORT", "operator")
    first = client.post(
        "/v1/auth/login", json={"login": person.username, "password": person.password}
    )
    assert first.status_code == 200, first.text
    person.tokens = first.json()
    assert person.tokens["enrollment_only"] is True
    refused = client.get("/v1/support/users/nobody", headers=person.headers)
    assert_refused(refused, 403, "AUTH_MFA_ENROLLMENT_REQUIRED")
    register_security_key(client, person)
    assert person.tokens["enrollment_only"] is False
    assert SUPPORT_VIEW in _me(client, person.tokens).json()["permissions"]
    sign_in_with_security_key(client, person)
    assert _amr(client, person) == ["pwd", "hwk", "user", "mfa"]


def test_staff_with_only_totp_when_signing_in_then_totp_opens_only_an_enrolment_session(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    person = signed_up_with_totp(client, mailbox, clock, Person(username="olga"))
    make_staff(clean_database.engine, "olga", "COMPLIANCE", "read-only")
    challenge = start_login(client, person)
    assert challenge["methods"] == ["totp"]
    answered = answer_challenge(
        client, challenge["challenge_id"], "totp", code=totp_now(person, clock)
    )
    assert answered.status_code == 200, answered.text
    person.tokens = answered.json()
    assert person.tokens["enrollment_only"] is True
    assert _me(client, person.tokens).json()["permissions"] == []
    assert_refused(
        client.get("/v1/admin/alerts", headers=person.headers), 403, "AUTH_MFA_ENROLLMENT_REQUIRED"
    )
    clock.advance(seconds=30)
    enrol_totp(client, person, clock)  # another app is no security key: still enrolment-only
    assert person.tokens["enrollment_only"] is True
    register_security_key(client, person)
    assert person.tokens["enrollment_only"] is False
    assert client.get("/v1/admin/alerts", headers=person.headers).status_code == 200


def test_staff_sign_in_when_refused_then_audited(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    agent = staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="SUPPORT", level="operator"
    )
    challenge_id = start_login(client, agent)["challenge_id"]
    refused = answer_challenge(client, challenge_id, "totp", code=totp_now(agent, clock))
    assert_refused(refused, 403, "AUTH_STAFF_HARDWARE_KEY_REQUIRED")
    assert "auth.login.refused" in audit_event_types(clean_database.engine)
    answered = answer_with_security_key(client, agent, challenge_id)  # the challenge stays open
    assert answered.status_code == 200, answered.text


# Idle timeout


def test_settings_idle_timeout_when_staff_role_then_at_most_fifteen_minutes() -> None:
    settings = load_settings(
        session_idle_seconds=3600,
        session_idle_seconds_by_role={"SUPPORT": 7200, "ADMIN": 300, "TRADER": 1800},
    )
    assert settings.idle_timeout_seconds("SUPPORT") == STAFF_IDLE
    assert settings.idle_timeout_seconds("COMPLIANCE") == STAFF_IDLE
    assert settings.idle_timeout_seconds("ADMIN") == 300
    assert settings.idle_timeout_seconds("TRADER") == 1800


@pytest.mark.parametrize("outcome", [(STAFF_IDLE, 200), (STAFF_IDLE + 1, 401)])
def test_staff_session_when_idle_fifteen_minutes_then_expired_despite_longer_setting(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
    outcome: tuple[int, int],
) -> None:
    wait, status = outcome
    client = build_client(
        access_token_seconds=3600,
        session_idle_seconds=3600,
        session_idle_seconds_by_role={"SUPPORT": 3600},
    )
    agent = staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="SUPPORT", level="operator"
    )
    clock.advance(seconds=wait)
    answered = _me(client, agent.tokens)
    assert answered.status_code == status, answered.text
    if status == 401:
        assert_refused(answered, 401, "AUTH_SESSION_EXPIRED")
        assert refresh(client, agent.tokens["refresh_token"]).status_code == 401


def test_staff_session_when_active_every_ten_minutes_then_lives_on(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    client = build_client(access_token_seconds=3600, session_idle_seconds=3600)
    agent = staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="ADMIN", level="admin"
    )
    for _ in range(4):
        clock.advance(seconds=600)
        assert _me(client, agent.tokens).status_code == 200


def test_trader_session_when_idle_twenty_minutes_with_hour_setting_then_still_valid(
    build_client: Callable[..., TestClient], mailbox: MemorySender, clock: FixedClock
) -> None:
    client = build_client(access_token_seconds=3600, session_idle_seconds=3600)
    trader = signed_up_with_totp(client, mailbox, clock, Person(username="tom"))
    clock.advance(seconds=1200)
    assert _me(client, trader.tokens).status_code == 200


def test_trader_made_staff_when_session_refreshed_then_staff_idle_timeout_applies(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    client = build_client(access_token_seconds=3600, session_idle_seconds=3600)
    person = signed_up_with_totp(client, mailbox, clock, Person(username="una"))
    make_staff(clean_database.engine, "una", "SUPPORT", "read-only")
    registry_of(client.app).identity.sessions.cache.clear()
    assert_refused(_me(client, person.tokens), 401, "AUTH_TOKEN_STALE")
    renewed = refresh(client, person.tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    clock.advance(seconds=STAFF_IDLE + 1)
    assert_refused(_me(client, renewed.json()), 401, "AUTH_SESSION_EXPIRED")
