"""Rate limits through HTTP: per address and route class, per user, headers, order cancels,
adaptive throttling, load shedding, the audit of decisions, and counters shared in Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functional.api_key_flows import create_key, keyed_trader, signed_call, with_probes
from functional.identity_flows import (
    Person,
    assert_refused,
    build_app,
    signed_up_with_totp,
)
from functional.rate_limit_flows import (
    CALLER_PATH,
    Gate,
    add_test_routes,
    audit_events,
    client_opener,
    failed_login,
    held_requests,
    limit_headers,
)
from support import ONE_WINDOW, registry_of
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender
from unit.ratelimit.clocked_counters import ClockedCounters, WallClock

AppFactory = Callable[..., tuple[FastAPI, Gate]]
BEARER = {"Authorization": "Bearer t"}
"""Credentials on a cancel: the stand-in routes accept them unchecked, as an owner's."""


@pytest.fixture
def limited_app(
    settings_for: Callable[..., Settings],
    clean_database: Any,
    clock: FixedClock,
    mailbox: MemorySender,
) -> AppFactory:
    """An app on settings with these overrides, with the test routes added."""

    def build(**overrides: Any) -> tuple[FastAPI, Gate]:
        app = build_app(settings_for(**overrides), clean_database.engine, clock, mailbox)
        return app, add_test_routes(app)

    return build


@pytest.fixture
def opened() -> Iterator[Callable[[FastAPI], TestClient]]:
    """Clients at 203.0.113.7 whose app lifespans end with the test."""
    with client_opener("203.0.113.7") as open_client:
        yield open_client


def test_auth_route_when_address_over_its_limit_then_429_problem_with_headers(
    limited_app: AppFactory, opened: Callable[..., TestClient], clock: FixedClock
) -> None:
    app, _ = limited_app(rate_limit_ip_auth="3/minute")
    client = opened(app)
    assert [failed_login(client, clock).status_code for _ in range(3)] == [401, 401, 401]

    refused = failed_login(client, clock)

    assert_refused(refused, 429, "RATE_LIMITED")
    headers = limit_headers(refused)
    assert headers["ratelimit-limit"] == "3"
    assert headers["ratelimit-remaining"] == "0"
    assert headers["ratelimit-policy"] == "3;w=60"
    assert 1 <= int(headers["retry-after"]) <= 60
    assert headers["ratelimit-reset"] == headers["retry-after"]
    assert refused.json()["limit_scope"] == "ip"
    assert client.get("/v1/me").status_code == 401  # reads have their own limit
    assert opened(app, "198.51.100.9").post("/v1/auth/login", json={}).status_code == 422


def test_response_when_limited_route_answers_then_it_carries_the_limit_headers(
    limited_app: AppFactory, opened: Callable[..., TestClient]
) -> None:
    app, _ = limited_app(rate_limit_ip_read="50/minute")
    client = opened(app)
    client.get("/docs")

    answered = client.get("/docs")
    probe = client.get("/healthz")

    assert answered.status_code == 200
    assert limit_headers(answered) | {"ratelimit-reset": "-"} == {
        "ratelimit-limit": "50",
        "ratelimit-remaining": "48",
        "ratelimit-policy": "50;w=60",
        "ratelimit-reset": "-",
    }
    assert probe.status_code == 200
    assert limit_headers(probe) == {}


def test_order_cancel_when_client_throttled_then_still_served(
    limited_app: AppFactory, opened: Callable[..., TestClient]
) -> None:
    app, _ = limited_app(rate_limit_ip_order_entry="1/minute", rate_limit_ip_default="1/minute")
    client = opened(app)
    assert client.post("/v1/orders").status_code == 201
    assert client.post("/v1/orders").status_code == 429
    assert client.patch("/v1/orders/o-1").status_code == 429

    cancels = [client.delete(f"/v1/orders/o-{n}") for n in range(5)]

    assert {response.status_code for response in cancels} == {200}
    assert limit_headers(cancels[-1])["ratelimit-policy"] == "120;w=60"  # their own budget


def test_order_cancel_when_refused_credentials_flood_then_429_but_owner_still_served(
    settings_for: Callable[..., Settings],
    clean_database: Any,
    clock: FixedClock,
    mailbox: MemorySender,
    opened: Callable[..., TestClient],
) -> None:
    settings = settings_for(rate_limit_ip_order_cancel="3/minute")
    app = build_app(settings, clean_database.engine, clock, mailbox)
    client = opened(app)
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    forged = {"Authorization": "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln"}
    forged_key = {"TG-API-KEY": "k-forged", "TG-TIMESTAMP": "1", "TG-SIGNATURE": "x"}

    answers = [client.delete("/v1/orders/o-1", headers=forged) for _ in range(3)]
    answers.append(client.delete("/v1/orders/o-1", headers=forged))
    answers.append(client.delete("/v1/orders/o-1", headers=forged_key))
    answers.append(client.delete("/v1/orders"))

    assert [answer.status_code for answer in answers] == [401, 401, 401, 429, 429, 429]
    assert answers[-1].json()["route_class"] == "order_cancel"
    for path in ("/v1/orders/o-1", "/v1/orders"):
        owned = client.delete(path, headers=alice.headers)
        assert owned.status_code != 429, owned.json()


