"""The real HTTPS server on loopback against clients that misbehave on purpose: oversized
bodies and header blocks, slow heads (slowloris), slow and unread bodies, idle
connections, garbage and more connections than allowed. Raw TLS sockets, because a
client library would not misbehave like this.

The limits are set short (one second) and the bounds on how long anything takes are
generous: these tests show that a limit cuts in, never how fast the server is.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from functional.identity_flows import CONSENTS, STRONG_PASSWORD
from support import LiveServer, running_server

pytestmark = pytest.mark.live_server

MAX_BODY = 4096
MAX_HEADER_COUNT = 20
MAX_HEADER_BYTES = 4096
LIMIT_SECONDS = 1
PATIENCE_SECONDS = 20
"""How long a client here waits for anything; far beyond every configured limit."""
LIMITS = {
    "MAX_BODY_BYTES": MAX_BODY,
    "MAX_HEADER_COUNT": MAX_HEADER_COUNT,
    "MAX_HEADER_BYTES": MAX_HEADER_BYTES,
    "HEADER_TIMEOUT_SECONDS": LIMIT_SECONDS,
    "CLIENT_BODY_TIMEOUT_SECONDS": LIMIT_SECONDS,
    "CLIENT_BODY_DEADLINE_SECONDS": 3,
    "REQUEST_TIMEOUT_SECONDS": LIMIT_SECONDS,
    "KEEP_ALIVE_SECONDS": LIMIT_SECONDS,
    # Sign-up answers no sooner than this: a route slower than the response deadline.
    "EQUAL_TIME_FLOOR_MS": 3000,
}


def _serve_with(workdir: Path, limits: dict[str, int]) -> Iterator[LiveServer]:
    lines = [f"TRADEGUARD_{name}={value}" for name, value in limits.items()]
    (workdir / ".env").write_text("\n".join(lines) + "\n")
    with running_server(workdir) as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve_with(tmp_path_factory.mktemp("limits"), LIMITS)


@pytest.fixture(scope="module")
def crowded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # The limit is per gateway worker, and the kernel spreads connections over them: one
    # worker makes "the third connection" the same process's third.
    yield from _serve_with(
        tmp_path_factory.mktemp("crowded"),
        {"MAX_CONNECTIONS": 2, "HEADER_TIMEOUT_SECONDS": 30, "SERVE_WORKERS": 1},
    )


def _connect(server: LiveServer) -> ssl.SSLSocket:
    raw = socket.create_connection((server.host, server.port), timeout=PATIENCE_SECONDS)
    return server.client_context().wrap_socket(raw, server_hostname="localhost")


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def problem(self) -> dict[str, Any]:
        assert self.headers["content-type"] == "application/problem+json"
        document: dict[str, Any] = json.loads(self.body)
        assert document["request_id"] == self.headers["x-request-id"]
        return document

    @property
    def reason(self) -> str:
        return str(self.problem["reason_code"])


def _reply(tls: ssl.SSLSocket) -> Reply:
    response = http.client.HTTPResponse(tls)
    response.begin()
    headers = {name.lower(): value for name, value in response.getheaders()}
    return Reply(response.status, headers, response.read())


def _closed_by_server(tls: ssl.SSLSocket) -> bool:
    try:
        return tls.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError):
        return True


def _head(method: str, path: str, *extra: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: localhost", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _served(server: LiveServer, request: bytes) -> Reply:
    with closing(_connect(server)) as tls:
        tls.sendall(request)
        return _reply(tls)


def _refused(server: LiveServer, request: bytes) -> tuple[Reply, bool]:
    """The reply to ``request`` and whether the server closed the connection after it."""
    with closing(_connect(server)) as tls:
        tls.sendall(request)
        reply = _reply(tls)
        return reply, _closed_by_server(tls)


def test_body_when_declared_larger_than_limit_then_413_without_the_body_being_read(
    server: LiveServer,
) -> None:
    head = _head(
        "POST",
        "/v1/auth/login",
        "Content-Type: application/json",
        f"Content-Length: {100 * MAX_BODY}",
        "Expect: 100-continue",
    )

    reply, closed = _refused(server, head)

    assert (reply.status, reply.reason) == (413, "REQUEST_TOO_LARGE")
    assert closed


def test_body_when_chunked_past_the_limit_then_413(server: LiveServer) -> None:
    chunk = b"400\r\n" + b"x" * 0x400 + b"\r\n"
    head = _head(
        "POST", "/v1/auth/login", "Content-Type: application/json", "Transfer-Encoding: chunked"
    )

    reply, closed = _refused(server, head + chunk * (MAX_BODY // 0x400 + 1))

    assert (reply.status, reply.reason) == (413, "REQUEST_TOO_LARGE")
    assert closed


def test_headers_when_more_fields_than_limit_then_431(server: LiveServer) -> None:
    fields = [f"X-Extra-{number}: 1" for number in range(MAX_HEADER_COUNT)]

    reply, closed = _refused(server, _head("GET", "/healthz", *fields))

    assert (reply.status, reply.reason) == (431, "HEADERS_TOO_LARGE")
    assert "strict-transport-security" in reply.headers
    assert closed


def test_headers_when_block_over_limit_then_431_from_the_application(server: LiveServer) -> None:
    reply = _served(server, _head("GET", "/healthz", "X-Large: " + "a" * MAX_HEADER_BYTES))

    assert (reply.status, reply.reason) == (431, "HEADERS_TOO_LARGE")
    assert reply.problem["max_header_bytes"] == MAX_HEADER_BYTES


def _send_until_answered(
    tls: ssl.SSLSocket, pieces: list[bytes], pause: float
) -> tuple[bytes, int]:
    """Send ``pieces`` one by one, ``pause`` apart, until the server answers; (answer, sent)."""
    tls.settimeout(pause)
    for sent, piece in enumerate(pieces):
        try:
            tls.sendall(piece)
        except OSError:
            tls.settimeout(PATIENCE_SECONDS)
            return _whatever_came(tls), sent
        try:
            return tls.recv(65536), sent + 1
        except TimeoutError:
            continue
    return b"", len(pieces)


def _whatever_came(tls: ssl.SSLSocket) -> bytes:
    try:
        return tls.recv(65536)
    except OSError:
        return b""


def test_headers_when_head_grows_past_what_the_server_buffers_then_431_before_it_ends(
    server: LiveServer,
) -> None:
    pieces = [b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Endless: "]
    pieces += [b"a" * 1024] * (100 * MAX_HEADER_BYTES // 1024)
    with closing(_connect(server)) as tls:
        answer, sent = _send_until_answered(tls, pieces, pause=0.05)

    assert answer.startswith(b"HTTP/1.1 431 ")
    assert b'"reason_code":"HEADERS_TOO_LARGE"' in answer
    assert sent < len(pieces)


def test_head_when_it_stops_halfway_then_408_and_closed(server: LiveServer) -> None:
    with closing(_connect(server)) as tls:
        tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: loc")

        reply = _reply(tls)

        assert (reply.status, reply.reason) == (408, "CLIENT_TOO_SLOW")
        assert _closed_by_server(tls)


def test_head_when_trickled_a_byte_at_a_time_then_cut_off_at_the_head_deadline(
    server: LiveServer,
) -> None:
    endless_head = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 1000
    pieces = [bytes([byte]) for byte in endless_head]
    with closing(_connect(server)) as tls:
        answer, sent = _send_until_answered(tls, pieces, pause=0.2)

    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"reason_code":"CLIENT_TOO_SLOW"' in answer
    assert sent < len(pieces)


def test_connection_when_nothing_is_sent_then_closed_without_an_answer(server: LiveServer) -> None:
    with closing(_connect(server)) as tls:
        assert _closed_by_server(tls)


def test_body_when_it_stalls_midway_then_408_and_closed(server: LiveServer) -> None:
    head = _head("POST", "/v1/auth/login", "Content-Type: application/json", "Content-Length: 100")

    reply, closed = _refused(server, head + b'{"login": ')

    assert (reply.status, reply.reason) == (408, "CLIENT_TOO_SLOW")
    assert closed


def test_body_when_unread_and_still_trickling_after_the_answer_then_connection_closed(
    server: LiveServer,
) -> None:
    with closing(_connect(server)) as tls:
        tls.sendall(_head("POST", "/healthz", "Content-Length: 1000") + b"ab")
        reply = _reply(tls)
        pieces = [b"c"] * 998
        answer, sent = _send_until_answered(tls, pieces, pause=0.2)

    assert reply.status == 405
    assert answer == b""
    assert sent < len(pieces)


def test_keep_alive_when_idle_past_the_limit_then_closed(server: LiveServer) -> None:
    with closing(_connect(server)) as tls:
        tls.sendall(_head("GET", "/healthz"))
        first = _reply(tls)
        tls.sendall(_head("GET", "/healthz"))
        second = _reply(tls)

        assert (first.status, second.status) == (200, 200)
        assert _closed_by_server(tls)


def test_request_when_not_http_then_400_problem(server: LiveServer) -> None:
    reply, closed = _refused(server, b"NOT\x00HTTP AT ALL\r\n\r\n")

    assert (reply.status, reply.reason) == (400, "MALFORMED_REQUEST")
    assert closed


def test_response_when_not_ready_by_the_deadline_then_504(server: LiveServer) -> None:
    sign_up = json.dumps(
        {
            "username": "slowpoke",
            "email": "slowpoke@example.com",
            "password": STRONG_PASSWORD,
            "consents": CONSENTS,
        }
    ).encode()
    head = _head(
        "POST",
        "/v1/auth/register",
        "Content-Type: application/json",
        f"Content-Length: {len(sign_up)}",
    )

    reply, closed = _refused(server, head + sign_up)

    assert (reply.status, reply.reason) == (504, "REQUEST_TIMEOUT")
    assert closed


def test_connections_when_more_than_allowed_then_503_until_some_close(
    crowded_server: LiveServer,
) -> None:
    idle = [_connect(crowded_server) for _ in range(2)]
    try:
        crowded, closed = _refused(crowded_server, _head("GET", "/healthz"))
    finally:
        for connection in idle:
            connection.close()

    assert (crowded.status, crowded.reason) == (503, "SERVER_BUSY")
    assert crowded.headers["retry-after"] == "1"
    assert closed
    assert _eventually_served(crowded_server)


def _eventually_served(server: LiveServer) -> bool:
    """Whether a request is served once the server has seen the idle connections go."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    while time.monotonic() < deadline:
        if _served(server, _head("GET", "/healthz")).status == 200:
            return True
        time.sleep(0.2)
    return False


def test_connections_when_refused_clients_hold_their_sockets_then_slots_freed_anyway(
    crowded_server: LiveServer,
) -> None:
    holders = [_connect(crowded_server) for _ in range(2)]
    try:
        for tls in holders:
            tls.sendall(b"NOT\x00HTTP\r\n\r\n")
            assert _reply(tls).status == 400
        # The clients neither read on nor close: the server must let go by itself.
        assert _eventually_served(crowded_server)
    finally:
        for tls in holders:
            tls.close()
