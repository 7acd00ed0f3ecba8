"""The rate-limit decision a request pays (issue: API keys and rate limiting).

One signed-in read through an API key pays: its route class, the overload check, the
per-address limit (with its adaptive level), the per-user and per-API-key limits, the
RateLimit headers of the tightest, and the adaptive judgement of its answer (address and
user). Measured in memory (the target) and against Redis on loopback (for information:
each storage call is a round trip). A refused request (the 429 and its episode) is
measured too.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from typing import Any

import redis
from starlette.requests import Request

from measure import Measurement, microseconds_per_call
from tradeguard.access.check_log import BufferedEvent
from tradeguard.config import Settings
from tradeguard.core.clock import SystemClock
from tradeguard.core.errors import ProblemError
from tradeguard.ratelimit.limiter import ROUTE_CLASS, RateLimits
from tradeguard.ratelimit.route_classes import classify
from tradeguard.ratelimit.wiring import build_rate_limits
from tradeguard.shared_state import connect_redis

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
GENEROUS = "10000000/minute"  # never reached: the admitted path is measured
IP, USER_ID, KEY_ID = "203.0.113.7", "0190f3e2-7c1a-7000-8000-000000000001", "key-1"
SCOPE: dict[str, Any] = {
    "type": "http",
    "method": "GET",
    "path": "/v1/portfolio",
    "headers": [],
    "query_string": b"",
    "client": (IP, 50000),
}


def _settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "rate_limit_ip_read": GENEROUS,
        "rate_limit_user_read": GENEROUS,
        "rate_limit_api_key_read": GENEROUS,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def _discard(_event: BufferedEvent) -> None:
    """Audit events go nowhere: their buffering is measured in bench_access."""


def _decision(limits: RateLimits) -> Callable[[], object]:
    shedder = limits.shedder
    assert shedder is not None

    scope = dict(SCOPE)
    request = Request(scope)  # the gateway passes the request it already has

    def decide() -> object:
        state = scope["state"] = {"request_id": "bench"}
        route_class = classify(scope["method"], scope["path"])
        state[ROUTE_CLASS] = route_class
        shedder.sheds(route_class)
        limits.close_ended_episodes()
        limits.admit_address(state, IP, route_class)
        limits.admit_caller(request, user_id=USER_ID, api_key_id=KEY_ID)
        headers = limits.headers(state)
        limits.observe(state, IP, rejected=False)
        return headers

    return decide


def _refusal(limits: RateLimits) -> Callable[[], object]:
    route_class = classify("POST", "/v1/auth/login")
    limits.admit_address({}, IP, route_class)  # the one request the limit allows

    def refuse() -> object:
        try:
            limits.admit_address({"request_id": "bench"}, IP, route_class)
        except ProblemError as refused:
            return refused
        raise AssertionError("the bench expects a refusal")

    return refuse


def _memory_us() -> tuple[float, float]:
    limits = build_rate_limits(_settings(), None, _discard, SystemClock())
    decision = microseconds_per_call(_decision(limits), calls=20_000)
    refusals = build_rate_limits(
        _settings(rate_limit_ip_auth="1/day"), None, _discard, SystemClock()
    )
    refusal = microseconds_per_call(_refusal(refusals), calls=20_000)
    return decision, refusal


def _redis_us() -> float | None:
    prefix = f"tgbench-{uuid.uuid4().hex[:8]}:"
    settings = _settings(redis_url=REDIS_URL, redis_key_prefix=prefix)
    try:
        shared = connect_redis(settings)
    except Exception:  # noqa: BLE001 - no Redis here: the figure is left out
        return None
    assert shared is not None
    try:
        limits = build_rate_limits(settings, shared, _discard, SystemClock())
        return microseconds_per_call(_decision(limits), calls=2_000)
    finally:
        _delete_keys(shared, prefix)
        shared.close()


def _delete_keys(shared: redis.Redis, prefix: str) -> None:
    for key in shared.scan_iter(match=f"{prefix}*", count=1000):
        shared.delete(key)


def run() -> list[Measurement]:
    decision, refusal = _memory_us()
    results = [
        Measurement(
            "rate-limit decision per request (address, user, API key; memory)",
            decision,
            "µs/req",
            20,
        ),
        Measurement("refused request: 429 and its throttle episode (memory)", refusal, "µs/req"),
    ]
    redis_us = _redis_us()
    if redis_us is not None:
        results.append(
            Measurement("rate-limit decision per request (Redis on loopback)", redis_us, "µs/req")
        )
    return results
