"""Request limits through the application: oversized bodies and header blocks, slow
bodies and the response deadline are refused with problem documents before any route
work, and an endless body is never read past the limit."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from starlette.types import Message, Receive, Scope, Send

from functional.identity_flows import CONSENTS, STRONG_PASSWORD, audit_event_types, build_app
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.gateway.request_limits import RequestLimits, RequestLimitsMiddleware
from tradeguard.notify.notifier import MemorySender

if TYPE_CHECKING:
    from support import TestDatabase

MAX_BODY = 1024
MAX_HEADER_COUNT = 20
MAX_HEADER_BYTES = 2048
CHUNK = b"x" * 256
LOGIN = b'{"login": "nobody@example.com", "password": "not-the-password"}'
HANG_GUARD_SECONDS = 30


@pytest.fixture
def limited_app(
    settings_for: Callable[..., Settings],
    clean_database: TestDatabase,
    clock: FixedClock,
    mailbox: MemorySender,
) -> FastAPI:
    settings = settings_for(
        max_body_bytes=MAX_BODY,
        max_header_count=MAX_HEADER_COUNT,
        max_header_bytes=MAX_HEADER_BYTES,
        client_body_timeout_seconds=1,
        client_body_deadline_seconds=2,
        request_timeout_seconds=1,
        equal_time_floor_ms=2000,
    )
    return build_app(settings, clean_database.engine, clock, mailbox)


@pytest.fixture
def limited(limited_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(
        limited_app, base_url="https://testserver", raise_server_exceptions=False
    ) as test:
        yield test


def _assert_refused(response: Any, status: int, reason: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["connection"] == "close"
    problem: dict[str, Any] = response.json()
    assert problem["reason_code"] == reason
    assert problem["request_id"] == response.headers["x-request-id"]
    return problem


def test_body_when_declared_length_over_limit_then_413_and_route_never_runs(
    limited: TestClient, clean_database: TestDatabase
) -> None:
    before = audit_event_types(clean_database.engine)
    padded = LOGIN + b" " * MAX_BODY

    response = limited.post(
        "/v1/auth/login", content=padded, headers={"content-type": "application/json"}
    )

    problem = _assert_refused(response, 413, "REQUEST_TOO_LARGE")
    assert problem["max_body_bytes"] == MAX_BODY
    assert audit_event_types(clean_database.engine) == before


def test_body_when_within_limit_then_route_answers_it(
    limited: TestClient, clean_database: TestDatabase
) -> None:
    before = audit_event_types(clean_database.engine)

    response = limited.post(
        "/v1/auth/login", content=LOGIN, headers={"content-type": "application/json"}
    )

    assert response.status_code == 401
    assert len(audit_event_types(clean_database.engine)) > len(before)


def test_body_when_chunked_stream_passes_limit_then_413(limited: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield from itertools.repeat(CHUNK, MAX_BODY // len(CHUNK) + 1)

    response = limited.post(
        "/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )

    _assert_refused(response, 413, "REQUEST_TOO_LARGE")


def test_content_length_when_absurdly_long_number_then_413_never_500(limited: TestClient) -> None:
    response = limited.get("/healthz", headers={"content-length": "9" * 100})

    _assert_refused(response, 413, "REQUEST_TOO_LARGE")


def test_headers_when_more_fields_than_limit_then_431(limited: TestClient) -> None:
    headers = {f"x-extra-{number}": "1" for number in range(MAX_HEADER_COUNT)}

    response = limited.get("/healthz", headers=headers)

    problem = _assert_refused(response, 431, "HEADERS_TOO_LARGE")
    assert problem["max_header_count"] == MAX_HEADER_COUNT


def test_headers_when_block_larger_than_limit_then_431(limited: TestClient) -> None:
    response = limited.get("/healthz", headers={"x-large": "a" * MAX_HEADER_BYTES})

    problem = _assert_refused(response, 431, "HEADERS_TOO_LARGE")
    assert problem["max_header_bytes"] == MAX_HEADER_BYTES


def test_headers_when_within_limits_then_served(limited: TestClient) -> None:
    headers = {f"x-extra-{number}": "a" * 50 for number in range(MAX_HEADER_COUNT - 10)}

    response = limited.get("/healthz", headers=headers)

    assert response.status_code == 200


def test_refusal_when_sent_then_carries_the_security_headers(limited: TestClient) -> None:
    response = limited.get("/healthz", headers={"x-large": "a" * MAX_HEADER_BYTES})

    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" in response.headers


def test_deadline_when_no_response_in_time_then_504_and_the_work_may_still_happen(
    limited: TestClient, mailbox: MemorySender
) -> None:
    sign_up = {
        "username": "alice",
        "email": "alice@example.com",
        "password": STRONG_PASSWORD,
        "consents": CONSENTS,
    }

    response = limited.post("/v1/auth/register", json=sign_up)

    problem = _assert_refused(response, 504, "REQUEST_TIMEOUT")
    assert "may still take effect" in problem["detail"]
    assert [message.to for message in mailbox.emails] == ["alice@example.com"]


# -- the body as it streams in, driven through the application's ASGI interface --


def _scope(path: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("192.0.2.10", 50000),
        "server": ("testserver", 443),
        "state": {},
    }


CHUNKED_JSON = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]


class Client:
    """The client side of one ASGI request: a body source and what came back."""

    def __init__(self, body: AsyncIterator[bytes]) -> None:
        self.body = body
        self.bytes_taken = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        chunk = await anext(self.body)
        self.bytes_taken += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def problem(self) -> dict[str, Any]:
        body = b"".join(message.get("body", b"") for message in self.sent[1:])
        document: dict[str, Any] = json.loads(body)
        return document


def _drive(app: Callable[[Scope, Receive, Send], Any], scope: Scope, client: Client) -> None:
    async def call() -> None:
        await asyncio.wait_for(app(scope, client.receive, client.send), HANG_GUARD_SECONDS)

    asyncio.run(call())


async def _endless(pause: float = 0.0, chunk: bytes = CHUNK) -> AsyncIterator[bytes]:
    while True:
        if pause:
            await asyncio.sleep(pause)
        yield chunk


async def _stalling_after_first_chunk() -> AsyncIterator[bytes]:
    yield CHUNK
    await asyncio.sleep(HANG_GUARD_SECONDS)
    yield CHUNK


def test_body_when_endless_then_413_after_reading_at_most_one_chunk_past_the_limit(
    limited_app: FastAPI,
) -> None:
    client = Client(_endless())

    _drive(limited_app, _scope("/v1/auth/login", CHUNKED_JSON), client)

    assert client.status == 413
    assert client.problem["reason_code"] == "REQUEST_TOO_LARGE"
    assert client.bytes_taken <= MAX_BODY + len(CHUNK)


def test_body_when_client_pauses_past_the_body_timeout_then_408(limited_app: FastAPI) -> None:
    client = Client(_stalling_after_first_chunk())

    _drive(limited_app, _scope("/v1/auth/login", CHUNKED_JSON), client)

    assert client.status == 408
    assert client.problem["reason_code"] == "CLIENT_TOO_SLOW"
    assert client.bytes_taken == len(CHUNK)


def test_body_when_trickle_outlasts_the_body_deadline_then_408(limited_app: FastAPI) -> None:
    client = Client(_endless(pause=0.5, chunk=b"x" * 16))
    scope = _scope("/v1/auth/login", [(b"content-type", b"application/json")])
    # Under the size limit all along: only the deadline can end it.
    scope["headers"].append((b"content-length", str(MAX_BODY).encode()))

    _drive(limited_app, scope, client)

    assert client.status == 408
    assert client.problem["reason_code"] == "CLIENT_TOO_SLOW"
    assert client.bytes_taken < MAX_BODY


# -- the deadline around a response that has started, on the middleware alone --


def _middleware(app: Callable[[Scope, Receive, Send], Any]) -> RequestLimitsMiddleware:
    limits = RequestLimits(
        max_body_bytes=MAX_BODY,
        max_header_count=MAX_HEADER_COUNT,
        max_header_bytes=MAX_HEADER_BYTES,
        body_idle_seconds=1,
        body_deadline_seconds=1,
        request_timeout_seconds=0.2,
    )
    return RequestLimitsMiddleware(app, limits)


async def _no_body() -> AsyncIterator[bytes]:
    yield b""


def test_deadline_when_response_stalls_midway_then_cut_off_without_a_second_answer() -> None:
    stopped: list[str] = []

    async def stalling(scope: Scope, receive: Receive, send: Send) -> None:
        del scope, receive
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        try:
            await asyncio.sleep(HANG_GUARD_SECONDS)
        finally:
            stopped.append("cancelled")

    client = Client(_no_body())

    _drive(_middleware(stalling), _scope("/stream", []), client)

    assert stopped == ["cancelled"]
    assert [message["type"] for message in client.sent] == [
        "http.response.start",
        "http.response.body",
    ]


def test_deadline_when_response_complete_then_later_work_is_left_to_finish() -> None:
    finished: list[str] = []

    async def answers_then_works(scope: Scope, receive: Receive, send: Send) -> None:
        del scope, receive
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        await asyncio.sleep(0.5)
        finished.append("done")

    client = Client(_no_body())

    _drive(_middleware(answers_then_works), _scope("/after", []), client)

    assert finished == ["done"]
    assert client.status == 204


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("max_body_bytes", 0),
        ("max_header_count", 1),
        ("max_header_bytes", 100),
        ("header_timeout_seconds", 0),
        ("client_body_timeout_seconds", 0),
        ("request_timeout_seconds", 0),
        ("max_connections", 0),
    ],
)
def test_settings_when_limit_out_of_bounds_then_refused(
    tmp_path: Path, name: str, value: int
) -> None:
    with pytest.raises(ValidationError, match=name):
        Settings(_env_file=None, var_dir=tmp_path, **{name: value})  # type: ignore[call-arg]
