"""Every answer of sign-up, verification and reset waits for the equal-time floor.

A fast answer on any of these paths, even a refusal, tells the caller which branch the
server took; the floor must hold for new, taken and invalid sign-ups alike, for answers
the gateway's own limits give and for a path written with a trailing slash.
The floor is set large (300 ms) so that the bound is measured, not raced: each answer
must take at least the floor. It is a security behaviour, not a benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from functional.identity_flows import CONSENTS, Person, build_app, client_at, register, sign_up
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender

FLOOR_MS = 300
FLOOR_SECONDS = FLOOR_MS / 1000


@pytest.fixture
def floored(
    settings_for: Callable[..., Settings],
    clean_database: Any,
    clock: FixedClock,
    mailbox: MemorySender,
) -> Iterator[TestClient]:
    """A client of an app whose floor is 300 ms and whose sign-up limit is 4 a minute."""
    settings = settings_for(equal_time_floor_ms=FLOOR_MS, rate_limit_ip_auth="4/minute")
    client = client_at(build_app(settings, clean_database.engine, clock, mailbox), ip="192.0.2.7")
    with client:
        yield client


def _timed(send: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    response = send()
    return response, time.perf_counter() - started


def _assert_floored(send: Callable[[], Any], status: int) -> None:
    response, elapsed = _timed(send)
    assert response.status_code == status, response.text
    assert elapsed >= FLOOR_SECONDS, (status, elapsed)


def _body(**changes: Any) -> dict[str, Any]:
    person = Person()
    body = {
        "username": person.username,
        "email": person.email,
        "password": person.password,
        "consents": CONSENTS,
    }
    return body | changes


def test_register_when_new_taken_or_invalid_then_every_answer_waits_for_the_floor(
    floored: TestClient,
) -> None:
    post = floored.post
    _assert_floored(lambda: register(floored, Person()), 202)
    _assert_floored(lambda: register(floored, Person(username="mallory")), 202)
    _assert_floored(lambda: post("/v1/auth/register", json=_body(email="x@y.example.com")), 202)
    _assert_floored(lambda: post("/v1/auth/register", json=_body(email="a\x01@b.com")), 422)


def test_register_when_body_malformed_or_rate_limited_then_the_floor_holds(
    floored: TestClient,
) -> None:
    post = floored.post
    _assert_floored(lambda: post("/v1/auth/register", json={"username": "x"}), 422)
    _assert_floored(lambda: post("/v1/auth/register", json=_body(password="short")), 422)
    _assert_floored(
        lambda: post(
            "/v1/auth/register", content=b"{", headers={"Content-Type": "application/json"}
        ),
        400,
    )
    _assert_floored(lambda: post("/v1/auth/register", json=_body()), 202)
    _assert_floored(lambda: post("/v1/auth/register", json=_body()), 429)


def test_register_when_path_has_a_trailing_slash_then_the_floor_holds(
    floored: TestClient,
) -> None:
    _assert_floored(
        lambda: floored.post("/v1/auth/register/", json=_body(), follow_redirects=False), 307
    )


def test_reset_when_code_wrong_then_the_refusal_waits_for_the_floor(floored: TestClient) -> None:
    body = {"email": "nobody@example.com", "code": "000000", "new_password": "x" * 20}
    _assert_floored(lambda: floored.post("/v1/auth/password/reset", json=body), 400)


def test_sign_up_flow_still_works_under_the_floor(
    floored: TestClient, mailbox: MemorySender
) -> None:
    sign_up(floored, mailbox, Person(username="bob", email="bob@example.com"))
