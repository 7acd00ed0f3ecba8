"""The rate-limit middleware's use of the load shedder: only the server's time counts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from limits_kit import kit
from starlette.types import Message, Receive, Scope, Send

from tradeguard.core.clock import FixedClock
from tradeguard.gateway.rate_limits import RateLimitMiddleware
from tradeguard.ratelimit.limiter import RateLimits
from tradeguard.ratelimit.route_classes import RouteClass
from tradeguard.ratelimit.shedding import LoadShedder, ShedLimits

START_NS = 1_795_000_000 * 1_000_000_000
BODY_SECONDS = 29.0
SERVER_SECONDS = 0.01


@dataclass
class Monotonic:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def _limits(monotonic: Monotonic) -> RateLimits:
    limits = kit().limits
    limits.shedder = LoadShedder(
        ShedLimits(2, 500), lambda _: None, FixedClock(START_NS), monotonic
    )
    return limits


def _scope(method: str, path: str) -> Scope:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [],
        "query_string": b"",
        "client": ("198.51.100.20", 40000),
        "state": {},
    }


def _slow_upload(monotonic: Monotonic) -> Receive:
    """A body of 50 bytes, one at a time, the whole of ``BODY_SECONDS`` long."""
    sent = 0

    async def receive() -> Message:
        nonlocal sent
        monotonic.now += BODY_SECONDS / 50
        sent += 1
        return {"type": "http.request", "body": b"x", "more_body": sent < 50}

    return receive


async def _app_reading_the_body(scope: Scope, receive: Receive, send: Send) -> None:
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    monotonic = scope["test_monotonic"]
    monotonic.now += SERVER_SECONDS
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _discard(message: Message) -> None:
    pass


def test_shedding_when_clients_upload_slowly_then_their_time_is_not_server_latency() -> None:
    monotonic = Monotonic()
    limits = _limits(monotonic)
    middleware = RateLimitMiddleware(_app_reading_the_body, limits)

    async def uploads() -> None:
        for _ in range(5):
            scope = _scope("DELETE", "/v1/orders/o-1") | {"test_monotonic": monotonic}
            await middleware(scope, _slow_upload(monotonic), _discard)

    asyncio.run(uploads())

    shedder = limits.shedder
    assert shedder is not None
    assert shedder.in_flight == 0
    assert shedder.latency.mean_ms(monotonic.now) == pytest.approx(SERVER_SECONDS * 1000)
    assert not shedder.sheds(RouteClass.READ)
    assert not shedder.sheds(RouteClass.ORDER_ENTRY)


def test_shedding_when_a_body_is_awaited_then_the_request_is_not_in_flight() -> None:
    monotonic = Monotonic()
    limits = _limits(monotonic)
    shedder = limits.shedder
    assert shedder is not None
    in_flight_while_waiting: list[int] = []

    async def receive() -> Message:
        in_flight_while_waiting.append(shedder.in_flight)
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def app(_scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        in_flight_while_waiting.append(shedder.in_flight)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        in_flight_while_waiting.append(shedder.in_flight)
        await send({"type": "http.response.body", "body": b""})

    asyncio.run(RateLimitMiddleware(app, limits)(_scope("POST", "/v1/orders"), receive, _discard))

    assert in_flight_while_waiting == [0, 1, 0]
    assert shedder.in_flight == 0
