"""The permission check with its audit event (issue: authorization).

The gateway's check of a route's declared permission (``Gateway._admit``) on a request
whose principal is already known (the token check is measured in bench_identity): the
permission test, the check record and its buffering. Writing the buffered checks as
audit events happens off the request path; its throughput is measured too.
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Request

from apps import add_user, new_sessions, request_with, scratch_app
from measure import Measurement, microseconds_per_call
from tradeguard.core.permissions import Permission
from tradeguard.gateway.guard import Gateway
from tradeguard.identity.principal import authenticate

FLUSHED_CHECKS = 20_000


def _check_us(app: FastAPI, token: str) -> float:
    registry = app.state.registry
    request = request_with(token, "/v1/sessions", app)
    authenticate(registry.identity, request)  # the principal is known: only the check is timed
    return microseconds_per_call(lambda: _admit(registry.gateway, request), calls=20_000)


def _flush_rate(app: FastAPI, token: str) -> float:
    registry = app.state.registry
    checks = registry.access_checks
    checks.flush()
    request = request_with(token, "/v1/sessions", app)
    authenticate(registry.identity, request)
    for _ in range(FLUSHED_CHECKS):
        _admit(registry.gateway, request)
    started = time.perf_counter()
    written = checks.flush()
    return written / (time.perf_counter() - started)


def _admit(gateway: Gateway, request: Request) -> None:
    gateway._admit(request, Permission.PROFILE_MANAGE, None, False)  # noqa: SLF001, FBT003 - the synchronous part of the gate


def run() -> list[Measurement]:
    # The per-user rate-limit decision the gate also makes is measured in bench_ratelimit.
    with scratch_app(rate_limit_enabled=False) as app:
        user = add_user(app.state.registry.identity)
        token = new_sessions(app.state.registry.identity, user, 1)[0]
        return [
            Measurement(
                "permission check incl. its buffered audit event",
                _check_us(app, token),
                "µs/check",
                20,
            ),
            Measurement(
                "audit writer: buffered checks written as events (SQLite)",
                _flush_rate(app, token),
                "events/s",
            ),
        ]
