"""Two app instances sharing Redis behave as one: nonces and revocations cross nodes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from functional.api_key_flows import keyed_trader, signature_headers, signed_call, with_probes
from functional.identity_flows import build_app, reason_of
from support import SharedRedis, TestDatabase
from tradeguard.apikeys.problems import ApiKeyReason
from tradeguard.apikeys.replay import RedisKeyState
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import ProblemError
from tradeguard.notify.notifier import MemorySender

ORDERS = "/v1/probe/orders"
BODY = json.dumps({"qty": 1}).encode()
JSON = {"content-type": "application/json"}


@pytest.fixture
def nodes(
    settings_for: Callable[..., Settings],
    shared_redis: SharedRedis,
    clean_database: TestDatabase,
    clock: FixedClock,
    mailbox: MemorySender,
) -> Iterator[tuple[TestClient, TestClient]]:
    """Two app instances on one database and one Redis, each with its own client."""
    settings = settings_for(redis_url=shared_redis.url, redis_key_prefix=shared_redis.prefix)
    apps = [
        with_probes(build_app(settings, clean_database.engine, clock, mailbox)) for _ in range(2)
    ]
    with (
        TestClient(apps[0], base_url="https://testserver", raise_server_exceptions=False) as a,
        TestClient(apps[1], base_url="https://testserver", raise_server_exceptions=False) as b,
    ):
        yield a, b


def test_nonce_when_replayed_on_another_node_then_refused(
    nodes: tuple[TestClient, TestClient], mailbox: MemorySender, clock: FixedClock
) -> None:
    node_a, node_b = nodes
    _, key = keyed_trader(node_a, mailbox, clock)
    headers = signature_headers(key, clock, "POST", ORDERS, body=BODY) | JSON
    assert node_a.post(ORDERS, content=BODY, headers=headers).status_code == 200
    replayed = node_b.post(ORDERS, content=BODY, headers=headers)
    assert reason_of(replayed) == (401, "APIKEY_REPLAY")


def test_revocation_when_made_on_one_node_then_the_other_refuses_the_next_request(
    nodes: tuple[TestClient, TestClient], mailbox: MemorySender, clock: FixedClock
) -> None:
    node_a, node_b = nodes
    alice, key = keyed_trader(node_a, mailbox, clock)
    assert _place(node_b, key, clock).status_code == 200  # node B now holds the key in cache
    assert node_a.delete(f"/v1/api-keys/{key['id']}", headers=alice.headers).status_code == 200
    assert reason_of(_place(node_b, key, clock)) == (401, "APIKEY_INVALID")


def test_shared_state_when_redis_stops_answering_then_requests_are_refused_not_waved_through() -> (
    None
):
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    with pytest.raises(ProblemError) as refused:
        RedisKeyState(dead, "tg:").admit("tgk_0", "n" * 32, 10_000)
    assert refused.value.reason_code == ApiKeyReason.UNAVAILABLE
    assert refused.value.status == 503


def _place(client: TestClient, key: dict[str, Any], clock: FixedClock) -> Any:
    return signed_call(client, key, clock, "POST", ORDERS, payload={"qty": 1})
