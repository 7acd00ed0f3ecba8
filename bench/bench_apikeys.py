"""Verifying a signed request, nonce claim included (issue: API keys).

What every API-key request pays before its route runs: header format checks, the
timestamp window, the key lookup (cached), recomputing the HMAC-SHA256 over the canonical
string, the constant-time comparison, the key's IP allowlist and claiming the nonce. The
requests are signed beforehand, each with its own nonce, so only the server's work is
timed. In memory (the target) and, for information, with the nonces in Redis.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator

import redis
from fastapi import FastAPI
from starlette.datastructures import Headers

from apps import CLIENT, START, add_user, scratch_app
from measure import Measurement, microseconds_per_call
from tradeguard.access.caller import Caller
from tradeguard.apikeys.directory import KeyDirectory
from tradeguard.apikeys.replay import RedisKeyState
from tradeguard.apikeys.scopes import Scope
from tradeguard.apikeys.service import KeyAsk
from tradeguard.apikeys.signed_request import SignedRequest
from tradeguard.apikeys.signing import signed_headers
from tradeguard.apikeys.verifier import RequestVerifier
from tradeguard.core.permissions import permissions_of
from tradeguard.core.principal import Principal
from tradeguard.db.session import transaction
from tradeguard.identity.models import User
from tradeguard.identity.origin import Origin

REQUESTS = 20_000
REDIS_REQUESTS = 2_000
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
BODY = json.dumps({"symbol": "AAPL", "side": "buy", "quantity": "10", "type": "limit"}).encode()
NOW_MS = int(START.timestamp() * 1000)


def _new_key(app: FastAPI, user: User) -> tuple[str, str]:
    principal = Principal(
        user_id=user.id,
        session_id="bench",
        role=user.role,
        permissions=frozenset(permissions_of(user.role)),
        amr=("pwd",),
        enrollment_only=False,
        state=None,
    )
    caller = Caller(principal, Origin(CLIENT[0], "bench", "", None))
    with transaction(app.state.registry.services.sessions) as db:
        issued = app.state.registry.api_keys.create(db, caller, KeyAsk(Scope.TRADING, "bench"))
        return issued.key.key_id, issued.secret


def _signed_requests(key_id: str, secret: str, count: int) -> Iterator[SignedRequest]:
    for _ in range(count):
        headers = signed_headers(
            key_id, secret, method="POST", path="/v1/orders", body=BODY, timestamp_ms=NOW_MS
        )
        yield SignedRequest(
            method="POST",
            path="/v1/orders",
            query="",
            body=BODY,
            headers=Headers(headers),
            ip=CLIENT[0],
            route="/v1/orders",
            request_id=None,
        )


def _verify_us(verifier: RequestVerifier, key_id: str, secret: str, calls: int) -> float:
    # Every call needs a nonce of its own: a warm-up call and five rounds of ``calls``.
    pending = iter(list(_signed_requests(key_id, secret, 5 * calls + 1)))
    return microseconds_per_call(lambda: verifier.verify(next(pending)), calls=calls)


def _redis_verifier(app: FastAPI) -> RequestVerifier | None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        return None
    store = RedisKeyState(client, f"tgbench-{uuid.uuid4().hex[:8]}:")
    services = app.state.registry.services
    return RequestVerifier(
        KeyDirectory(services.sessions),
        store,
        services.clock,
        5,
        app.state.registry.access_checks.append_event,
    )


def run() -> list[Measurement]:
    with scratch_app() as app:
        key_id, secret = _new_key(app, add_user(app.state.registry.identity))
        verifier: RequestVerifier = app.state.registry.api_key_verifier
        in_memory = _verify_us(verifier, key_id, secret, REQUESTS)
        results = [Measurement("signed request verified, nonce in memory", in_memory, "µs", 30)]
        shared = _redis_verifier(app)
        if shared is not None:
            in_redis = _verify_us(shared, key_id, secret, REDIS_REQUESTS)
            results.append(Measurement("signed request verified, nonce in Redis", in_redis, "µs"))
        return results
