"""The equal-time middleware holds back every answer on its paths, a crash's included."""

from __future__ import annotations

import asyncio
import time

import pytest
from starlette.types import Receive, Scope, Send

from tradeguard.gateway.equal_timing import EqualTimingMiddleware

FLOOR_SECONDS = 0.3


async def _crash(_scope: Scope, _receive: Receive, _send: Send) -> None:
    raise RuntimeError("simulated failure")


async def _receive() -> dict[str, object]:
    return {"type": "http.request", "body": b""}


async def _ignore(_message: object) -> None:
    return None


def test_equal_timing_when_the_app_crashes_then_the_error_leaves_after_the_floor() -> None:
    middleware = EqualTimingMiddleware(_crash, FLOOR_SECONDS)
    scope: Scope = {"type": "http", "path": "/v1/auth/register", "method": "POST"}
    started = time.perf_counter()
    with pytest.raises(RuntimeError):
        asyncio.run(middleware(scope, _receive, _ignore))
    assert time.perf_counter() - started >= FLOOR_SECONDS


def test_equal_timing_when_path_is_elsewhere_then_a_crash_is_not_delayed() -> None:
    middleware = EqualTimingMiddleware(_crash, FLOOR_SECONDS)
    scope: Scope = {"type": "http", "path": "/v1/orders", "method": "POST"}
    started = time.perf_counter()
    with pytest.raises(RuntimeError):
        asyncio.run(middleware(scope, _receive, _ignore))
    assert time.perf_counter() - started < FLOOR_SECONDS
