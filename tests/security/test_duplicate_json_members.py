"""A JSON body naming one member twice is refused (422) on every route, signed or not.

``json.loads`` keeps the last of two members of one name: ``{"scope": "data", ...,
"scope": "trading"}`` once made a trading key while a reader of the first member saw a
data key. The gateway refuses such bodies before any route or signature check reads them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functional.api_key_flows import keyed_trader, signature_headers, with_probes
from functional.identity_flows import Person, reason_of, signed_up_with_totp, step_up_with_totp
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

SCOPE_TWICE = b'{"scope": "data", "label": "reader", "scope": "trading"}'
JSON = {"content-type": "application/json"}


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(
        with_probes(app), base_url="https://testserver", raise_server_exceptions=False
    ) as test:
        yield test


@pytest.mark.parametrize("headers", [JSON, {"content-type": "application/json; charset=utf-8"}, {}])
def test_api_key_when_scope_is_sent_twice_then_422_and_no_key_made(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, headers: dict[str, str]
) -> None:
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    step_up_with_totp(client, alice, clock)
    refused = client.post("/v1/api-keys", content=SCOPE_TWICE, headers=alice.headers | headers)
    assert reason_of(refused) == (422, "VALIDATION_FAILED")
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["errors"][0]["type"] == "duplicate_member"
    assert client.get("/v1/api-keys", headers=alice.headers).json() == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"order": {"qty": 1, "qty": 1000}}',
        b'[{"a": 1}, {"b": 1, "b": 2}]',
        b'{"qty": 1, "q\\u0074y": 1000}',
    ],
)
def test_signed_request_when_a_member_repeats_then_422_before_the_route(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, body: bytes
) -> None:
    _, key = keyed_trader(client, mailbox, clock)
    headers = signature_headers(key, clock, "POST", "/v1/probe/orders", body=body)
    refused = client.post("/v1/probe/orders", content=body, headers=headers | JSON)
    assert reason_of(refused) == (422, "VALIDATION_FAILED")


def test_signed_request_when_members_are_unique_then_served_with_the_same_bytes(
    client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    _, key = keyed_trader(client, mailbox, clock)
    body = json.dumps({"order": {"qty": 1}, "other": {"qty": 2}}).encode()
    headers = signature_headers(key, clock, "POST", "/v1/probe/orders", body=body)
    served: Any = client.post("/v1/probe/orders", content=body, headers=headers | JSON)
    assert served.status_code == 200, served.text
    assert served.json()["body"] == {"order": {"qty": 1}, "other": {"qty": 2}}