def test_admit_caller_when_user_over_limit_then_429_for_that_user_only(
    limited_app: AppFactory,
    opened: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
) -> None:
    app, _ = limited_app(rate_limit_user_read="2/minute")
    client = opened(app)
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    bob = signed_up_with_totp(client, mailbox, clock, Person("bob", "bob@example.com"))
    for _ in range(2):
        assert client.get(CALLER_PATH, headers=alice.headers).status_code == 200

    refused = client.get(CALLER_PATH, headers=alice.headers)

    assert_refused(refused, 429, "RATE_LIMITED")
    assert refused.json()["limit_scope"] == "user"
    assert limit_headers(refused)["ratelimit-limit"] == "2"
    assert client.get(CALLER_PATH, headers=bob.headers).status_code == 200


def test_admit_caller_when_api_key_over_limit_then_429_for_that_key(
    limited_app: AppFactory,
    opened: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
) -> None:
    app, _ = limited_app(rate_limit_api_key_read="1/minute")
    client = opened(app)
    alice = signed_up_with_totp(client, mailbox, clock, Person())
    first_key = alice.headers | {"x-test-key": "key-1"}
    assert client.get(CALLER_PATH, headers=first_key).status_code == 200

    refused = client.get(CALLER_PATH, headers=first_key)

    assert refused.json()["limit_scope"] == "api_key"
    assert client.get(CALLER_PATH, headers=alice.headers | {"x-test-key": "key-2"}).is_success


def test_gateway_when_signed_in_user_over_limit_then_429(
    limited_app: AppFactory,
    opened: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
) -> None:
    app, _ = limited_app(rate_limit_user_read="3/minute")
    client = opened(app)
    alice = signed_up_with_totp(client, mailbox, clock, Person())

    answers = [client.get("/v1/sessions", headers=alice.headers) for _ in range(4)]

    assert answers[-1].status_code == 429
    assert answers[-1].json()["limit_scope"] == "user"


def test_throttling_when_flooded_then_one_audit_event_not_one_per_refusal(
    limited_app: AppFactory, opened: Callable[..., TestClient], clock: FixedClock
) -> None:
    app, _ = limited_app(rate_limit_ip_auth="2/minute")
    client = opened(app)

    statuses = [failed_login(client, clock).status_code for _ in range(12)]

    assert statuses.count(429) == 10
    [event] = audit_events(app, "ratelimit.throttled")
    assert event["subject"] == "ip:203.0.113.7"
    assert event["actor"]["kind"] == "system"
    assert event["actor"]["ip"] == "203.0.113.7"
    assert event["data"]["route_class"] == "auth"
    assert event["data"]["limit"] == 2
    assert event["request_id"]


def test_adaptive_when_sign_ins_mostly_fail_then_address_tightened_and_audited(
    limited_app: AppFactory, opened: Callable[..., TestClient], clock: FixedClock
) -> None:
    app, _ = limited_app(
        rate_limit_adaptive_enabled=True,
        rate_limit_adaptive_min_rejections=3,
        rate_limit_adaptive_window_seconds=ONE_WINDOW,
        rate_limit_ip_read="40/minute",
    )
    client = opened(app)
    before = client.get("/docs")
    for _ in range(6):
        failed_login(client, clock)

    after = client.get("/docs")

    assert limit_headers(before)["ratelimit-limit"] == "40"
    assert limit_headers(after)["ratelimit-limit"] == "10"
    levels = [e["data"]["level_after"] for e in audit_events(app, "ratelimit.tightened")]
    assert levels == [1, 2]
    assert opened(app, "198.51.100.9").get("/docs").headers["ratelimit-limit"] == "40"


def test_shedding_when_overloaded_then_reads_shed_and_orders_and_cancels_served(
    limited_app: AppFactory, opened: Callable[..., TestClient]
) -> None:
    app, gate = limited_app(load_shed_enabled=True, load_shed_in_flight=1)
    client = opened(app)

    with held_requests(app, client, gate, 1):
        shed = client.get("/v1/me")
        order = client.post("/v1/orders")
        cancel = client.delete("/v1/orders/o-1", headers=BEARER)

    assert_refused(shed, 503, "OVERLOADED")
    assert shed.headers["retry-after"] == "2"
    assert (order.status_code, cancel.status_code) == (201, 200)
    assert client.get("/v1/me").status_code == 401  # served again once the load is gone
    [started] = audit_events(app, "ratelimit.shedding.started")
    [stopped] = audit_events(app, "ratelimit.shedding.stopped")
    assert started["data"]["in_flight"] == 1
    assert stopped["data"]["shed_requests"] == 1


