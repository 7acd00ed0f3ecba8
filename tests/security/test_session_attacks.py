"""Attacks on sessions through the API: tokens used after logout or the idle timeout,
replayed refresh tokens, and access tokens altered or forged to reach another session."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functional.identity_flows import (
    Person,
    assert_refused,
    audit_event_types,
    bearer,
    build_app,
    client_at,
    refresh,
    sign_in_with_totp,
    signed_up_with_totp,
)
from support import registry_of
from tradeguard.config import Settings
from tradeguard.core.clock import NS_PER_SECOND, FixedClock
from tradeguard.notify.notifier import MemorySender

IDLE_SECONDS = 900
SINCE_SIGN_IN = 30


@pytest.fixture
def alice(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    """Alice with an authenticator app, in a full session."""
    return signed_up_with_totp(client, mailbox, clock, Person())


@pytest.fixture
def bob(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> Person:
    """Bob with an authenticator app, in a full session."""
    return signed_up_with_totp(client, mailbox, clock, Person("bob", "bob@example.com"))


@pytest.fixture
def long_token_client(
    settings_for: Callable[..., Settings],
    clean_database,
    clock: FixedClock,
    mailbox: MemorySender,
) -> Iterator[TestClient]:
    """A client of an app whose access tokens outlive the idle timeout."""
    app = build_app(settings_for(access_token_seconds=3600), clean_database.engine, clock, mailbox)
    with client_at(app) as client:
        yield client


def _me(client: TestClient, tokens: dict[str, Any]) -> Any:
    return client.get("/v1/me", headers=bearer(tokens["access_token"]))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    decode = base64.urlsafe_b64decode
    return (
        json.loads(decode(header + "=" * (-len(header) % 4))),
        json.loads(decode(payload + "=" * (-len(payload) % 4))),
        signature,
    )


def _altered(token: str, **claims: Any) -> str:
    """The token with claims changed and the original signature kept."""
    header, _, signature = token.split(".")
    _, values, _ = _segments(token)
    values.update(claims)
    return f"{header}.{_b64url(json.dumps(values).encode())}.{signature}"


def _signed_by_server(app: FastAPI, *, sub: str, sid: str) -> str:
    """A token the server's own issuer signs for any ``sub`` and ``sid`` (a stolen key)."""
    identity = registry_of(app).identity
    now = identity.clock.now_ns() // NS_PER_SECOND
    with registry_of(app).services.sessions.begin() as db:
        token, _ = identity.sessions._issuer.issue(
            db,
            sub=sub,
            sid=sid,
            role="TRADER",
            permissions=("account:view",),
            amr=("pwd", "otp", "mfa"),
            auth_time=now,
            enrollment_only=False,
            pv=1,
        )
    return str(token)


def _signed_by_stranger(token: str, **claims: Any) -> str:
    """The token with claims changed, signed by a key the server never issued (same kid)."""
    header, payload, _ = _segments(token)
    payload.update(claims)
    signing_input = (
        f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(payload).encode())}"
    )
    signature = Ed25519PrivateKey.generate().sign(signing_input.encode())
    return f"{signing_input}.{_b64url(signature)}"


# Sessions that have ended


def test_session_when_used_after_logout_then_refused(client: TestClient, alice: Person) -> None:
    tokens = alice.tokens
    assert client.post("/v1/auth/logout", headers=alice.headers).status_code == 204
    assert_refused(_me(client, tokens), 401, "AUTH_SESSION_REVOKED")
    assert_refused(client.get("/v1/sessions", headers=alice.headers), 401, "AUTH_SESSION_REVOKED")
    assert_refused(
        client.post("/v1/auth/logout", headers=alice.headers), 401, "AUTH_SESSION_REVOKED"
    )
    assert_refused(refresh(client, tokens["refresh_token"]), 401, "AUTH_SESSION_REVOKED")


def test_session_when_used_after_idle_timeout_then_refused_for_good(
    long_token_client: TestClient, mailbox: MemorySender, clock: FixedClock, clean_database
) -> None:
    client = long_token_client
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    clock.advance(seconds=IDLE_SECONDS + 1 - SINCE_SIGN_IN)
    assert_refused(_me(client, alice.tokens), 401, "AUTH_SESSION_EXPIRED")
    assert_refused(_me(client, alice.tokens), 401, "AUTH_SESSION_REVOKED")  # no revival
    assert refresh(client, alice.tokens["refresh_token"]).status_code == 401
    assert "auth.session.revoked" in audit_event_types(clean_database.engine)


def test_session_when_its_state_is_held_in_memory_then_logout_still_refuses_at_once(
    client: TestClient, alice: Person
) -> None:
    """A gated route answers from the session state it holds; a logout must drop it."""
    tokens = alice.tokens
    assert _me(client, tokens).status_code == 200
    assert _me(client, tokens).status_code == 200  # answered from the state held in memory
    assert client.post("/v1/auth/logout", headers=alice.headers).status_code == 204
    assert_refused(_me(client, tokens), 401, "AUTH_SESSION_REVOKED")


