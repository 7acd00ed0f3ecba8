"""The rate-limit middleware's use of the load shedder: only the server's time counts."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

import pytest
from clocked_counters import AwaitedClockedCounters, WallClock
from limits_kit import kit
from starlette.types import Message, Receive, Scope, Send

from tradeguard.core.clock import FixedClock
from tradeguard.gateway.rate_limits import REASON_CODE, RateLimitMiddleware
from tradeguard.ratelimit.adaptive import level_key
from tradeguard.ratelimit.clients import Client, LimitScope, address_key
from tradeguard.ratelimit.events import TIGHTENED
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


async def _answer(_scope: Scope, _receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _statuses_and_headers(middleware: RateLimitMiddleware, times: int) -> list[tuple[int, dict]]:
    answers: list[tuple[int, dict]] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = {name.decode().lower(): value.decode() for name, value in message["headers"]}
            answers.append((message["status"], headers))

    async def requests() -> None:
        for _ in range(times):
            await middleware(_scope("POST", "/v1/orders"), _no_body, send)

    asyncio.run(requests())
    return answers


def test_address_count_when_counters_can_be_awaited_then_counted_on_the_loop_as_by_a_thread() -> (
    None
):
    counters = AwaitedClockedCounters(WallClock())
    limits = kit(counters, rate_limit_ip_order_entry="2/minute").limits
    middleware = RateLimitMiddleware(_answer, limits)

    answers = _statuses_and_headers(middleware, 3)

    assert [status for status, _ in answers] == [201, 201, 429]
    assert [headers["ratelimit-remaining"] for _, headers in answers] == ["1", "0", "0"]
    assert answers[2][1]["retry-after"] == "60"
    assert set(counters.awaited_on) == {threading.get_ident()}  # no worker thread waited
    assert len(counters.awaited_on) == 5  # each count; the judgements of the two answered


def test_address_count_when_awaited_counters_fail_then_503_unavailable() -> None:
    counters = AwaitedClockedCounters(WallClock(), failing=True)
    middleware = RateLimitMiddleware(_answer, kit(counters).limits)

    [(status, headers)] = _statuses_and_headers(middleware, 1)

    assert (status, headers["retry-after"]) == (503, "1")


def _refusing(reason: str):  # noqa: ANN202 - an ASGI app
    async def app(scope: Scope, _receive: Receive, send: Send) -> None:
        scope["state"][REASON_CODE] = reason
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


def test_judgement_when_awaited_and_a_client_is_mostly_refused_then_tightened_once_due() -> None:
    """The counts after each answer are awaited on the loop; only the rare judgement of a
    level (read and written in the store) takes a thread, and it tightens as by a thread."""
    counters = AwaitedClockedCounters(WallClock())
    built = kit(counters, rate_limit_adaptive_min_rejections=3, rate_limit_ip_auth="100/minute")
    middleware = RateLimitMiddleware(_refusing("AUTH_INVALID_CREDENTIALS"), built.limits)
    address = Client(LimitScope.IP, address_key("198.51.100.20"), "198.51.100.20")
    level = level_key(address.subject)

    async def attempts(times: int) -> None:
        for _ in range(times):
            await middleware(_scope("POST", "/v1/auth/login"), _no_body, _discard)

    asyncio.run(attempts(2))
    assert counters.counts.get(level) is None  # not due yet: nothing read or written
    asyncio.run(attempts(1))

    assert counters.counts[level] == 1
    assert set(counters.awaited_on) == {threading.get_ident()}
    assert built.event_types() == [TIGHTENED]