def test_shedding_when_heavily_overloaded_then_only_cancels_served(
    limited_app: AppFactory, opened: Callable[..., TestClient], clock: FixedClock
) -> None:
    app, gate = limited_app(load_shed_enabled=True, load_shed_in_flight=1)
    client = opened(app)

    with held_requests(app, client, gate, 2):
        sign_in = failed_login(client, clock)
        order = client.post("/v1/orders")
        cancels = [client.delete("/v1/orders/o-1", headers=BEARER), client.delete("/v1/orders")]

    assert_refused(sign_in, 503, "OVERLOADED")
    assert_refused(order, 503, "OVERLOADED")
    assert cancels[0].status_code == 200  # with credentials: checked, never shed
    assert_refused(cancels[1], 503, "OVERLOADED")  # anonymous


def test_two_instances_when_sharing_redis_then_counters_shared(
    limited_app: AppFactory, opened: Callable[..., TestClient], clock: FixedClock, shared_redis: Any
) -> None:
    shared = {"redis_url": shared_redis.url, "redis_key_prefix": shared_redis.prefix}
    first, _ = limited_app(rate_limit_ip_auth="4/minute", **shared)
    second, _ = limited_app(rate_limit_ip_auth="4/minute", **shared)
    at_first, at_second = opened(first), opened(second)

    statuses = [failed_login(client, clock).status_code for client in (at_first, at_second) * 2]

    assert statuses == [401, 401, 401, 401]
    assert failed_login(at_first, clock).status_code == 429
    assert failed_login(at_second, clock).status_code == 429
    assert failed_login(opened(second, "198.51.100.9"), clock).status_code == 401
    store = redis.Redis.from_url(shared_redis.url)
    assert list(store.scan_iter(match=f"{shared_redis.prefix}ratelimit:rl/ip/auth/*"))
    store.close()


def test_two_instances_when_sharing_redis_then_adaptive_level_shared(
    limited_app: AppFactory, opened: Callable[..., TestClient], clock: FixedClock, shared_redis: Any
) -> None:
    overrides = {
        "redis_url": shared_redis.url,
        "redis_key_prefix": shared_redis.prefix,
        "rate_limit_adaptive_enabled": True,
        "rate_limit_adaptive_min_rejections": 2,
        "rate_limit_adaptive_window_seconds": ONE_WINDOW,
        "rate_limit_ip_read": "40/minute",
    }
    first, _ = limited_app(**overrides)
    second, _ = limited_app(**overrides)
    failed_login(opened(first), clock)
    failed_login(opened(second), clock)

    assert opened(second).get("/docs").headers["ratelimit-limit"] == "20"


def test_limits_when_store_unreachable_then_refused_503_but_cancels_served(
    limited_app: AppFactory, opened: Callable[..., TestClient]
) -> None:
    app, _ = limited_app()
    client = opened(app)
    registry_of(app).rate_limits.counters = ClockedCounters(WallClock(), failing=True)

    refused = client.get("/docs")
    cancel = client.delete("/v1/orders/o-1", headers=BEARER)
    anonymous = client.delete("/v1/orders/o-1")

    assert_refused(refused, 503, "RATE_LIMIT_UNAVAILABLE")
    assert refused.headers["retry-after"] == "1"
    assert cancel.status_code == 200
    assert_refused(anonymous, 503, "RATE_LIMIT_UNAVAILABLE")


def test_gateway_when_api_key_over_its_limit_then_429_for_that_key(
    limited_app: AppFactory,
    opened: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
) -> None:
    app, _ = limited_app(rate_limit_api_key_read="2/minute")
    client = opened(with_probes(app))
    trader, key = keyed_trader(client, mailbox, clock)
    reads = [signed_call(client, key, clock, "GET", "/v1/probe/account") for _ in range(2)]

    refused = signed_call(client, key, clock, "GET", "/v1/probe/account")

    assert [read.status_code for read in reads] == [200, 200]
    assert limit_headers(reads[1])["ratelimit-remaining"] == "0"
    assert_refused(refused, 429, "RATE_LIMITED")
    assert refused.json()["limit_scope"] == "api_key"
    other_key = create_key(client, trader, clock)
    assert signed_call(client, other_key, clock, "GET", "/v1/probe/account").status_code == 200
