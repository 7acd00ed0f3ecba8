"""Attacks on signed requests: replay, skewed time, tampering, foreign secrets, forged keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functional.api_key_flows import (
    create_key,
    keyed_trader,
    signature_headers,
    with_probes,
)
from functional.identity_flows import Person, audit_event_types, build_app, code_in, reason_of
from support import TestDatabase, registry_of
from tradeguard.apikeys.signing import (
    HEADER_KEY,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    signed_headers,
)
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

ORDERS = "/v1/probe/orders"
ORDER = json.dumps({"symbol": "ACME", "qty": 10}).encode()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(
        with_probes(app), base_url="https://testserver", raise_server_exceptions=False
    ) as test:
        yield test


@pytest.fixture
def key(client: TestClient, mailbox: MemorySender, clock: FixedClock) -> dict[str, Any]:
    return keyed_trader(client, mailbox, clock)[1]


def _post(client: TestClient, url: str, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(url, content=body, headers=headers | {"content-type": "application/json"})


def test_replay_when_a_signed_request_is_sent_twice_then_the_second_is_refused(
    client: TestClient, key: dict[str, Any], clock: FixedClock
) -> None:
    headers = signature_headers(key, clock, "POST", ORDERS, body=ORDER)
    assert _post(client, ORDERS, ORDER, headers).status_code == 200
    clock.advance(seconds=1)
    assert reason_of(_post(client, ORDERS, ORDER, headers)) == (401, "APIKEY_REPLAY")


def test_replay_when_the_nonce_is_reused_with_a_new_signature_then_refused(
    client: TestClient, key: dict[str, Any], clock: FixedClock
) -> None:
    first = signature_headers(key, clock, "POST", ORDERS, body=ORDER)
    assert _post(client, ORDERS, ORDER, first).status_code == 200
    clock.advance(seconds=2)
    again = signature_headers(key, clock, "POST", ORDERS, body=ORDER, nonce=first[HEADER_NONCE])
    assert reason_of(_post(client, ORDERS, ORDER, again)) == (401, "APIKEY_REPLAY")


def test_replay_when_the_nonce_store_restarted_since_then_refused_and_a_fresh_request_served(  # noqa: PLR0913, PLR0917 - the app's fixtures and a second app's
    client: TestClient,
    key: dict[str, Any],
    clock: FixedClock,
    settings: Settings,
    clean_database: TestDatabase,
    mailbox: MemorySender,
) -> None:
    captured = signature_headers(key, clock, "POST", ORDERS, body=ORDER)
    assert _post(client, ORDERS, ORDER, captured).status_code == 200
    clock.advance(seconds=2)  # the process keeping nonces in memory (no Redis) restarts
    restarted = with_probes(build_app(settings, clean_database.engine, clock, mailbox))
    with TestClient(
        restarted, base_url="https://testserver", raise_server_exceptions=False
    ) as after:
        replayed = _post(after, ORDERS, ORDER, captured)
        assert reason_of(replayed) == (401, "APIKEY_NONCES_RESTARTED")
        assert replayed.json()["nonces_since_ms"] == clock.now_ns() // 1_000_000
        assert "fresh timestamp" in replayed.json()["detail"]
        fresh = signature_headers(key, clock, "POST", ORDERS, body=ORDER)
        assert _post(after, ORDERS, ORDER, fresh).status_code == 200


@pytest.mark.parametrize("shift_ms", [6_000, -6_000, 3_600_000])
def test_timestamp_when_outside_the_window_then_refused(
    client: TestClient, key: dict[str, Any], clock: FixedClock, shift_ms: int
) -> None:
    refused = _post(client, ORDERS, ORDER, _resigned(key, clock, shift_ms))
    assert reason_of(refused) == (401, "APIKEY_TIMESTAMP_SKEW")
    assert refused.json()["window_ms"] == 5000


def test_timestamp_when_inside_the_window_then_accepted(
    client: TestClient, key: dict[str, Any], clock: FixedClock
) -> None:
    assert _post(client, ORDERS, ORDER, _resigned(key, clock, -4_000)).status_code == 200
    assert _post(client, ORDERS, ORDER, _resigned(key, clock, 4_000)).status_code == 200


def test_tampering_when_the_body_is_altered_then_refused(
    client: TestClient, key: dict[str, Any], clock: FixedClock
) -> None:
    headers = signature_headers(key, clock, "POST", ORDERS, body=ORDER)
    altered = ORDER.replace(b"10", b"99")
    assert reason_of(_post(client, ORDERS, altered, headers)) == (401, "APIKEY_BAD_SIGNATURE")


def test_tampering_when_the_query_is_altered_then_refused_but_reordering_is_not_tampering(
    client: TestClient, key: dict[str, Any], clock: FixedClock
) -> None:
    headers = signature_headers(key, clock, "GET", "/v1/probe/account", query="a=1&b=2")
    tampered = client.get("/v1/probe/account?a=1&b=3", headers=headers)
    assert reason_of(tampered) == (401, "APIKEY_BAD_SIGNATURE")
    headers = signature_headers(key, clock, "GET", "/v1/probe/account", query="a=1&b=2")
    assert client.get("/v1/probe/account?b=2&a=1", headers=headers).status_code == 200
    headers = signature_headers(key, clock, "GET", "/v1/probe/account", query="a=1")
    added = client.get("/v1/probe/account?a=1&admin=1", headers=headers)
    assert reason_of(added) == (401, "APIKEY_BAD_SIGNATURE")


def test_tampering_when_repeated_values_are_reordered_then_refused(
    client: TestClient, key: dict[str, Any], clock: FixedClock
) -> None:
    signed = "state=open&state=all"
    headers = signature_headers(key, clock, "GET", "/v1/probe/account", query=signed)
    reordered = client.get("/v1/probe/account?state=all&state=open", headers=headers)
    assert reason_of(reordered) == (401, "APIKEY_BAD_SIGNATURE")
    headers = signature_headers(key, clock, "GET", "/v1/probe/account", query=signed + "&x=1")
    interleaved = client.get("/v1/probe/account?state=open&x=1&state=all", headers=headers)
    assert interleaved.json() == {"query": "state=open&x=1&state=all"}


def test_tampering_when_the_path_or_method_is_altered_then_refused(
    client: TestClient, key: dict[str, Any], clock: FixedClock
) -> None:
    headers = signature_headers(key, clock, "DELETE", "/v1/probe/orders/o-1")
    moved = client.delete("/v1/probe/orders/o-2", headers=headers)
    assert reason_of(moved) == (401, "APIKEY_BAD_SIGNATURE")
    headers = signature_headers(key, clock, "GET", ORDERS, body=ORDER)
    assert reason_of(_post(client, ORDERS, ORDER, headers)) == (401, "APIKEY_BAD_SIGNATURE")


def test_forgery_when_signed_with_another_keys_secret_then_refused(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, key: dict[str, Any]
) -> None:
    _, other = keyed_trader(
        client, mailbox, clock, Person(username="mallory", email="m@example.com")
    )
    headers = signature_headers(key, clock, "POST", ORDERS, body=ORDER, secret=other["secret"])
    assert reason_of(_post(client, ORDERS, ORDER, headers)) == (401, "APIKEY_BAD_SIGNATURE")


@pytest.mark.parametrize(
    "key_id", ["tgk_000000000000000000000000", "tgk_", "' OR 1=1 --", "x" * 500, "tgk_\u0000"]
)
def test_forgery_when_the_key_id_is_unknown_or_junk_then_refused(
    client: TestClient, key: dict[str, Any], clock: FixedClock, key_id: str
) -> None:
    headers = signature_headers(key, clock, "POST", ORDERS, body=ORDER) | {HEADER_KEY: key_id}
    assert reason_of(_post(client, ORDERS, ORDER, headers)) == (401, "APIKEY_INVALID")


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("TG-TIMESTAMP", "soon"),
        ("TG-TIMESTAMP", "-1"),
        (HEADER_NONCE, "0123456789abcdef"),  # 64 bits only
        (HEADER_NONCE, "not a nonce at all!!!!!!"),
        (HEADER_SIGNATURE, "00" * 31),
        (HEADER_SIGNATURE, "zz" * 32),
    ],
)
def test_malformed_headers_when_sent_then_400_and_nothing_served(
    client: TestClient, key: dict[str, Any], clock: FixedClock, header: str, value: str
) -> None:
    headers = signature_headers(key, clock, "POST", ORDERS, body=ORDER) | {header: value}
    assert reason_of(_post(client, ORDERS, ORDER, headers)) == (400, "APIKEY_MALFORMED")


def test_missing_signature_when_only_the_key_is_sent_then_400(
    client: TestClient, key: dict[str, Any]
) -> None:
    assert reason_of(_post(client, ORDERS, ORDER, {HEADER_KEY: key["key_id"]})) == (
        400,
        "APIKEY_MALFORMED",
    )


def test_bearer_token_when_sent_alongside_a_bad_signature_then_the_signature_decides(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice, key = keyed_trader(
        client, mailbox, clock, Person(username="alice", email="a@example.com")
    )
    headers = signature_headers(key, clock, "POST", ORDERS, body=b"{}") | alice.headers
    assert reason_of(_post(client, ORDERS, ORDER, headers)) == (401, "APIKEY_BAD_SIGNATURE")


def test_refusals_when_signatures_fail_then_each_is_audited_with_its_reason(
    client: TestClient, key: dict[str, Any], clock: FixedClock, app: FastAPI
) -> None:
    headers = signature_headers(key, clock, "POST", ORDERS, body=b"{}")
    _post(client, ORDERS, ORDER, headers)
    _post(client, ORDERS, ORDER, headers | {HEADER_KEY: "' OR 1=1 --"})
    registry_of(app).access_checks.flush()
    events = audit_event_types(registry_of(app).services.engine)
    assert events.count("apikey.request.refused") == 2


def _resigned(key: dict[str, Any], clock: FixedClock, shift_ms: int) -> dict[str, str]:
    """An order signed correctly, but with a timestamp ``shift_ms`` off the server's clock."""
    return signed_headers(
        key["key_id"],
        key["secret"],
        method="POST",
        path=ORDERS,
        body=ORDER,
        timestamp_ms=clock.now_ns() // 1_000_000 + shift_ms,
    )


