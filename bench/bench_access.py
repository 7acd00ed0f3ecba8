"""The permission check with its audit event (issue: authorization).

``require(...)``'s check (its ``Gate``) on a request whose principal is already known (the token
check is measured in bench_identity): the permission test, the check record and its
buffering. Writing the buffered checks as audit events happens off the request path;
its throughput is measured too.
"""

from __future__ import annotations

import time

from fastapi import FastAPI

from apps import add_user, new_sessions, request_with, scratch_app
from measure import Measurement, microseconds_per_call
from tradeguard.access.guard import Gate
from tradeguard.access.permissions import Permission
from tradeguard.identity.principal import authenticate

FLUSHED_CHECKS = 20_000


def _check_us(app: FastAPI, token: str) -> float:
    identity, checks = app.state.identity, app.state.access_checks
    request = request_with(token, "/v1/sessions", app)
    authenticate(identity, request)  # the principal is known: only the check is timed
    gate = Gate(Permission.PROFILE_MANAGE, enrolment=False)
    return microseconds_per_call(lambda: gate.admit(request, identity, checks, None), calls=20_000)


def _flush_rate(app: FastAPI, token: str) -> float:
    identity, checks = app.state.identity, app.state.access_checks
    checks.flush()
    request = request_with(token, "/v1/sessions", app)
    authenticate(identity, request)
    gate = Gate(Permission.PROFILE_MANAGE, enrolment=False)
    for _ in range(FLUSHED_CHECKS):
        gate.admit(request, identity, checks, None)
    started = time.perf_counter()
    written = checks.flush()
    return written / (time.perf_counter() - started)


def run() -> list[Measurement]:
    # The per-user rate-limit decision the gate also makes is measured in bench_ratelimit.
    with scratch_app(rate_limit_enabled=False) as app:
        user = add_user(app.state.identity)
        token = new_sessions(app.state.identity, user, 1)[0]
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
