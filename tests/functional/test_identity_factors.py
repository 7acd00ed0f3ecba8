"""Second factors through the API: mandatory MFA, TOTP, SMS and email codes, backup codes,
factor management, the login challenge and step-up."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from identity_flows import (
    Person,
    answer_challenge,
    assert_refused,
    audit_event_types,
    build_app,
    client_at,
    confirm_factor,
    enrol_code_factor,
    enrol_totp,
    enrolment_session,
    factors_of,
    last_code,
    login,
    new_backup_codes,
    patiently,
    send_login_code,
    sign_in_with_code,
    sign_in_with_totp,
    signed_up_with_totp,
    start_code_factor,
    start_login,
    step_up_with_totp,
    totp_at,
    totp_now,
    wrong_code,
)

from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

PHONE = "+15555550100"
NEW_PASSWORD = "saffron-Glacier-lantern-93-otter"
BACKUP_CODE = re.compile(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){3}")
STEP_UP_SECONDS = 300
CODE_TTL_SECONDS = 600


@pytest.fixture
def alice(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    """Alice with an authenticator app, in a full session opened half a minute ago."""
    return signed_up_with_totp(client, mailbox, clock, Person())


@pytest.fixture
def bob(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    """Bob with an authenticator app, in a full session."""
    return signed_up_with_totp(client, mailbox, clock, Person("bob", "bob@example.com"))


def _sms_user(client: TestClient, mailbox: MemorySender) -> Person:
    """Carol, whose only factor is SMS."""
    carol = enrolment_session(client, mailbox, Person("carol", "carol@example.com"))
    enrol_code_factor(client, mailbox, carol, "sms", PHONE)
    return carol


def _sensitive_requests(client: TestClient, person: Person, factor_id: str) -> list[Any]:
    headers = person.headers
    return [
        client.patch(f"/v1/mfa/factors/{factor_id}", json={"name": "Renamed"}, headers=headers),
        client.delete(f"/v1/mfa/factors/{factor_id}", headers=headers),
        client.post("/v1/auth/password", json={"new_password": NEW_PASSWORD}, headers=headers),
        client.post("/v1/me/email", json={"email": "new@example.com"}, headers=headers),
        client.put("/v1/account/ip-allowlist", json={"networks": ["10.0.0.0/8"]}, headers=headers),
    ]


# MFA is mandatory


def test_enrolment_session_when_calling_full_session_routes_then_enrolment_required(
    client: TestClient, mailbox: MemorySender
) -> None:
    alice = enrolment_session(client, mailbox, Person())
    refused = [
        client.get("/v1/sessions", headers=alice.headers),
        client.delete("/v1/sessions", headers=alice.headers),
        client.get("/v1/devices", headers=alice.headers),
        client.post(
            "/v1/auth/password", json={"new_password": NEW_PASSWORD}, headers=alice.headers
        ),
    ]
    for response in refused:
        assert_refused(response, 403, "AUTH_MFA_ENROLLMENT_REQUIRED")
    assert login(client, alice).status_code == 200  # the password did not change


def test_enrolment_session_when_calling_enrolment_routes_then_allowed(
    client: TestClient, mailbox: MemorySender
) -> None:
    alice = enrolment_session(client, mailbox, Person())
    me = client.get("/v1/me", headers=alice.headers)
    assert me.status_code == 200, me.text
    assert me.json()["enrollment_only"] is True
    assert me.json()["mfa_methods"] == []
    assert me.json()["permissions"] == []
    assert factors_of(client, alice) == []
    assert client.post("/v1/mfa/totp", headers=alice.headers).status_code == 201
    assert client.post("/v1/mfa/email", headers=alice.headers).status_code == 201
    assert client.post("/v1/auth/logout", headers=alice.headers).status_code == 204
    assert_refused(client.get("/v1/me", headers=alice.headers), 401, "AUTH_SESSION_REVOKED")


def test_enrolment_session_when_first_factor_confirmed_then_upgraded_in_place(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = enrolment_session(client, mailbox, Person())
    enrolment = dict(alice.tokens)
    body = enrol_totp(client, alice, clock)
    assert body["tokens"]["enrollment_only"] is False
    assert body["tokens"]["session_id"] == enrolment["session_id"]
    assert client.get("/v1/sessions", headers=alice.headers).status_code == 200
    me = client.get("/v1/me", headers=alice.headers).json()
    assert me["mfa_methods"] == ["totp"]
    assert me["permissions"]
    old = {"Authorization": f"Bearer {enrolment['access_token']}"}
    assert_refused(client.get("/v1/sessions", headers=old), 403, "AUTH_MFA_ENROLLMENT_REQUIRED")


# TOTP


def test_totp_enrolment_when_started_then_secret_uri_and_qr_code(
    client: TestClient, mailbox: MemorySender
) -> None:
    alice = enrolment_session(client, mailbox, Person())
    started = client.post("/v1/mfa/totp", headers=alice.headers)
    assert started.status_code == 201, started.text
    body = started.json()
    assert re.fullmatch(r"[A-Z2-7]{32}", body["secret"])
    uri = urlsplit(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/TradeGuard:alice")
    query = parse_qs(uri.query)
    assert query["secret"] == [body["secret"]]
    assert query["issuer"] == ["TradeGuard"]
    assert body["qr_svg"].startswith("<svg")
    assert body["qr_svg"].rstrip().endswith("</svg>")
    assert "<script" not in body["qr_svg"]
    assert body["factor"]["kind"] == "totp"
    assert body["factor"]["confirmed"] is False
    assert factors_of(client, alice) == []  # pending factors are not listed


def test_totp_confirm_when_code_wrong_then_refused_and_still_pending(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = enrolment_session(client, mailbox, Person())
    started = client.post("/v1/mfa/totp", headers=alice.headers).json()
    alice.totp_secret = started["secret"]
    factor_id = started["factor"]["id"]
    wrong = confirm_factor(client, alice, factor_id, wrong_code(totp_now(alice, clock)))
    assert_refused(wrong, 400, "AUTH_CODE_INVALID")
    assert factors_of(client, alice) == []
    assert client.get("/v1/me", headers=alice.headers).json()["enrollment_only"] is True
    right = confirm_factor(client, alice, factor_id, totp_now(alice, clock))
    assert right.status_code == 200, right.text
    assert right.json()["factor"]["confirmed"] is True


@pytest.mark.parametrize("steps", [-1, 1])
def test_totp_sign_in_when_code_one_step_off_then_accepted(
    client: TestClient, clock: FixedClock, alice: Person, steps: int
) -> None:
    clock.advance(seconds=60)  # the previous step is now after the one enrolment used
    challenge_id = start_login(client, alice)["challenge_id"]
    answered = answer_challenge(client, challenge_id, "totp", code=totp_at(alice, clock, steps))
    assert answered.status_code == 200, answered.text


@pytest.mark.parametrize("steps", [-2, 2])
def test_totp_sign_in_when_code_two_steps_off_then_refused(
    client: TestClient, clock: FixedClock, alice: Person, steps: int
) -> None:
    clock.advance(seconds=90)
    challenge_id = start_login(client, alice)["challenge_id"]
    refused = answer_challenge(client, challenge_id, "totp", code=totp_at(alice, clock, steps))
    assert_refused(refused, 401, "AUTH_MFA_INVALID")
    answered = answer_challenge(client, challenge_id, "totp", code=totp_now(alice, clock))
    assert answered.status_code == 200, answered.text


def test_totp_sign_in_when_code_already_used_to_confirm_then_refused(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice = enrolment_session(client, mailbox, Person())
    enrol_totp(client, alice, clock)  # the code of this time step is spent
    challenge_id = start_login(client, alice)["challenge_id"]
    replayed = answer_challenge(client, challenge_id, "totp", code=totp_now(alice, clock))
    assert_refused(replayed, 401, "AUTH_MFA_INVALID")


# SMS and email factors


@pytest.mark.parametrize("phone", ["5555550100", "+1-555-555-0100", "+0155555501", "+1555abc0100"])
def test_sms_enrolment_when_phone_not_e164_then_refused(
    client: TestClient, mailbox: MemorySender, phone: str
) -> None:
    alice = enrolment_session(client, mailbox, Person())
    refused = client.post("/v1/mfa/sms", json={"phone": phone}, headers=alice.headers)
    assert_refused(refused, 400, "MFA_FACTOR_INVALID")
    assert mailbox.texts == []


@pytest.mark.parametrize(("method", "phone"), [("sms", PHONE), ("email", None)])
def test_code_factor_when_enrolled_then_signs_in_with_sent_code(
    client: TestClient, mailbox: MemorySender, method: str, phone: str | None
) -> None:
    alice = enrolment_session(client, mailbox, Person())
    factor = enrol_code_factor(client, mailbox, alice, method, phone)
    assert (factor["kind"], factor["confirmed"]) == (method, True)
    assert alice.tokens["enrollment_only"] is False
    assert mailbox.last_email(to=alice.email, kind="security.factor_added")
    assert start_login(client, alice)["methods"] == [method]
    tokens = sign_in_with_code(client, mailbox, alice, method, phone)
    sessions = client.get("/v1/sessions", headers=alice.headers).json()
    current = next(session for session in sessions if session["current"])
    assert current["id"] == tokens["session_id"]
    assert current["amr"] == ["pwd", method, "mfa"]


def test_code_factor_when_code_sent_then_it_goes_to_the_factor_phone(
    client: TestClient, mailbox: MemorySender
) -> None:
    carol = _sms_user(client, mailbox)
    challenge_id = start_login(client, carol)["challenge_id"]
    assert send_login_code(client, challenge_id, "sms").status_code == 202
    message = mailbox.last_sms(kind="otp.sms")
    assert message.to == PHONE
    assert re.search(r"\b\d{6}\b", message.text)
    assert all(email.kind != "otp.email" for email in mailbox.emails)


# One-time codes


def test_one_time_code_when_used_then_not_accepted_again(
    client: TestClient, mailbox: MemorySender
) -> None:
    carol = _sms_user(client, mailbox)
    first = start_login(client, carol)["challenge_id"]
    assert send_login_code(client, first, "sms").status_code == 202
    code = last_code(mailbox, carol, "sms", PHONE)
    assert answer_challenge(client, first, "sms", code=code).status_code == 200
    again = answer_challenge(client, first, "sms", code=code)
    assert_refused(again, 400, "AUTH_CHALLENGE_INVALID")
    second = start_login(client, carol)["challenge_id"]
    assert_refused(answer_challenge(client, second, "sms", code=code), 401, "AUTH_MFA_INVALID")


def test_one_time_code_when_five_wrong_attempts_then_even_right_code_refused(
    client: TestClient, mailbox: MemorySender
) -> None:
    alice = enrolment_session(client, mailbox, Person())
    factor_id = start_code_factor(client, alice, "sms", PHONE)
    code = last_code(mailbox, alice, "sms", PHONE)
    for _ in range(5):
        assert_refused(
            confirm_factor(client, alice, factor_id, wrong_code(code)), 400, "AUTH_CODE_INVALID"
        )
    assert_refused(confirm_factor(client, alice, factor_id, code), 400, "AUTH_CODE_INVALID")
    assert factors_of(client, alice) == []
    assert client.get("/v1/me", headers=alice.headers).json()["enrollment_only"] is True


def test_one_time_code_when_four_wrong_attempts_then_right_code_accepted(
    client: TestClient, mailbox: MemorySender
) -> None:
    alice = enrolment_session(client, mailbox, Person())
    factor_id = start_code_factor(client, alice, "email")
    code = last_code(mailbox, alice, "email")
    for _ in range(4):
        assert_refused(
            confirm_factor(client, alice, factor_id, wrong_code(code)), 400, "AUTH_CODE_INVALID"
        )
    assert confirm_factor(client, alice, factor_id, code).status_code == 200


@pytest.mark.parametrize(
    ("wait", "status"), [(CODE_TTL_SECONDS - 1, 200), (CODE_TTL_SECONDS + 1, 400)]
)
def test_one_time_code_when_waiting_then_valid_for_ten_minutes(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, wait: int, status: int
) -> None:
    carol = _sms_user(client, mailbox)
    challenge_id = start_login(client, carol)["challenge_id"]
    assert send_login_code(client, challenge_id, "sms").status_code == 202
    clock.advance(seconds=wait)
    answered = answer_challenge(
        client, challenge_id, "sms", code=last_code(mailbox, carol, "sms", PHONE)
    )
    assert answered.status_code == status, answered.text


def test_one_time_code_when_past_its_lifetime_then_refused_while_challenge_lives(
    settings_for: Callable[..., Settings],
    clean_database,
    clock: FixedClock,
    mailbox: MemorySender,
) -> None:
    app = build_app(settings_for(otp_ttl_seconds=120), clean_database.engine, clock, mailbox)
    with client_at(app) as client:
        carol = _sms_user(client, mailbox)
        challenge_id = start_login(client, carol)["challenge_id"]
        assert send_login_code(client, challenge_id, "sms").status_code == 202
        expired = last_code(mailbox, carol, "sms", PHONE)
        clock.advance(seconds=121)
        assert_refused(
            answer_challenge(client, challenge_id, "sms", code=expired), 401, "AUTH_MFA_INVALID"
        )
        assert send_login_code(client, challenge_id, "sms").status_code == 202
        fresh = last_code(mailbox, carol, "sms", PHONE)
        assert answer_challenge(client, challenge_id, "sms", code=fresh).status_code == 200


def test_one_time_code_send_when_repeated_at_once_then_limited(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    carol = _sms_user(client, mailbox)
    challenge_id = start_login(client, carol)["challenge_id"]
    assert send_login_code(client, challenge_id, "sms").status_code == 202
    code = last_code(mailbox, carol, "sms", PHONE)
    sent = len(mailbox.texts)
    limited = send_login_code(client, challenge_id, "sms")
    assert_refused(limited, 429, "AUTH_CODE_SEND_LIMITED")
    assert limited.headers["Retry-After"] == "30"
    assert len(mailbox.texts) == sent
    clock.advance(seconds=30)
    assert send_login_code(client, challenge_id, "sms").status_code == 202
    newest = last_code(mailbox, carol, "sms", PHONE)
    if newest != code:  # a new send replaces the earlier code
        earlier = answer_challenge(client, challenge_id, "sms", code=code)
        assert_refused(earlier, 401, "AUTH_MFA_INVALID")
    assert answer_challenge(client, challenge_id, "sms", code=newest).status_code == 200


def test_one_time_code_send_when_over_hourly_cap_then_limited_for_the_hour(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    carol = _sms_user(client, mailbox)
    challenge_id = start_login(client, carol)["challenge_id"]
    for _ in range(5):
        assert send_login_code(client, challenge_id, "sms").status_code == 202
        clock.advance(seconds=31)
    limited = send_login_code(client, challenge_id, "sms")
    assert_refused(limited, 429, "AUTH_CODE_SEND_LIMITED")
    assert int(limited.headers["Retry-After"]) == 3600 - 5 * 31


# Backup codes


def test_backup_codes_when_generated_then_ten_distinct_strong_codes(
    client: TestClient, alice: Person
) -> None:
    codes = new_backup_codes(client, alice)
    assert len(set(codes)) == 10
    assert all(BACKUP_CODE.fullmatch(code) for code in codes)  # 16 base-32 symbols: 80 bits
    listed = {factor["kind"]: factor for factor in factors_of(client, alice)}
    assert listed["backup_codes"]["backup_codes_left"] == 10


def test_backup_codes_when_enrolment_only_then_refused(
    client: TestClient, mailbox: MemorySender
) -> None:
    alice = enrolment_session(client, mailbox, Person())
    assert_refused(
        client.post("/v1/mfa/backup-codes", headers=alice.headers), 400, "MFA_FACTOR_INVALID"
    )


def test_backup_code_when_used_then_works_once_and_owner_is_told(
    client: TestClient, mailbox: MemorySender, alice: Person
) -> None:
    codes = new_backup_codes(client, alice)
    challenge = start_login(client, alice)
    assert challenge["methods"] == ["totp", "backup_code"]
    used = answer_challenge(client, challenge["challenge_id"], "backup_code", code=codes[0])
    assert used.status_code == 200, used.text
    notice = mailbox.last_email(to=alice.email, kind="security.backup_code_used")
    assert "9 codes are left" in notice.text
    second = start_login(client, alice)["challenge_id"]
    again = answer_challenge(client, second, "backup_code", code=codes[0])
    assert_refused(again, 401, "AUTH_MFA_INVALID")
    alice.tokens = answer_challenge(client, second, "backup_code", code=codes[1]).json()
    listed = {factor["kind"]: factor for factor in factors_of(client, alice)}
    assert listed["backup_codes"]["backup_codes_left"] == 8


def test_backup_codes_when_regenerated_then_old_codes_stop_working(
    client: TestClient, alice: Person
) -> None:
    old = new_backup_codes(client, alice)
    new = new_backup_codes(client, alice)
    assert not set(old) & set(new)
    challenge_id = start_login(client, alice)["challenge_id"]
    assert_refused(
        answer_challenge(client, challenge_id, "backup_code", code=old[0]), 401, "AUTH_MFA_INVALID"
    )
    assert answer_challenge(client, challenge_id, "backup_code", code=new[0]).status_code == 200


# Listing, renaming and removing factors


def test_factor_rename_when_recently_verified_then_renamed(
    client: TestClient, alice: Person
) -> None:
    (totp,) = factors_of(client, alice)
    renamed = client.patch(
        f"/v1/mfa/factors/{totp['id']}", json={"name": "  Phone   app "}, headers=alice.headers
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Phone app"
    assert [factor["name"] for factor in factors_of(client, alice)] == ["Phone app"]


def test_sensitive_operations_when_verification_older_than_five_minutes_then_step_up_required(
    client: TestClient, clock: FixedClock, alice: Person
) -> None:
    (totp,) = factors_of(client, alice)
    clock.advance(seconds=STEP_UP_SECONDS)  # the sign-in verified the factor 330 s ago
    for response in _sensitive_requests(client, alice, totp["id"]):
        assert_refused(response, 403, "AUTH_STEP_UP_REQUIRED")
        assert response.json()["max_age_seconds"] == STEP_UP_SECONDS
    assert factors_of(client, alice) == [totp]
    me = client.get("/v1/me", headers=alice.headers).json()
    assert (me["email"], me["ip_allowlist"]) == (alice.email, [])
    assert login(client, alice).status_code == 200  # the password did not change


def test_step_up_when_totp_verified_then_sensitive_operations_open_for_five_minutes(
    client: TestClient, clock: FixedClock, alice: Person
) -> None:
    (totp,) = factors_of(client, alice)
    clock.advance(seconds=STEP_UP_SECONDS)
    step_up_with_totp(client, alice, clock)  # then half a minute passes
    url = f"/v1/mfa/factors/{totp['id']}"
    assert client.patch(url, json={"name": "Work phone"}, headers=alice.headers).status_code == 200
    clock.advance(seconds=STEP_UP_SECONDS - 29)
    late = client.patch(url, json={"name": "Too late"}, headers=alice.headers)
    assert_refused(late, 403, "AUTH_STEP_UP_REQUIRED")
    assert [factor["name"] for factor in factors_of(client, alice)] == ["Work phone"]


def test_step_up_when_totp_wrong_then_refused_and_still_closed(
    client: TestClient, clock: FixedClock, alice: Person
) -> None:
    (totp,) = factors_of(client, alice)
    clock.advance(seconds=STEP_UP_SECONDS)
    started = client.post("/v1/auth/step-up/start", json={"method": "totp"}, headers=alice.headers)
    wrong = client.post(
        "/v1/auth/step-up",
        json={
            "challenge_id": started.json()["challenge_id"],
            "method": "totp",
            "code": wrong_code(totp_now(alice, clock)),
        },
        headers=alice.headers,
    )
    assert_refused(wrong, 401, "AUTH_MFA_INVALID")
    renamed = client.patch(
        f"/v1/mfa/factors/{totp['id']}", json={"name": "X"}, headers=alice.headers
    )
    assert_refused(renamed, 403, "AUTH_STEP_UP_REQUIRED")


def test_step_up_when_sms_offered_while_totp_enrolled_then_refused(
    client: TestClient, mailbox: MemorySender, alice: Person
) -> None:
    enrol_code_factor(client, mailbox, alice, "sms", PHONE)
    texts = len(mailbox.texts)
    refused = client.post("/v1/auth/step-up/start", json={"method": "sms"}, headers=alice.headers)
    assert_refused(refused, 400, "AUTH_MFA_METHOD_UNAVAILABLE")
    assert refused.json()["methods"] == ["totp"]
    assert len(mailbox.texts) == texts


def test_step_up_when_sms_is_the_only_factor_then_sms_accepted(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    carol = _sms_user(client, mailbox)
    (sms,) = factors_of(client, carol)
    clock.advance(seconds=STEP_UP_SECONDS + 1)
    started = client.post("/v1/auth/step-up/start", json={"method": "sms"}, headers=carol.headers)
    assert started.status_code == 200, started.text
    done = client.post(
        "/v1/auth/step-up",
        json={
            "challenge_id": started.json()["challenge_id"],
            "method": "sms",
            "code": last_code(mailbox, carol, "sms", PHONE),
        },
        headers=carol.headers,
    )
    assert done.status_code == 200, done.text
    renamed = client.patch(
        f"/v1/mfa/factors/{sms['id']}", json={"name": "Mobile"}, headers=carol.headers
    )
    assert renamed.status_code == 200, renamed.text


def test_factor_remove_when_another_factor_remains_then_removed_and_every_session_ends(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database, alice: Person
) -> None:
    sms = enrol_code_factor(client, mailbox, alice, "sms", PHONE)
    earlier = dict(alice.tokens)
    sign_in_with_totp(client, alice, clock)
    removed = client.delete(f"/v1/mfa/factors/{sms['id']}", headers=alice.headers)
    assert removed.status_code == 204, removed.text
    for tokens in (earlier, alice.tokens):
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert_refused(client.get("/v1/me", headers=headers), 401, "AUTH_SESSION_REVOKED")
    assert mailbox.last_email(to=alice.email, kind="security.factor_removed")
    events = audit_event_types(clean_database.engine)
    assert "auth.factor.removed" in events
    assert events.count("auth.session.revoked") == 2
    sign_in_with_totp(client, alice, clock)
    assert [factor["kind"] for factor in factors_of(client, alice)] == ["totp"]


def test_factor_remove_when_last_real_factor_then_conflict_and_nothing_changes(
    client: TestClient, alice: Person
) -> None:
    new_backup_codes(client, alice)
    before = factors_of(client, alice)
    totp = next(factor for factor in before if factor["kind"] == "totp")
    refused = client.delete(f"/v1/mfa/factors/{totp['id']}", headers=alice.headers)
    assert_refused(refused, 409, "MFA_LAST_FACTOR")
    assert factors_of(client, alice) == before  # the session still works, too


def test_factor_of_another_user_when_renamed_removed_or_confirmed_then_not_found(
    client: TestClient, alice: Person, bob: Person
) -> None:
    (bobs,) = factors_of(client, bob)
    pending = start_code_factor(client, bob, "email")
    url = f"/v1/mfa/factors/{bobs['id']}"
    assert_refused(
        client.patch(url, json={"name": "Mine"}, headers=alice.headers), 404, "NOT_FOUND"
    )
    assert_refused(client.delete(url, headers=alice.headers), 404, "NOT_FOUND")
    assert_refused(confirm_factor(client, alice, pending, "123456"), 404, "NOT_FOUND")
    assert factors_of(client, bob) == [bobs]
    assert client.get("/v1/me", headers=bob.headers).status_code == 200


# The login challenge


def test_login_challenge_when_several_factors_then_names_each_method(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, alice: Person
) -> None:
    enrol_code_factor(client, mailbox, alice, "sms", PHONE)
    clock.advance(seconds=30)  # enrolment codes are sent at most every 30 seconds
    enrol_code_factor(client, mailbox, alice, "email")
    new_backup_codes(client, alice)
    challenge = start_login(client, alice)
    assert challenge["methods"] == ["totp", "sms", "email", "backup_code"]
    assert challenge["expires_in"] == CODE_TTL_SECONDS


def test_login_challenge_when_method_not_enrolled_then_unavailable_and_not_counted(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, alice: Person
) -> None:
    challenge_id = start_login(client, alice)["challenge_id"]
    for method in ("sms", "webauthn", "backup_code"):
        refused = answer_challenge(client, challenge_id, method, code="123456")
        assert_refused(refused, 400, "AUTH_MFA_METHOD_UNAVAILABLE")
        assert refused.json()["methods"] == ["totp"]
    assert_refused(
        send_login_code(client, challenge_id, "email"), 400, "AUTH_MFA_METHOD_UNAVAILABLE"
    )
    assert all(email.kind != "otp.email" for email in mailbox.emails)
    answered = answer_challenge(client, challenge_id, "totp", code=totp_now(alice, clock))
    assert answered.status_code == 200, answered.text


def test_login_challenge_when_five_wrong_answers_then_dead(
    client: TestClient, clock: FixedClock, clean_database, alice: Person
) -> None:
    challenge_id = start_login(client, alice)["challenge_id"]

    def guess() -> Any:
        return answer_challenge(
            client, challenge_id, "totp", code=wrong_code(totp_now(alice, clock))
        )

    for _ in range(5):
        assert_refused(patiently(clock, guess), 401, "AUTH_MFA_INVALID")
    right = answer_challenge(client, challenge_id, "totp", code=totp_now(alice, clock))
    assert_refused(right, 400, "AUTH_CHALLENGE_INVALID")
    assert audit_event_types(clean_database.engine).count("auth.mfa.failed") == 5


def test_login_challenge_when_four_wrong_answers_then_right_one_accepted(
    client: TestClient, clock: FixedClock, alice: Person
) -> None:
    challenge_id = start_login(client, alice)["challenge_id"]

    def guess() -> Any:
        return answer_challenge(
            client, challenge_id, "totp", code=wrong_code(totp_now(alice, clock))
        )

    for _ in range(4):
        assert_refused(patiently(clock, guess), 401, "AUTH_MFA_INVALID")

    def right() -> Any:
        return answer_challenge(client, challenge_id, "totp", code=totp_now(alice, clock))

    assert patiently(clock, right).status_code == 200


@pytest.mark.parametrize(
    ("wait", "status"), [(CODE_TTL_SECONDS - 1, 200), (CODE_TTL_SECONDS + 1, 400)]
)
def test_login_challenge_when_waiting_then_expires_after_ten_minutes(
    client: TestClient, clock: FixedClock, alice: Person, wait: int, status: int
) -> None:
    challenge_id = start_login(client, alice)["challenge_id"]
    clock.advance(seconds=wait)
    answered = answer_challenge(client, challenge_id, "totp", code=totp_now(alice, clock))
    assert answered.status_code == status, answered.text
    if status == 400:
        assert_refused(answered, 400, "AUTH_CHALLENGE_INVALID")
