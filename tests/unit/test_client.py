"""The signing client's pieces that need no server: responses, errors, headers, base URLs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tradeguard.apikeys.signing import canonical_string, signature
from tradeguard.client import ApiError, ClientResponse, TradeGuardClient

KEY_ID = "tgk_5f0c6b4e8a1d2c3b4a59687f"
SECRET = "kQ3v8yX2pL9mN4rT7wZ1bC6dF0gH5jK8sA2eU4iO7qM"
FIXED_MS = 1_795_253_400_000
PROBLEM = {"status": 403, "detail": "the key's scope does not cover this", "reason_code": "X_Y"}


def response(status: int, body: bytes) -> ClientResponse:
    return ClientResponse(status, {"content-type": "application/problem+json"}, body)


def fixed_client(base_url: str = "https://broker.example:8443") -> TradeGuardClient:
    return TradeGuardClient(base_url, KEY_ID, SECRET, clock_ms=lambda: FIXED_MS)


@pytest.mark.parametrize("body", [b"", b"<html>bad gateway</html>", b"[1, 2]", b'"text"'])
def test_json_or_empty_when_body_is_not_a_json_object_then_empty(body: bytes) -> None:
    assert response(502, body).json_or_empty() == {}


def test_json_or_empty_when_body_is_a_json_object_then_that_object() -> None:
    assert response(403, json.dumps(PROBLEM).encode()).json_or_empty() == PROBLEM


@pytest.mark.parametrize("status", [200, 201, 204, 304])
def test_raise_for_status_when_not_an_error_then_nothing_raised(status: int) -> None:
    response(status, b"").raise_for_status()


def test_raise_for_status_when_refused_then_api_error_with_the_problem() -> None:
    refused = response(403, json.dumps(PROBLEM).encode())
    with pytest.raises(ApiError) as raised:
        refused.raise_for_status()
    assert raised.value.response is refused
    assert raised.value.problem == PROBLEM
    assert str(raised.value) == "403 X_Y: the key's scope does not cover this"


def test_raise_for_status_when_error_body_is_not_json_then_api_error_with_empty_problem() -> None:
    with pytest.raises(ApiError) as raised:
        response(503, b"Service Unavailable").raise_for_status()
    assert raised.value.problem == {}
    assert str(raised.value) == "503 :"


@pytest.mark.parametrize(
    "base_url",
    ["http://broker.example:8443", "ftp://broker.example", "broker.example:8443", "https://"],
)
def test_request_when_base_url_is_not_https_then_refused_before_connecting(base_url: str) -> None:
    client = fixed_client(base_url)
    with pytest.raises(ValueError, match="https"):
        client.get("/v1/account")
    assert client._connection is None


def test_signing_headers_when_computed_then_they_sign_the_canonical_string() -> None:
    body = b'{"symbol":"AAPL"}'
    headers = fixed_client().signing_headers("POST", "/v1/orders", "a=1", body)
    assert headers["TG-API-KEY"] == KEY_ID
    assert headers["TG-TIMESTAMP"] == str(FIXED_MS)
    canonical = canonical_string(
        headers["TG-TIMESTAMP"], headers["TG-NONCE"], "POST", "/v1/orders", "a=1", body
    )
    assert headers["TG-SIGNATURE"] == signature(SECRET, canonical)


def test_signing_headers_when_computed_twice_then_each_has_a_fresh_nonce() -> None:
    client = fixed_client()
    first, second = (client.signing_headers("GET", "/v1/account", "", b"") for _ in range(2))
    assert first["TG-NONCE"] != second["TG-NONCE"]
    assert first["TG-SIGNATURE"] != second["TG-SIGNATURE"]


def test_repr_when_shown_then_the_secret_never_appears() -> None:
    client = fixed_client()
    assert KEY_ID in repr(client)
    assert SECRET not in repr(client)
    assert SECRET not in str(client)


def test_get_when_a_parameter_repeats_then_sent_and_signed_in_the_order_given() -> None:
    client = fixed_client()
    sent: list[tuple[str, dict[str, str]]] = []

    def capture(method: str, target: str, payload: bytes, headers: dict[str, str]) -> Any:
        del method, payload
        sent.append((target, headers))
        return ClientResponse(200, {}, b"{}")

    client._send = capture  # type: ignore[method-assign]
    client.get("/v1/orders", [("state", "open"), ("symbol", "AAPL"), ("state", "all")])
    [(target, headers)] = sent
    assert target == "/v1/orders?state=open&symbol=AAPL&state=all"
    canonical = canonical_string(
        headers["TG-TIMESTAMP"], headers["TG-NONCE"], "GET", "/v1/orders", target[11:], b""
    )
    assert canonical.splitlines()[4] == "state=open&state=all&symbol=AAPL"
    assert headers["TG-SIGNATURE"] == signature(SECRET, canonical)
    reordered = canonical.replace("state=open&state=all", "state=all&state=open")
    assert headers["TG-SIGNATURE"] != signature(SECRET, reordered)
