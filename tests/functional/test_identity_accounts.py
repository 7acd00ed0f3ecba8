"""Accounts through the HTTP API: sign-up, email verification, passwords, reset and changes.

Codes are read from the in-memory mailbox; stored rows are read back through the
test database's engine. Every refused request is checked to have changed nothing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import (
    CONSENTS,
    STRONG_PASSWORD,
    Person,
    audit_event_types,
    bearer,
    build_app,
    client_at,
    code_in,
    login,
    reason_of,
    register,
    sign_in_with_totp,
    sign_up,
    signed_up_with_totp,
    step_up_with_totp,
    stored_password_hash,
    totp_now,
)
from sqlalchemy import Engine, text

from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

NEW_PASSWORD = "saffron-Kettle-orbit-82-lantern"
ARGON2ID_OWASP_MINIMUM = "$argon2id$v=19$m=19456,t=2,p=1$"


def _register_with(client: TestClient, **fields: Any) -> Any:
    body: dict[str, Any] = {
        "username": "alice",
        "email": "alice@example.com",
        "password": STRONG_PASSWORD,
        "consents": CONSENTS,
    }
    body.update(fields)
    return client.post("/v1/auth/register", json=body)


def _rows(engine: Engine, sql: str, **params: object) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params))


def _usernames(engine: Engine) -> list[str]:
    return [row.username for row in _rows(engine, "SELECT username FROM users ORDER BY username")]


def _other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _verification_code(mailbox: MemorySender, email: str) -> str:
    return code_in(mailbox.last_email(to=email, kind="email.verification").text)


def _me(client: TestClient, person: Person) -> Any:
    return client.get("/v1/me", headers=person.headers)


# Registration


def test_register_when_account_is_new_then_accepted_and_verification_code_sent(
    client: TestClient, mailbox: MemorySender, clean_database
) -> None:
    response = register(client, Person())
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "accepted"
    assert [(m.to, m.kind) for m in mailbox.emails] == [("alice@example.com", "email.verification")]
    assert _usernames(clean_database.engine) == ["alice"]
    assert "auth.register.created" in audit_event_types(clean_database.engine)


def test_register_when_email_has_an_account_then_same_answer_and_owner_told(
    client: TestClient, mailbox: MemorySender, clean_database
) -> None:
    first = register(client, Person())
    mailbox.clear()
    again = register(client, Person(username="mallory", email="Alice@EXAMPLE.com"))
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert [(m.to, m.kind) for m in mailbox.emails] == [
        ("Alice@example.com", "email.already_registered")
    ]
    assert _usernames(clean_database.engine) == ["alice"]
    assert "auth.register.duplicate" in audit_event_types(clean_database.engine)


def test_register_when_username_is_taken_then_same_answer_and_new_address_told(
    client: TestClient, mailbox: MemorySender, clean_database
) -> None:
    first = register(client, Person())
    mailbox.clear()
    again = register(client, Person(username="ALICE", email="other@example.com"))
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert [(m.to, m.kind) for m in mailbox.emails] == [
        ("other@example.com", "email.username_taken")
    ]
    assert _usernames(clean_database.engine) == ["alice"]


def test_register_stores_email_encrypted_and_finds_it_by_blind_index(
    client: TestClient, mailbox: MemorySender, clean_database
) -> None:
    sign_up(client, mailbox, Person())
    (row,) = _rows(clean_database.engine, "SELECT email, email_index FROM users")
    stored = bytes(row.email)
    assert b"alice@example.com" not in stored
    assert b"example.com" not in stored
    assert b"example.com" not in bytes(row.email_index)
    by_address = client.post(
        "/v1/auth/login", json={"login": "ALICE@Example.COM", "password": STRONG_PASSWORD}
    )
    assert by_address.status_code == 200, by_address.text
    me = client.get("/v1/me", headers=bearer(by_address.json()["access_token"]))
    assert me.json()["email"] == "alice@example.com"


def test_register_stores_the_consents_given(client: TestClient, clean_database) -> None:
    given = [*CONSENTS, "marketing_email"]
    assert _register_with(client, consents=given).status_code == 202
    rows = _rows(clean_database.engine, "SELECT purpose, withdrawn_at_ns FROM user_consents")
    assert sorted(row.purpose for row in rows) == sorted(given)
    assert all(row.withdrawn_at_ns is None for row in rows)
    assert "auth.register.created" in audit_event_types(clean_database.engine)


@pytest.mark.parametrize(
    "consents",
    [
        [],
        ["terms_of_service"],
        ["privacy_notice", "marketing_email"],
        [*CONSENTS, "sell_everything"],
    ],
)
def test_register_when_consent_missing_or_unknown_then_refused_and_nothing_stored(
    client: TestClient,
    mailbox: MemorySender,
    clean_database,
    consents: list[str],
) -> None:
    response = _register_with(client, consents=consents)
    assert reason_of(response) == (422, "VALIDATION_FAILED")
    assert _usernames(clean_database.engine) == []
    assert _rows(clean_database.engine, "SELECT purpose FROM user_consents") == []
    assert mailbox.emails == []


@pytest.mark.parametrize(
    "fields",
    [
        {"username": "ab"},
        {"username": "x" * 33},
        {"username": "has space"},
        {"username": "-leading-dash"},
        {"username": "semi;colon"},
        {"email": "not-an-email"},
        {"email": "two@@example.com"},
        {"email": "alice@localhost"},
        {"email": "spaced out@example.com"},
    ],
)
def test_register_when_username_or_email_malformed_then_refused(
    client: TestClient,
    mailbox: MemorySender,
    clean_database,
    fields: dict[str, str],
) -> None:
    response = _register_with(client, **fields)
    assert reason_of(response) == (422, "VALIDATION_FAILED")
    assert _usernames(clean_database.engine) == []
    assert mailbox.emails == []


# Email verification


def test_verify_email_when_code_wrong_then_refused_and_attempt_counted(
    client: TestClient, mailbox: MemorySender, clean_database
) -> None:
    alice = Person()
    register(client, alice)
    code = _verification_code(mailbox, alice.email)
    wrong = client.post(
        "/v1/auth/verify-email", json={"email": alice.email, "code": _other_code(code)}
    )
    assert reason_of(wrong) == (400, "AUTH_CODE_INVALID")
    (row,) = _rows(clean_database.engine, "SELECT attempts, used FROM one_time_codes")
    assert (row.attempts, bool(row.used)) == (1, False)
    assert reason_of(login(client, alice)) == (403, "AUTH_EMAIL_NOT_VERIFIED")
    right = client.post("/v1/auth/verify-email", json={"email": alice.email, "code": code})
    assert right.status_code == 200, right.text
    assert "auth.email.verified" in audit_event_types(clean_database.engine)


def test_verify_email_when_five_wrong_attempts_then_right_code_refused(
    client: TestClient, mailbox: MemorySender
) -> None:
    alice = Person()
    register(client, alice)
    code = _verification_code(mailbox, alice.email)
    for _ in range(5):
        wrong = client.post(
            "/v1/auth/verify-email", json={"email": alice.email, "code": _other_code(code)}
        )
        assert reason_of(wrong) == (400, "AUTH_CODE_INVALID")
    right = client.post("/v1/auth/verify-email", json={"email": alice.email, "code": code})
    assert reason_of(right) == (400, "AUTH_CODE_INVALID")
    assert reason_of(login(client, alice)) == (403, "AUTH_EMAIL_NOT_VERIFIED")


@pytest.mark.parametrize(("elapsed", "status"), [(599, 200), (600, 400)])
def test_verify_email_code_expires_after_ten_minutes(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, elapsed: int, status: int
) -> None:
    alice = Person()
    register(client, alice)
    code = _verification_code(mailbox, alice.email)
    clock.advance(seconds=elapsed)
    response = client.post("/v1/auth/verify-email", json={"email": alice.email, "code": code})
    assert response.status_code == status, response.text


def test_resend_verification_sends_a_new_code_that_replaces_the_old_one(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = Person()
    register(client, alice)
    old = _verification_code(mailbox, alice.email)
    too_soon = client.post("/v1/auth/verify-email/resend", json={"email": alice.email})
    assert too_soon.status_code == 202
    assert len(mailbox.emails) == 1  # a minimum gap between sends
    clock.advance(seconds=31)
    resent = client.post("/v1/auth/verify-email/resend", json={"email": alice.email})
    assert resent.json() == too_soon.json()
    assert len(mailbox.emails) == 2
    new = _verification_code(mailbox, alice.email)
    stale = client.post("/v1/auth/verify-email", json={"email": alice.email, "code": old})
    assert reason_of(stale) == (400, "AUTH_CODE_INVALID")
    fresh = client.post("/v1/auth/verify-email", json={"email": alice.email, "code": new})
    assert fresh.status_code == 200, fresh.text


def test_resend_verification_when_address_verified_or_unknown_then_nothing_sent(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    sign_up(client, mailbox, Person())
    clock.advance(seconds=31)
    mailbox.clear()
    for address in ("alice@example.com", "nobody@example.com"):
        response = client.post("/v1/auth/verify-email/resend", json={"email": address})
        assert response.status_code == 202
    assert mailbox.emails == []


def test_login_when_email_not_verified_then_refused_without_session(
    client: TestClient, clean_database
) -> None:
    alice = Person()
    register(client, alice)
    assert reason_of(login(client, alice)) == (403, "AUTH_EMAIL_NOT_VERIFIED")
    wrong = login(client, Person(password="not-" + STRONG_PASSWORD))
    assert reason_of(wrong) == (401, "AUTH_INVALID_CREDENTIALS")
    assert _rows(clean_database.engine, "SELECT id FROM auth_sessions") == []
    assert "auth.login.refused" in audit_event_types(clean_database.engine)


# Password policy and hashing


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Tiny-Pw-9", "PASSWORD_TOO_SHORT"),
        ("amber-Falcon-" * 10, "PASSWORD_TOO_LONG"),
        ("password1234", "PASSWORD_COMMON"),
        ("aaaaaaaaaaaaaaaa", "PASSWORD_TOO_WEAK"),
        ("qwertyuiopasdf", "PASSWORD_TOO_WEAK"),
        ("alice-Harbor-trumpet-47", "PASSWORD_CONTAINS_USER_DATA"),
        ("xx-ALICE-Harbor-trumpet-47", "PASSWORD_CONTAINS_USER_DATA"),
    ],
)
def test_register_when_password_breaks_policy_then_422_with_reason(
    client: TestClient,
    mailbox: MemorySender,
    clean_database,
    password: str,
    reason: str,
) -> None:
    response = _register_with(client, password=password)
    assert reason_of(response) == (422, reason)
    assert _usernames(clean_database.engine) == []
    assert mailbox.emails == []


@pytest.mark.parametrize(
    ("registered_form", "login_form"),
    [("NFD", "NFC"), ("NFC", "NFD"), ("NFKD", "NFC")],
)
def test_password_is_unicode_normalised_so_either_form_signs_in(
    client: TestClient, mailbox: MemorySender, registered_form: str, login_form: str
) -> None:
    password = "caf\u00e9-Harbor-trumpet-47-\u2167-quilt"  # é and the Roman numeral Ⅷ
    alice = Person(password=unicodedata.normalize(registered_form, password))
    sign_up(client, mailbox, alice)
    other_form = unicodedata.normalize(login_form, password)
    assert other_form != alice.password
    assert login(client, Person(password=other_form)).status_code == 200
    assert login(client, alice).status_code == 200


def test_password_hash_is_argon2id_with_the_owasp_parameters(
    client: TestClient, mailbox: MemorySender, clean_database
) -> None:
    sign_up(client, mailbox, Person())
    stored = stored_password_hash(clean_database.engine, "alice")
    assert stored.startswith(ARGON2ID_OWASP_MINIMUM), stored
    assert STRONG_PASSWORD not in stored


def test_login_rehashes_the_password_when_parameters_change(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
    settings_for: Callable[..., Settings],
) -> None:
    sign_up(client, mailbox, Person())
    before = stored_password_hash(clean_database.engine, "alice")
    stronger: FastAPI = build_app(
        settings_for(password_time_cost=3), clean_database.engine, clock, mailbox
    )
    upgraded = client_at(stronger)
    assert reason_of(login(upgraded, Person(password="wrong-" + STRONG_PASSWORD)))[0] == 401
    assert stored_password_hash(clean_database.engine, "alice") == before  # only on success
    assert login(upgraded, Person()).status_code == 200
    after = stored_password_hash(clean_database.engine, "alice")
    assert after.startswith("$argon2id$v=19$m=19456,t=3,p=1$"), after
    assert login(upgraded, Person()).status_code == 200
    assert stored_password_hash(clean_database.engine, "alice") == after


# Password reset


def _forgot(client: TestClient, email: str) -> Any:
    return client.post("/v1/auth/password/forgot", json={"email": email})


def _reset(client: TestClient, email: str, code: str, new_password: str = NEW_PASSWORD) -> Any:
    return client.post(
        "/v1/auth/password/reset",
        json={"email": email, "code": code, "new_password": new_password},
    )


def _reset_code(mailbox: MemorySender, email: str) -> str:
    return code_in(mailbox.last_email(to=email, kind="email.password_reset").text)


def test_forgot_password_answers_the_same_and_mails_only_an_existing_account(
    client: TestClient, mailbox: MemorySender
) -> None:
    sign_up(client, mailbox, Person())
    mailbox.clear()
    known = _forgot(client, "alice@example.com")
    unknown = _forgot(client, "nobody@example.com")
    assert (
        (known.status_code, known.json())
        == (unknown.status_code, unknown.json())
        == (
            202,
            known.json(),
        )
    )
    assert [(m.to, m.kind) for m in mailbox.emails] == [
        ("alice@example.com", "email.password_reset")
    ]


def test_reset_password_with_code_ends_every_session_and_still_asks_second_factor(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    first_session = dict(alice.tokens)
    sign_in_with_totp(client, alice, clock)
    assert _forgot(client, alice.email).status_code == 202
    reset = _reset(client, alice.email, _reset_code(mailbox, alice.email))
    assert reset.status_code == 200, reset.text
    for tokens in (first_session, alice.tokens):
        refused = client.get("/v1/me", headers=bearer(tokens["access_token"]))
        assert reason_of(refused) == (401, "AUTH_SESSION_REVOKED")
    assert reason_of(login(client, alice))[0] == 401
    alice.password = NEW_PASSWORD
    challenge = login(client, alice)
    assert challenge.status_code == 200, challenge.text
    assert challenge.json()["status"] == "mfa_required"
    assert "access_token" not in challenge.json()
    assert mailbox.last_email(to=alice.email, kind="security.password_changed")
    events = audit_event_types(clean_database.engine)
    assert {"auth.password.reset_requested", "auth.password.changed"} <= set(events)
    assert events.count("auth.session.revoked") == 2


def test_reset_password_when_code_wrong_then_nothing_changes(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    before = stored_password_hash(clean_database.engine, "alice")
    _forgot(client, alice.email)
    code = _reset_code(mailbox, alice.email)
    wrong = _reset(client, alice.email, _other_code(code))
    assert reason_of(wrong) == (400, "AUTH_CODE_INVALID")
    assert stored_password_hash(clean_database.engine, "alice") == before
    assert _me(client, alice).status_code == 200
    assert login(client, alice).json()["status"] == "mfa_required"
    assert reason_of(login(client, Person(password=NEW_PASSWORD)))[0] == 401
    assert "auth.password.changed" not in audit_event_types(clean_database.engine)


def test_reset_password_when_new_password_weak_then_refused_and_code_still_good(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    before = stored_password_hash(clean_database.engine, "alice")
    _forgot(client, alice.email)
    code = _reset_code(mailbox, alice.email)
    weak = _reset(client, alice.email, code, new_password="password1234")
    assert reason_of(weak) == (422, "PASSWORD_COMMON")
    assert stored_password_hash(clean_database.engine, "alice") == before
    assert _me(client, alice).status_code == 200
    assert _reset(client, alice.email, code).status_code == 200
    assert reason_of(_reset(client, alice.email, code)) == (400, "AUTH_CODE_INVALID")


def test_reset_password_when_five_wrong_codes_then_the_right_one_is_refused(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    before = stored_password_hash(clean_database.engine, "alice")
    _forgot(client, alice.email)
    code = _reset_code(mailbox, alice.email)
    for _ in range(5):
        assert reason_of(_reset(client, alice.email, _other_code(code))) == (
            400,
            "AUTH_CODE_INVALID",
        )
    assert reason_of(_reset(client, alice.email, code)) == (400, "AUTH_CODE_INVALID")
    assert stored_password_hash(clean_database.engine, "alice") == before


# Password change


def test_change_password_needs_step_up_then_ends_every_session(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    first_session = dict(alice.tokens)
    sign_in_with_totp(client, alice, clock)
    before = stored_password_hash(clean_database.engine, "alice")
    clock.advance(seconds=301)
    body = {"new_password": NEW_PASSWORD}
    stale = client.post("/v1/auth/password", json=body, headers=alice.headers)
    assert reason_of(stale) == (403, "AUTH_STEP_UP_REQUIRED")
    assert stored_password_hash(clean_database.engine, "alice") == before
    step_up_with_totp(client, alice, clock)
    changed = client.post("/v1/auth/password", json=body, headers=alice.headers)
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"revoked": 2}
    for tokens in (first_session, alice.tokens):
        refused = client.get("/v1/me", headers=bearer(tokens["access_token"]))
        assert reason_of(refused) == (401, "AUTH_SESSION_REVOKED")
    assert mailbox.last_email(to=alice.email, kind="security.password_changed")
    assert reason_of(login(client, alice))[0] == 401
    alice.password = NEW_PASSWORD
    assert login(client, alice).json()["status"] == "mfa_required"
    events = audit_event_types(clean_database.engine)
    assert {"auth.step_up.started", "auth.step_up.succeeded", "auth.password.changed"} <= set(
        events
    )


def test_step_up_when_code_wrong_then_refused_and_still_required(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    sign_in_with_totp(client, alice, clock)
    clock.advance(seconds=301)
    started = client.post("/v1/auth/step-up/start", json={"method": "totp"}, headers=alice.headers)
    wrong_code = _other_code(totp_now(alice, clock))
    answer = {"challenge_id": started.json()["challenge_id"], "method": "totp", "code": wrong_code}
    refused = client.post("/v1/auth/step-up", json=answer, headers=alice.headers)
    assert reason_of(refused) == (401, "AUTH_MFA_INVALID")
    change = client.post(
        "/v1/auth/password", json={"new_password": NEW_PASSWORD}, headers=alice.headers
    )
    assert reason_of(change) == (403, "AUTH_STEP_UP_REQUIRED")
    assert "auth.mfa.failed" in audit_event_types(clean_database.engine)


def test_change_password_when_new_password_weak_then_422_and_sessions_kept(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    weak = client.post(
        "/v1/auth/password", json={"new_password": "alice-Harbor-trumpet-47"}, headers=alice.headers
    )
    assert reason_of(weak) == (422, "PASSWORD_CONTAINS_USER_DATA")
    assert _me(client, alice).status_code == 200
    assert login(client, alice).json()["status"] == "mfa_required"


# Email change


def test_change_email_needs_step_up_sends_code_to_new_address_and_tells_old_one(
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    clean_database,
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    new_address = "alice.new@example.org"
    clock.advance(seconds=301)
    stale = client.post("/v1/me/email", json={"email": new_address}, headers=alice.headers)
    assert reason_of(stale) == (403, "AUTH_STEP_UP_REQUIRED")
    step_up_with_totp(client, alice, clock)
    started = client.post("/v1/me/email", json={"email": new_address}, headers=alice.headers)
    assert started.status_code == 202, started.text
    code = _verification_code(mailbox, new_address)
    wrong = client.post(
        "/v1/me/email/confirm", json={"code": _other_code(code)}, headers=alice.headers
    )
    assert reason_of(wrong) == (400, "AUTH_CODE_INVALID")
    assert _me(client, alice).json()["email"] == alice.email
    confirmed = client.post("/v1/me/email/confirm", json={"code": code}, headers=alice.headers)
    assert confirmed.status_code == 200, confirmed.text
    assert _me(client, alice).json()["email"] == new_address
    assert mailbox.last_email(to=alice.email, kind="security.email_changed")
    by_new = client.post("/v1/auth/login", json={"login": new_address, "password": alice.password})
    assert by_new.json()["status"] == "mfa_required"
    by_old = client.post("/v1/auth/login", json={"login": alice.email, "password": alice.password})
    assert reason_of(by_old) == (401, "AUTH_INVALID_CREDENTIALS")
    events = audit_event_types(clean_database.engine)
    assert {"auth.email.change_requested", "auth.email.changed"} <= set(events)