def test_session_when_its_state_is_held_in_memory_then_the_idle_timeout_still_ends_it(
    long_token_client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    client = long_token_client
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    assert _me(client, alice.tokens).status_code == 200
    assert _me(client, alice.tokens).status_code == 200  # the state is now held in memory
    clock.advance(seconds=IDLE_SECONDS + 1)  # idle since those requests
    assert_refused(_me(client, alice.tokens), 401, "AUTH_SESSION_EXPIRED")
    assert_refused(_me(client, alice.tokens), 401, "AUTH_SESSION_REVOKED")


# Refresh-token replay


def test_refresh_token_when_replayed_after_owner_rotated_then_session_ends(
    client: TestClient, mailbox: MemorySender, alice: Person
) -> None:
    stolen = alice.tokens["refresh_token"]
    owner = refresh(client, stolen).json()
    assert_refused(refresh(client, stolen), 401, "AUTH_REFRESH_REUSED")
    assert_refused(_me(client, owner), 401, "AUTH_SESSION_REVOKED")
    assert mailbox.last_email(to=alice.email, kind="security.token_reuse")


def test_refresh_token_when_thief_spends_it_first_then_owner_replay_ends_thief_session(
    client: TestClient, mailbox: MemorySender, clean_database, alice: Person
) -> None:
    stolen = alice.tokens["refresh_token"]
    thief = refresh(client, stolen)
    assert thief.status_code == 200, thief.text
    assert_refused(refresh(client, stolen), 401, "AUTH_REFRESH_REUSED")  # the owner's turn
    assert_refused(_me(client, thief.json()), 401, "AUTH_SESSION_REVOKED")
    assert refresh(client, thief.json()["refresh_token"]).status_code == 401
    assert "auth.token.reused" in audit_event_types(clean_database.engine)
    assert mailbox.last_email(to=alice.email, kind="security.token_reuse")


def test_refresh_token_when_replayed_again_and_again_then_always_refused(
    client: TestClient, mailbox: MemorySender, alice: Person
) -> None:
    stolen = alice.tokens["refresh_token"]
    assert refresh(client, stolen).status_code == 200
    for _ in range(3):
        assert_refused(refresh(client, stolen), 401, "AUTH_REFRESH_REUSED")
    warnings = [email for email in mailbox.emails if email.kind == "security.token_reuse"]
    assert len(warnings) == 1  # the session ended once


@pytest.mark.parametrize("kind", ["random", "access token", "empty-ish"])
def test_refresh_token_when_made_up_then_invalid(
    client: TestClient, alice: Person, kind: str
) -> None:
    made_up = {
        "random": _b64url(b"\x01" * 32),
        "access token": alice.tokens["access_token"],
        "empty-ish": "x",
    }[kind]
    assert_refused(refresh(client, made_up), 401, "AUTH_REFRESH_INVALID")
    assert _me(client, alice.tokens).status_code == 200


# Altered and forged access tokens


@pytest.mark.parametrize("claim", ["sid", "sub"])
def test_access_token_when_claim_swapped_to_another_user_then_invalid(
    client: TestClient, alice: Person, bob: Person, claim: str
) -> None:
    _, bobs, _ = _segments(bob.tokens["access_token"])
    altered = _altered(alice.tokens["access_token"], **{claim: bobs[claim]})
    assert_refused(client.get("/v1/me", headers=bearer(altered)), 401, "AUTH_TOKEN_INVALID")


def test_access_token_when_signed_by_an_unknown_key_then_invalid(
    client: TestClient, alice: Person, bob: Person
) -> None:
    _, bobs, _ = _segments(bob.tokens["access_token"])
    forged = _signed_by_stranger(alice.tokens["access_token"], sub=bobs["sub"], sid=bobs["sid"])
    assert_refused(client.get("/v1/me", headers=bearer(forged)), 401, "AUTH_TOKEN_INVALID")


@pytest.mark.parametrize("swap", ["sid of another user", "sub of another user"])
def test_access_token_when_validly_signed_for_a_mismatched_session_then_refused(
    app: FastAPI, client: TestClient, alice: Person, bob: Person, swap: str
) -> None:
    _, alices, _ = _segments(alice.tokens["access_token"])
    _, bobs, _ = _segments(bob.tokens["access_token"])
    sub, sid = (
        (alices["sub"], bobs["sid"])
        if swap == "sid of another user"
        else (bobs["sub"], alices["sid"])
    )
    forged = _signed_by_server(app, sub=sub, sid=sid)
    assert_refused(client.get("/v1/me", headers=bearer(forged)), 401, "AUTH_SESSION_REVOKED")
    assert_refused(client.get("/v1/sessions", headers=bearer(forged)), 401, "AUTH_SESSION_REVOKED")
    assert _me(client, bob.tokens).json()["username"] == "bob"


def test_access_token_when_validly_signed_for_an_unknown_session_then_refused(
    app: FastAPI, client: TestClient, alice: Person
) -> None:
    _, alices, _ = _segments(alice.tokens["access_token"])
    forged = _signed_by_server(app, sub=alices["sub"], sid="01a1fd00-0000-7000-8000-000000000000")
    assert_refused(client.get("/v1/me", headers=bearer(forged)), 401, "AUTH_SESSION_REVOKED")


def test_access_token_when_of_a_revoked_session_then_refused_even_if_still_unexpired(
    client: TestClient, clock: FixedClock, alice: Person
) -> None:
    first = alice.tokens
    sign_in_with_totp(client, alice, clock)
    revoked = client.delete(f"/v1/sessions/{first['session_id']}", headers=alice.headers)
    assert revoked.status_code == 204
    assert_refused(_me(client, first), 401, "AUTH_SESSION_REVOKED")
