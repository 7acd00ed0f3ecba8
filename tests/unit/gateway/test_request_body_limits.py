"""A slow or broken request body: a clean problem for the client, no error in the log."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send
from structlog.testing import capture_logs

from tradeguard.gateway.middleware import RequestContextMiddleware
from tradeguard.gateway.request_limits import RequestLimits, RequestLimitsMiddleware
from tradeguard.web.metrics import HttpMetrics

LIMITS = RequestLimits(
    max_body_bytes=1024,
    max_header_count=50,
    max_header_bytes=8192,
    body_idle_seconds=1,
    body_deadline_seconds=30,
    request_timeout_seconds=30,
)


async def _reads_the_body(scope: Scope, receive: Receive, send: Send) -> None:
    """A route that reads its body itself, as the gateway does for a signed request."""
    body = await Request(scope, receive).body()
    await JSONResponse({"bytes": len(body)})(scope, receive, send)


def _scope() -> Scope:
    return {
        "type": "http",
        "method": "DELETE",
        "path": "/v1/orders/o-1",
        "headers": [(b"tg-api-key", b"k-1"), (b"content-length", b"50")],
        "query_string": b"",
        "client": ("198.51.100.20", 40000),
        "state": {},
    }


def _exchange(later: Message | None) -> tuple[list[Message], list[dict[str, Any]]]:
    """Send one byte of the body, then ``later`` (None: nothing more, ever)."""
    messages = [{"type": "http.request", "body": b"x", "more_body": True}]

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        if later is None:
            await asyncio.sleep(3600)
        assert later is not None
        return later

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    app = RequestContextMiddleware(RequestLimitsMiddleware(_reads_the_body, LIMITS), HttpMetrics())
    with capture_logs() as logs:
        asyncio.run(app(_scope(), receive, send))
    return sent, logs


def _answer(sent: list[Message]) -> tuple[int, str]:
    start, body = sent[0], sent[1]
    return start["status"], json.loads(body["body"])["reason_code"]


@pytest.mark.parametrize(
    ("later", "status", "reason"),
    [
        (None, 408, "CLIENT_TOO_SLOW"),
        ({"type": "http.disconnect"}, 400, "MALFORMED_REQUEST"),
    ],
    ids=["stalled", "broken"],
)
def test_body_when_slow_or_broken_then_problem_and_no_error_logged(
    later: Message | None, status: int, reason: str
) -> None:
    sent, logs = _exchange(later)

    assert _answer(sent) == (status, reason)
    assert [line for line in logs if line["log_level"] in {"error", "critical"}] == []
    assert {"event": "http.body_abandoned", "path": "/v1/orders/o-1"}.items() <= next(
        line for line in logs if line["event"] == "http.body_abandoned"
    ).items()