NEW_PASSWORD = "saffron-Kettle-orbit-82-lantern"


def _reset_password(client: TestClient, mailbox: MemorySender, person: Person) -> None:
    client.post("/v1/auth/password/forgot", json={"email": person.email})
    code = code_in(mailbox.last_email(to=person.email, kind="email.password_reset").text)
    body = {"email": person.email, "code": code, "new_password": NEW_PASSWORD}
    assert client.post("/v1/auth/password/reset", json=body).status_code == 200


def test_password_reset_when_a_key_was_made_before_then_it_is_refused_after(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    # Someone who held a session for a moment made a key; the owner takes the account
    # back with a reset. The key must die with the reset, not keep trading.
    alice, key = keyed_trader(client, mailbox, clock)
    headers = signature_headers(key, clock, "POST", ORDERS, body=ORDER)
    assert _post(client, ORDERS, ORDER, headers).status_code == 200  # cached as usable
    _reset_password(client, mailbox, alice)
    clock.advance(seconds=1)
    after = signature_headers(key, clock, "POST", ORDERS, body=ORDER)
    assert reason_of(_post(client, ORDERS, ORDER, after)) == (401, "APIKEY_INVALID")
    notice = mailbox.last_email(to=alice.email, kind="security.apikeys_revoked")
    assert key["key_id"] in notice.text
    assert key["secret"] not in notice.text
    engine = registry_of(client.app).services.engine
    assert "apikey.revoked" in audit_event_types(engine)


def test_password_reset_when_there_are_several_keys_then_one_email_lists_them_all(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    alice, first = keyed_trader(client, mailbox, clock)
    second = create_key(client, alice, clock, label="second")
    _reset_password(client, mailbox, alice)
    notices = [m for m in mailbox.emails if m.kind == "security.apikeys_revoked"]
    assert len(notices) == 1
    assert first["key_id"] in notices[0].text
    assert second["key_id"] in notices[0].text
    listed = client.get("/v1/api-keys", headers=alice.headers)
    assert listed.status_code == 401  # the reset also ended the session that made them
