"""Helpers of the rate-limit tests: trading routes the tests add, a held request, audit reads."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from functional.identity_flows import THROTTLE_DELAY_LIMIT_SECONDS, client_at
from support import registry_of
from tradeguard.audit.search import AuditQuery, search
from tradeguard.core.clock import FixedClock
from tradeguard.identity.principal import IdentityDep, authenticate

HOLD_PATH = "/v1/orders?hold=true"
CALLER_PATH = "/test/caller"
WAIT_SECONDS = 10.0
_NAMES = itertools.count()


class Gate:
    """Orders placed at ``HOLD_PATH`` wait here until the test opens the gate."""

    def __init__(self) -> None:
        self.opened = threading.Event()


def add_test_routes(app: FastAPI) -> Gate:
    """Stand-ins for the order routes, matched before the real ones (no account or risk in
    the way of what the rate limiter does), and a route that authenticates a bearer token
    and calls ``admit_caller`` itself, with an API-key id of the test's choice.
    """
    gate = Gate()

    def accepted(order_id: str = "new", *, hold: bool = False) -> dict[str, str]:
        if hold:  # an order entry (shed last) that stays in progress
            gate.opened.wait(WAIT_SECONDS)
        return {"order_id": order_id}

    def as_gateway(request: Request, identity: IdentityDep) -> dict[str, str]:
        principal = authenticate(identity, request)
        registry_of(request.app).rate_limits.admit_caller(
            request, user_id=principal.user_id, api_key_id=request.headers.get("x-test-key")
        )
        return {"user_id": principal.user_id}

    app.add_api_route("/v1/orders", accepted, methods=["POST"], status_code=201)
    app.add_api_route("/v1/orders/{order_id}", accepted, methods=["PATCH", "DELETE"])
    app.add_api_route(CALLER_PATH, as_gateway, methods=["GET"])
    added = app.router.routes[-3:]
    del app.router.routes[-3:]
    app.router.routes[:0] = added
    return gate


@contextmanager
def held_requests(app: FastAPI, client: TestClient, gate: Gate, count: int) -> Iterator[None]:
    """``count`` requests in progress (waiting at the gate) for the duration of the block."""
    threads = [threading.Thread(target=client.post, args=(HOLD_PATH,)) for _ in range(count)]
    for thread in threads:
        thread.start()
    shedder = registry_of(app).rate_limits.shedder
    try:
        wait_until(lambda: shedder.in_flight == count)
        yield
    finally:
        gate.opened.set()
        for thread in threads:
            thread.join(WAIT_SECONDS)


def wait_until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` until it holds (a state the test waits for, not a timing check)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.01)


def failed_login(client: TestClient, clock: FixedClock) -> Any:
    """A sign-in with a wrong password, for a new name and after the sign-in throttle's delay.

    The rate limits count in real time; the sign-in throttle's delays pass on ``clock``.
    """
    clock.advance(seconds=THROTTLE_DELAY_LIMIT_SECONDS)
    name = f"nobody-{next(_NAMES)}"
    return client.post("/v1/auth/login", json={"login": name, "password": "not-the-password"})


def audit_events(app: FastAPI, event_type: str) -> list[dict[str, Any]]:
    """The audited events of ``event_type``, after writing the buffered ones."""
    registry_of(app).access_checks.flush()
    with registry_of(app).services.sessions() as session:
        page = search(session, AuditQuery(event_type=event_type, limit=1000))
    return [event.to_json() for event in page.events]


def limit_headers(response: Any) -> dict[str, str]:
    """The RateLimit-* and Retry-After headers of a response."""
    return {
        name.lower(): value
        for name, value in response.headers.items()
        if name.lower().startswith("ratelimit-") or name.lower() == "retry-after"
    }


@contextmanager
def client_opener(default_ip: str) -> Iterator[Callable[..., TestClient]]:
    """Opens clients of apps at an address (``default_ip`` unless given); closes them after."""
    clients: list[TestClient] = []

    def open_client(app: FastAPI, ip: str = default_ip) -> TestClient:
        client = client_at(app, ip).__enter__()
        clients.append(client)
        return client

    yield open_client
    for client in reversed(clients):
        client.__exit__(None, None, None)
