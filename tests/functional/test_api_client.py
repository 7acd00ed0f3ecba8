"""The bundled signing client (``tradeguard.client``) against the real HTTPS server.

No route a key's scope allows is served yet, so a request that gets as far as
``403 APIKEY_SCOPE`` shows the gateway accepted its signature, timestamp and nonce.
"""

from __future__ import annotations

import http.client
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from live_api import Api, Person
from support import LiveServer
from tradeguard.client import ApiError, ClientResponse, TradeGuardClient, unix_ms

pytestmark = pytest.mark.live_server

SCOPES = ("data", "trading")
SKEW_MS = 60_000
SERVER_CLOCK_TOLERANCE_MS = 5_000
UNKNOWN_KEY_ID = "tgk_" + "0" * 24
SCOPE_REFUSAL = (403, "APIKEY_SCOPE")


@dataclass(frozen=True)
class IssuedKey:
    """What the server hands out once: the key id and its secret."""

    key_id: str
    secret: str
    row_id: str


@pytest.fixture(scope="module")
def keys(live_server: LiveServer) -> dict[str, IssuedKey]:
    """A person with an authenticator app, stepped up, with one key of each scope."""
    api = Api(live_server)
    person = Person()
    access = api.sign_up_with_totp(person)["access_token"]
    api.step_up_with_totp(person, access)
    return {scope: _create_key(api, access, scope) for scope in SCOPES}


def _create_key(api: Api, access_token: str, scope: str) -> IssuedKey:
    ask = {"scope": scope, "label": f"{scope} bot"}
    created = api.expect("POST", "/v1/api-keys", ask, access_token)
    return IssuedKey(created["key_id"], created["secret"], created["id"])


@contextmanager
def client_for(
    server: LiveServer, key_id: str, secret: str, clock_ms: Callable[[], int] = unix_ms
) -> Iterator[TradeGuardClient]:
    """A client of the live server that trusts its development CA."""
    client = TradeGuardClient(
        f"https://localhost:{server.port}",
        key_id,
        secret,
        ssl_context=server.client_context(),
        clock_ms=clock_ms,
    )
    try:
        yield client
    finally:
        client.close()


def reason_of(response: ClientResponse) -> tuple[int, str | None]:
    return response.status, response.json_or_empty().get("reason_code")


def send_raw(server: LiveServer, path: str, headers: dict[str, str]) -> ClientResponse:
    """A GET with exactly these headers, on a connection of its own."""
    connection = http.client.HTTPSConnection(
        "localhost", server.port, context=server.client_context(), timeout=15
    )
    try:
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        body = answer.read()
    finally:
        connection.close()
    return ClientResponse(answer.status, {k.lower(): v for k, v in answer.getheaders()}, body)


@pytest.mark.parametrize("scope", SCOPES)
def test_signed_get_when_key_is_valid_then_authenticated_and_refused_only_for_scope(
    live_server: LiveServer, keys: dict[str, IssuedKey], scope: str
) -> None:
    key = keys[scope]
    with client_for(live_server, key.key_id, key.secret) as client:
        refused = client.get("/v1/api-keys")
    assert reason_of(refused) == SCOPE_REFUSAL
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_signed_get_when_query_has_params_then_the_signature_covers_them(
    live_server: LiveServer, keys: dict[str, IssuedKey]
) -> None:
    key = keys["data"]
    params = {"label": "rebalancer bot+1", "after": "2026-11-21T09:30:00+00:00", "a": "~é/"}
    with client_for(live_server, key.key_id, key.secret) as client:
        assert reason_of(client.get("/v1/api-keys", params=params)) == SCOPE_REFUSAL


def test_signed_post_when_body_is_json_then_the_signature_covers_it(
    live_server: LiveServer, keys: dict[str, IssuedKey]
) -> None:
    key = keys["trading"]
    with client_for(live_server, key.key_id, key.secret) as client:
        refused = client.post("/v1/api-keys", {"scope": "trading", "label": "more keys, please"})
    assert reason_of(refused) == SCOPE_REFUSAL


