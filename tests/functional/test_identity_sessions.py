"""Tokens and sessions through the API: refresh rotation and reuse, lifetimes, the idle
timeout, listing and revoking sessions, logout, suspension and signing-key rotation."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import (
    Person,
    assert_refused,
    audit_event_types,
    bearer,
    build_app,
    client_at,
    forget_session_states,
    login,
    refresh,
    set_user_status,
    sign_in_with_totp,
    signed_up_with_totp,
)

from support import registry_of
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.crypto.signing import SigningPurpose
from tradeguard.notify.notifier import MemorySender

IDLE_SECONDS = 900
ACCESS_SECONDS = 900
DAY_SECONDS = 86_400
SINCE_SIGN_IN = 30  # the sign-in helpers let half a minute pass after signing in


@pytest.fixture
def alice(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    """Alice with an authenticator app, in a full session opened half a minute ago."""
    return signed_up_with_totp(client, mailbox, clock, Person())


@pytest.fixture
def build_client(
    settings_for: Callable[..., Settings],
    clean_database,
    clock: FixedClock,
    mailbox: MemorySender,
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


def _kid(access_token: str) -> str:
    header = access_token.split(".", maxsplit=1)[0]
    decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    return str(decoded["kid"])


# Refresh tokens


def test_refresh_when_spent_then_rotated(client: TestClient, alice: Person) -> None:
    before = alice.tokens
    rotated = refresh(client, before["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    after = rotated.json()
    assert after["session_id"] == before["session_id"]
    assert after["refresh_token"] != before["refresh_token"]
    assert after["access_token"] != before["access_token"]
    assert len(after["refresh_token"]) >= 43  # 256 bits in base64url
    assert _me(client, after).status_code == 200


def test_refresh_when_spent_token_presented_again_then_session_ends(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database, alice: Person
) -> None:
    stolen = alice.tokens["refresh_token"]
    other = dict(sign_in_with_totp(client, alice, clock))
    current = refresh(client, stolen).json()
    assert_refused(refresh(client, stolen), 401, "AUTH_REFRESH_REUSED")
    assert_refused(_me(client, current), 401, "AUTH_SESSION_REVOKED")
    assert_refused(refresh(client, current["refresh_token"]), 401, "AUTH_SESSION_REVOKED")
    assert "auth.token.reused" in audit_event_types(clean_database.engine)
    assert mailbox.last_email(to=alice.email, kind="security.token_reuse")
    assert _me(client, other).status_code == 200  # other sessions live on


def _race_two_refreshes(client: TestClient, token: str) -> list[Any]:
    """Spend ``token`` from two threads released at the same moment."""
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def spend() -> None:
        barrier.wait()
        answers.append(refresh(client, token))

    racers = [threading.Thread(target=spend) for _ in range(2)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=30)
    return answers


def test_refresh_when_two_race_with_the_same_token_then_exactly_one_wins(
    client: TestClient, clock: FixedClock, alice: Person
) -> None:
    for _ in range(3):
        token = sign_in_with_totp(client, alice, clock)["refresh_token"]
        answers = _race_two_refreshes(client, token)
        assert sorted(answer.status_code for answer in answers) == [200, 401]
        loser = next(answer for answer in answers if answer.status_code == 401)
        assert_refused(loser, 401, "AUTH_REFRESH_REUSED")


def test_refresh_when_day_has_passed_then_refused_despite_activity(
    client: TestClient, clock: FixedClock, alice: Person
) -> None:
    tokens = alice.tokens  # the session opened 30 s ago
    for _ in range(102):
        clock.advance(seconds=840)
        refreshed = refresh(client, tokens["refresh_token"])
        assert refreshed.status_code == 200, refreshed.text
        tokens = refreshed.json()
    assert tokens["refresh_expires_in"] == DAY_SECONDS - SINCE_SIGN_IN - 102 * 840
    clock.advance(seconds=tokens["refresh_expires_in"] + 1)
    assert_refused(refresh(client, tokens["refresh_token"]), 401, "AUTH_REFRESH_INVALID")
    assert_refused(_me(client, tokens), 401, "AUTH_SESSION_EXPIRED")


# Access tokens


def test_access_token_when_fifteen_minutes_old_then_expired(
    client: TestClient, clock: FixedClock, alice: Person
) -> None:
    assert alice.tokens["expires_in"] == ACCESS_SECONDS
    clock.advance(seconds=ACCESS_SECONDS - SINCE_SIGN_IN - 1)
    assert _me(client, alice.tokens).status_code == 200
    clock.advance(seconds=2)
    assert_refused(_me(client, alice.tokens), 401, "AUTH_TOKEN_EXPIRED")
    renewed = refresh(client, alice.tokens["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    assert _me(client, renewed.json()).status_code == 200


# The idle timeout


@pytest.mark.parametrize(("wait", "status"), [(IDLE_SECONDS, 200), (IDLE_SECONDS + 1, 401)])
def test_idle_timeout_when_no_request_for_fifteen_minutes_then_session_expired(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    wait: int,
    status: int,
) -> None:
    client = build_client(access_token_seconds=3600)  # the token outlives the idle timeout
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    clock.advance(seconds=wait - SINCE_SIGN_IN)
    answered = _me(client, alice.tokens)
    assert answered.status_code == status, answered.text
    if status == 401:
        assert_refused(answered, 401, "AUTH_SESSION_EXPIRED")
        assert_refused(_me(client, alice.tokens), 401, "AUTH_SESSION_REVOKED")
        assert refresh(client, alice.tokens["refresh_token"]).status_code == 401


def test_idle_timeout_when_requests_keep_coming_then_session_lives_on(
    build_client: Callable[..., TestClient], mailbox: MemorySender, clock: FixedClock
) -> None:
    client = build_client(access_token_seconds=3600)
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    for _ in range(4):
        clock.advance(seconds=IDLE_SECONDS - 60)
        assert _me(client, alice.tokens).status_code == 200
    assert refresh(client, alice.tokens["refresh_token"]).status_code == 200


def test_idle_timeout_when_refreshing_after_it_then_session_expired(
    client: TestClient, clock: FixedClock, clean_database, alice: Person
) -> None:
    clock.advance(seconds=IDLE_SECONDS + 1 - SINCE_SIGN_IN)
    assert_refused(refresh(client, alice.tokens["refresh_token"]), 401, "AUTH_SESSION_EXPIRED")
    assert "auth.session.revoked" in audit_event_types(clean_database.engine)


@pytest.mark.parametrize("role_seconds", [120, 1800])
@pytest.mark.parametrize("overshoot", [0, 1])
def test_idle_timeout_when_set_for_the_role_then_applies_to_its_sessions(
    build_client: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
    role_seconds: int,
    overshoot: int,
) -> None:
    client = build_client(
        access_token_seconds=3600, session_idle_seconds_by_role={"TRADER": role_seconds}
    )
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    clock.advance(seconds=role_seconds + overshoot - SINCE_SIGN_IN)
    answered = _me(client, alice.tokens)
    if overshoot:
        assert_refused(answered, 401, "AUTH_SESSION_EXPIRED")
    else:
        assert answered.status_code == 200, answered.text


# Listing and revoking sessions


def test_sessions_when_listed_then_newest_first_with_the_current_one_marked(
    client: TestClient, clock: FixedClock, alice: Person
) -> None:
    first = alice.tokens
    second = sign_in_with_totp(client, alice, clock)
    listed = client.get("/v1/sessions", headers=alice.headers)
    assert listed.status_code == 200, listed.text
    sessions = listed.json()
    assert [item["id"] for item in sessions] == [second["session_id"], first["session_id"]]
    assert [item["current"] for item in sessions] == [True, False]
    assert sessions[0]["amr"] == ["pwd", "otp", "mfa"]
    assert sessions[0]["user_agent"] == "testclient"
    assert sessions[0]["created_at"] > sessions[1]["created_at"]


def test_session_revoke_when_one_chosen_then_only_it_ends(
    client: TestClient, clock: FixedClock, alice: Person
) -> None:
    first = alice.tokens
    second = sign_in_with_totp(client, alice, clock)
    revoked = client.delete(f"/v1/sessions/{first['session_id']}", headers=alice.headers)
    assert revoked.status_code == 204, revoked.text
    assert_refused(_me(client, first), 401, "AUTH_SESSION_REVOKED")
    assert refresh(client, first["refresh_token"]).status_code == 401
    assert _me(client, second).status_code == 200
    listed = client.get("/v1/sessions", headers=alice.headers).json()
    assert [item["id"] for item in listed] == [second["session_id"]]
    again = client.delete(f"/v1/sessions/{first['session_id']}", headers=alice.headers)
    assert_refused(again, 404, "NOT_FOUND")


def test_session_revoke_when_another_users_session_then_not_found(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, alice: Person
) -> None:
    bob = signed_up_with_totp(client, mailbox, clock, Person("bob", "bob@example.com"))
    refused = client.delete(f"/v1/sessions/{bob.tokens['session_id']}", headers=alice.headers)
    assert_refused(refused, 404, "NOT_FOUND")
    assert _me(client, bob.tokens).status_code == 200


def test_sessions_revoke_all_others_when_asked_then_only_current_remains(
    client: TestClient, clock: FixedClock, alice: Person
) -> None:
    others = [alice.tokens, dict(sign_in_with_totp(client, alice, clock))]
    sign_in_with_totp(client, alice, clock)
    ended = client.delete("/v1/sessions", headers=alice.headers)
    assert ended.status_code == 200, ended.text
    assert ended.json() == {"revoked": 2}
    for tokens in others:
        assert_refused(_me(client, tokens), 401, "AUTH_SESSION_REVOKED")
    listed = client.get("/v1/sessions", headers=alice.headers).json()
    assert [item["current"] for item in listed] == [True]


def test_logout_when_done_then_access_and_refresh_tokens_refused(
    client: TestClient, clean_database, alice: Person
) -> None:
    assert client.post("/v1/auth/logout", headers=alice.headers).status_code == 204
    assert_refused(_me(client, alice.tokens), 401, "AUTH_SESSION_REVOKED")
    assert_refused(refresh(client, alice.tokens["refresh_token"]), 401, "AUTH_SESSION_REVOKED")
    assert "auth.session.revoked" in audit_event_types(clean_database.engine)


# Suspension


def test_suspension_when_set_in_the_database_then_refused_within_a_second(
    client: TestClient, clean_database, alice: Person
) -> None:
    assert _me(client, alice.tokens).status_code == 200  # the session state is now cached
    set_user_status(clean_database.engine, alice.username, "suspended")
    time.sleep(1.1)
    assert_refused(_me(client, alice.tokens), 401, "AUTH_ACCOUNT_SUSPENDED")
    assert_refused(refresh(client, alice.tokens["refresh_token"]), 401, "AUTH_SESSION_REVOKED")
    assert_refused(login(client, alice), 403, "AUTH_ACCOUNT_SUSPENDED")


def test_suspension_when_cached_state_dropped_then_refused_at_once(
    app: FastAPI, client: TestClient, clean_database, alice: Person
) -> None:
    assert _me(client, alice.tokens).status_code == 200
    set_user_status(clean_database.engine, alice.username, "suspended")
    forget_session_states(app)
    assert_refused(_me(client, alice.tokens), 401, "AUTH_ACCOUNT_SUSPENDED")


# Signing keys


def test_jwks_when_token_issued_then_lists_its_key(client: TestClient, alice: Person) -> None:
    published = client.get("/.well-known/jwks.json")
    assert published.status_code == 200, published.text
    keys = {key["kid"]: key for key in published.json()["keys"]}
    key = keys[_kid(alice.tokens["access_token"])]
    assert (key["kty"], key["crv"], key["alg"]) == ("OKP", "Ed25519", "EdDSA")


def test_signing_key_rotation_when_done_then_old_tokens_stay_valid(
    app: FastAPI, client: TestClient, clock: FixedClock, alice: Person
) -> None:
    old = alice.tokens
    assert _me(client, old).status_code == 200
    services = registry_of(app).services
    with services.sessions.begin() as db:
        services.crypto.signing.rotate(db, SigningPurpose.TOKEN)
    new = sign_in_with_totp(client, alice, clock)
    assert _kid(new["access_token"]) != _kid(old["access_token"])
    assert _me(client, old).status_code == 200
    assert _me(client, new).status_code == 200
    published = {key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]}
    assert {_kid(old["access_token"]), _kid(new["access_token"])} <= published
