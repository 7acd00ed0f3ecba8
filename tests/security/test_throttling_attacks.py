"""Attacks on the rate limits: credential stuffing, evasion by path, header or address,
exhausting a victim's allowance, audit flooding, and odd methods and paths, which are
counted like any other request (order cancels, whatever their id, never are).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functional.identity_flows import (
    Person,
    assert_refused,
    build_app,
    reason_of,
    signed_up_with_totp,
)
from functional.rate_limit_flows import (
    CALLER_PATH,
    add_test_routes,
    audit_events,
    client_opener,
    failed_login,
)
from support import ONE_WINDOW
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

ATTACKER = "203.0.113.66"


@pytest.fixture
def app_with(
    settings_for: Callable[..., Settings],
    clean_database: Any,
    clock: FixedClock,
    mailbox: MemorySender,
) -> Callable[..., FastAPI]:
    def build(**overrides: Any) -> FastAPI:
        app = build_app(settings_for(**overrides), clean_database.engine, clock, mailbox)
        add_test_routes(app)
        return app

    return build


@pytest.fixture
def client_of() -> Iterator[Callable[..., TestClient]]:
    with client_opener(ATTACKER) as open_client:
        yield open_client


def test_credential_stuffing_when_sign_ins_keep_failing_then_limit_tightens_below_configured(
    app_with: Callable[..., FastAPI], client_of: Callable[..., TestClient], clock: FixedClock
) -> None:
    app = app_with(
        rate_limit_ip_auth="30/minute",
        rate_limit_adaptive_enabled=True,
        rate_limit_adaptive_min_rejections=5,
        rate_limit_adaptive_window_seconds=ONE_WINDOW,
    )
    attacker = client_of(app)

    answers = [failed_login(attacker, clock) for _ in range(30)]

    checked = [answer for answer in answers if answer.status_code == 401]
    assert len(checked) < 30 // 2  # the password check was reached far less than configured
    assert_refused(answers[-1], 429, "RATE_LIMITED")
    assert answers[-1].json()["adaptive_level"] >= 1
    assert audit_events(app, "ratelimit.tightened")


def test_auth_limit_when_path_has_trailing_slash_then_still_counted(
    app_with: Callable[..., FastAPI], client_of: Callable[..., TestClient], clock: FixedClock
) -> None:
    app = app_with(rate_limit_ip_auth="2/minute")
    attacker = client_of(app)
    variant = attacker.post("/v1/auth/login/", json={}, follow_redirects=False)
    assert failed_login(attacker, clock).status_code == 401

    assert_refused(failed_login(attacker, clock), 429, "RATE_LIMITED")
    assert variant.status_code < 500


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded"])
def test_address_limit_when_forwarding_headers_spoofed_then_same_address_counted(
    app_with: Callable[..., FastAPI],
    client_of: Callable[..., TestClient],
    clock: FixedClock,
    header: str,
) -> None:
    app = app_with(rate_limit_ip_auth="1/minute")
    attacker = client_of(app)
    failed_login(attacker, clock)
    clock.advance(seconds=60)

    refused = attacker.post(
        "/v1/auth/login",
        json={"login": "someone", "password": "guess"},
        headers={header: "198.51.100.200"},
    )

    assert_refused(refused, 429, "RATE_LIMITED")


def test_address_limit_when_ipv6_rotated_within_its_64_then_one_allowance(
    app_with: Callable[..., FastAPI], client_of: Callable[..., TestClient], clock: FixedClock
) -> None:
    app = app_with(rate_limit_ip_auth="2/minute")
    first, second = client_of(app, "2001:db8:7:7::1"), client_of(app, "2001:db8:7:7:dead::beef")
    assert failed_login(first, clock).status_code == 401
    assert failed_login(second, clock).status_code == 401

    assert_refused(failed_login(client_of(app, "2001:db8:7:7::99"), clock), 429, "RATE_LIMITED")
    assert failed_login(client_of(app, "2001:db8:7:8::1"), clock).status_code == 401


def test_user_limit_when_attacker_forges_tokens_then_victim_allowance_untouched(
    app_with: Callable[..., FastAPI],
    client_of: Callable[..., TestClient],
    mailbox: MemorySender,
    clock: FixedClock,
) -> None:
    app = app_with(rate_limit_user_read="3/minute")
    victim_client = client_of(app, "198.51.100.10")
    victim = signed_up_with_totp(victim_client, mailbox, clock, Person())
    forged = victim.tokens["access_token"][:-4] + "AAAA"
    attacker = client_of(app)

    attempts = [
        attacker.get(CALLER_PATH, headers={"Authorization": f"Bearer {forged}"}) for _ in range(10)
    ]

    assert {answer.status_code for answer in attempts} == {401}
    answers = [victim_client.get(CALLER_PATH, headers=victim.headers) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [200, 200, 200]


def test_audit_when_refused_requests_flood_then_one_event_per_window(
    app_with: Callable[..., FastAPI], client_of: Callable[..., TestClient]
) -> None:
    app = app_with(rate_limit_ip_read="1/minute")
    attacker = client_of(app)

    statuses = [attacker.get("/docs").status_code for _ in range(300)]

    assert statuses.count(429) == 299
    assert len(audit_events(app, "ratelimit.throttled")) == 1
    assert audit_events(app, "ratelimit.released") == []


ODD_LIMITS: dict[str, Any] = {
    "rate_limit_ip_default": "2/minute",
    "rate_limit_ip_read": "2/minute",
    "rate_limit_adaptive_enabled": True,
    # Shedding answers by how loaded the machine is, not by these requests (its own tests
    # cover it): on, a busy test machine turned an odd path's first answers into 503s.
    "load_shed_enabled": False,
}
NO_ROUTE = {(404, "NOT_FOUND"), (405, "METHOD_NOT_ALLOWED")}


@pytest.mark.parametrize(
    ("method", "path", "route_class"),
    [
        ("BREW", "/v1/orders", "default"),
        ("POST", "/v1/auth/login/%00", "default"),
        ("GET", "/v1/ördérs/Ω", "read"),
        ("PATCH", "//v1//orders//", "default"),
        ("OPTIONS", "*", "read"),
    ],
)
def test_address_limit_when_odd_method_or_path_then_still_counted_and_refused(
    app_with: Callable[..., FastAPI],
    client_of: Callable[..., TestClient],
    method: str,
    path: str,
    route_class: str,
) -> None:
    attacker = client_of(app_with(**ODD_LIMITS))

    answers = [attacker.request(method, path) for _ in range(4)]

    assert {reason_of(answer) for answer in answers[:2]} <= NO_ROUTE  # answered, never a 5xx
    for refused in answers[2:]:
        assert_refused(refused, 429, "RATE_LIMITED")
        assert (refused.json()["limit_scope"], refused.json()["route_class"]) == ("ip", route_class)


def test_address_limit_when_cancel_has_an_oversized_id_then_never_refused(
    app_with: Callable[..., FastAPI], client_of: Callable[..., TestClient]
) -> None:
    attacker = client_of(app_with(**ODD_LIMITS))

    order_id = "x" * 5000

    answers = [attacker.delete(f"/v1/orders/{order_id}") for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200] * 4
    assert answers[-1].json() == {"order_id": order_id}