def test_signed_delete_when_key_revokes_itself_then_refused_and_the_key_still_works(
    live_server: LiveServer, keys: dict[str, IssuedKey]
) -> None:
    key = keys["trading"]
    with client_for(live_server, key.key_id, key.secret) as client:
        assert reason_of(client.delete(f"/v1/api-keys/{key.row_id}")) == SCOPE_REFUSAL
        assert reason_of(client.get("/v1/api-keys")) == SCOPE_REFUSAL


def test_client_when_one_connection_sends_several_requests_then_each_is_signed_afresh(
    live_server: LiveServer, keys: dict[str, IssuedKey]
) -> None:
    key = keys["data"]
    with client_for(live_server, key.key_id, key.secret) as client:
        answers = [reason_of(client.get("/v1/api-keys")) for _ in range(3)]
    assert answers == [SCOPE_REFUSAL] * 3


def test_client_when_secret_is_wrong_then_bad_signature(
    live_server: LiveServer, keys: dict[str, IssuedKey]
) -> None:
    key = keys["trading"]
    with client_for(live_server, key.key_id, secrets.token_urlsafe(32)) as client:
        assert reason_of(client.get("/v1/api-keys")) == (401, "APIKEY_BAD_SIGNATURE")
        assert reason_of(client.post("/v1/api-keys", {"scope": "data", "label": "x"})) == (
            401,
            "APIKEY_BAD_SIGNATURE",
        )


def test_client_when_key_id_is_unknown_then_invalid_key(live_server: LiveServer) -> None:
    with client_for(live_server, UNKNOWN_KEY_ID, secrets.token_urlsafe(32)) as client:
        assert reason_of(client.get("/v1/api-keys")) == (401, "APIKEY_INVALID")


@pytest.mark.parametrize("offset_ms", [SKEW_MS, -SKEW_MS])
def test_client_when_clock_is_a_minute_off_then_skew_refused_with_server_time(
    live_server: LiveServer, keys: dict[str, IssuedKey], offset_ms: int
) -> None:
    key = keys["data"]
    with client_for(live_server, key.key_id, key.secret, lambda: unix_ms() + offset_ms) as client:
        refused = client.get("/v1/api-keys")
    assert reason_of(refused) == (401, "APIKEY_TIMESTAMP_SKEW")
    server_time_ms = refused.json()["server_time_ms"]
    assert abs(server_time_ms - unix_ms()) < SERVER_CLOCK_TOLERANCE_MS


def test_signing_headers_when_sent_twice_then_the_second_is_a_replay(
    live_server: LiveServer, keys: dict[str, IssuedKey]
) -> None:
    key = keys["trading"]
    with client_for(live_server, key.key_id, key.secret) as client:
        headers = client.signing_headers("GET", "/v1/api-keys", "", b"")
    assert reason_of(send_raw(live_server, "/v1/api-keys", headers)) == SCOPE_REFUSAL
    assert reason_of(send_raw(live_server, "/v1/api-keys", headers)) == (401, "APIKEY_REPLAY")


def test_raise_for_status_when_refused_then_api_error_carries_the_problem(
    live_server: LiveServer, keys: dict[str, IssuedKey]
) -> None:
    key = keys["data"]
    with client_for(live_server, key.key_id, key.secret) as client:
        refused = client.get("/v1/api-keys")
    with pytest.raises(ApiError) as raised:
        refused.raise_for_status()
    assert raised.value.response.status == 403
    assert raised.value.problem["reason_code"] == "APIKEY_SCOPE"
    assert "APIKEY_SCOPE" in str(raised.value)


def test_repr_when_client_is_shown_then_the_secret_never_appears(
    live_server: LiveServer, keys: dict[str, IssuedKey]
) -> None:
    key = keys["trading"]
    with client_for(live_server, key.key_id, key.secret) as client:
        client.get("/v1/api-keys")  # a live connection is part of the state too
        shown = [repr(client), str(client), f"{client!r}"]
    assert all(key.key_id in text for text in shown)
    assert not any(key.secret in text for text in shown)
