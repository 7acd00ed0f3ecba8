"""Request limits: body size, header count and size, slow bodies and a response deadline.

A pure ASGI middleware, outside everything that reads a body (the API-key signature
check, the routes), so a refused body is never buffered whole:

- the header block: more than ``max_header_count`` fields or ``max_header_bytes`` bytes
  (each field counted as ``name: value`` plus its line break) is ``431 HEADERS_TOO_LARGE``;
- the body: a ``Content-Length`` above ``max_body_bytes`` is ``413 REQUEST_TOO_LARGE``
  before a byte of it is read, and a body without one (chunked) is counted as it streams
  in and refused as soon as it passes the limit;
- a slow body: no bytes for ``client_body_timeout_seconds``, or not complete within
  ``client_body_deadline_seconds``, is ``408 CLIENT_TOO_SLOW``;
- a broken body: the client gone before its body is complete is ``400 MALFORMED_REQUEST``
  (if anyone is still listening);
- the deadline: no response within ``request_timeout_seconds`` is ``504 REQUEST_TIMEOUT``.
  The work behind it is not interrupted (a worker thread cannot be, and its database
  session must not be torn down under it), so the request may still take effect: the
  problem says so. A response already under way when the deadline passes is cut off.

Every refusal closes the connection, so what the client still sends is not read. The
application, still waiting for the body, is told the client left; a route that then
complains of the missing body (``ClientDisconnect``) has nothing left to answer, and that
is logged as the refusal it follows, not as an error.
The server itself (``tradeguard.gateway.http_protocol``) bounds what comes before this
middleware runs: the time and bytes of the request head, and the number of connections.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradeguard.config import Settings
from tradeguard.core.errors import ProblemError, ProblemType
from tradeguard.gateway.problems import problem_response
from tradeguard.logs import get_logger

HEADER_LINE_OVERHEAD = 4
"""``: `` between name and value and the CRLF after it."""
MAX_LENGTH_DIGITS = 18
"""A longer Content-Length is beyond any limit (and beyond a cheap ``int()``)."""
CLOSE = {"Connection": "close"}
TICK_SECONDS = 0.25
"""How often requests in flight are held to their clocks (limits are whole seconds)."""

log = get_logger("tradeguard.http")


class LimitReason(StrEnum):
    """Stable reason codes of requests refused for their size or pace."""

    REQUEST_TOO_LARGE = "REQUEST_TOO_LARGE"
    HEADERS_TOO_LARGE = "HEADERS_TOO_LARGE"
    CLIENT_TOO_SLOW = "CLIENT_TOO_SLOW"
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    SERVER_BUSY = "SERVER_BUSY"
    MALFORMED_REQUEST = "MALFORMED_REQUEST"


BODY_TOO_LARGE = ProblemType("request-too-large", "Request body too large", 413)
HEADERS_TOO_LARGE = ProblemType("headers-too-large", "Request header fields too large", 431)
CLIENT_TOO_SLOW = ProblemType("client-too-slow", "Request not received in time", 408)
REQUEST_TIMEOUT = ProblemType("request-timeout", "Response not ready in time", 504)
SERVER_BUSY = ProblemType("server-busy", "Server busy", 503)
MALFORMED_REQUEST = ProblemType("malformed-request", "Malformed HTTP request", 400)


def _refusal(
    problem: ProblemType,
    reason: LimitReason,
    detail: str,
    extensions: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> ProblemError:
    return ProblemError(
        problem, reason, detail, extensions or {}, headers={**CLOSE, **(headers or {})}
    )


def body_too_large(limit: int) -> ProblemError:
    """413: the body is (or is declared) larger than ``limit`` bytes."""
    return _refusal(
        BODY_TOO_LARGE,
        LimitReason.REQUEST_TOO_LARGE,
        f"The request body is larger than {limit} bytes.",
        {"max_body_bytes": limit},
    )


def headers_too_large(detail: str, **extensions: int) -> ProblemError:
    """431: too many header fields, or too many bytes of them."""
    return _refusal(HEADERS_TOO_LARGE, LimitReason.HEADERS_TOO_LARGE, detail, extensions)


def client_too_slow(detail: str) -> ProblemError:
    """408: the client did not send its request in time."""
    return _refusal(CLIENT_TOO_SLOW, LimitReason.CLIENT_TOO_SLOW, detail)


def request_timed_out(seconds: float) -> ProblemError:
    """504: no response within the deadline; the outcome of the request is unknown."""
    return _refusal(
        REQUEST_TIMEOUT,
        LimitReason.REQUEST_TIMEOUT,
        f"No response within {seconds:g} s. The request may still take effect: "
        "check its outcome before sending it again.",
    )


def server_busy(retry_after_seconds: int) -> ProblemError:
    """503: too many connections or requests in flight; try again shortly."""
    return _refusal(
        SERVER_BUSY,
        LimitReason.SERVER_BUSY,
        "The server is at its connection limit; try again shortly.",
        headers={"Retry-After": str(retry_after_seconds)},
    )


def body_incomplete() -> ProblemError:
    """400: the connection ended before the request body was complete."""
    return _refusal(
        MALFORMED_REQUEST,
        LimitReason.MALFORMED_REQUEST,
        "The request body ended before it was complete.",
    )


def malformed_request() -> ProblemError:
    """400: the bytes received are not an HTTP/1.1 request."""
    return _refusal(
        MALFORMED_REQUEST, LimitReason.MALFORMED_REQUEST, "The request is not valid HTTP/1.1."
    )


@dataclass(frozen=True, slots=True)
class RequestLimits:
    """What one request may take: bytes, header fields and time."""

    max_body_bytes: int
    max_header_count: int
    max_header_bytes: int
    body_idle_seconds: float
    body_deadline_seconds: float
    request_timeout_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> RequestLimits:
        """The limits configured in ``settings``."""
        return cls(
            max_body_bytes=settings.max_body_bytes,
            max_header_count=settings.max_header_count,
            max_header_bytes=settings.max_header_bytes,
            body_idle_seconds=settings.client_body_timeout_seconds,
            body_deadline_seconds=settings.client_body_deadline_seconds,
            request_timeout_seconds=settings.request_timeout_seconds,
        )


def header_block_size(headers: Sequence[tuple[bytes, bytes]]) -> int:
    """Bytes of the header fields as sent: names, values, separators and line breaks."""
    return sum(len(name) + len(value) for name, value in headers) + HEADER_LINE_OVERHEAD * len(
        headers
    )


def head_refusal(
    headers: Sequence[tuple[bytes, bytes]], limits: RequestLimits
) -> ProblemError | None:
    """The refusal a request head earns before its body is read, if any."""
    if len(headers) > limits.max_header_count:
        return headers_too_large(
            f"The request has more than {limits.max_header_count} header fields.",
            max_header_count=limits.max_header_count,
        )
    if header_block_size(headers) > limits.max_header_bytes:
        return headers_too_large(
            f"The request header fields are larger than {limits.max_header_bytes} bytes.",
            max_header_bytes=limits.max_header_bytes,
        )
    declared = declared_length(headers)
    if declared is not None and declared > limits.max_body_bytes:
        return body_too_large(limits.max_body_bytes)
    return None


def declared_length(headers: Sequence[tuple[bytes, bytes]]) -> int | None:
    """The Content-Length, if there is one that is a number (a huge one counts as huge)."""
    for name, value in headers:
        if name == b"content-length":
            digits = value.strip()
            if not digits.isdigit():
                return None
            return int(digits) if len(digits) <= MAX_LENGTH_DIGITS else 10**MAX_LENGTH_DIGITS
    return None


class RequestLimitsMiddleware:
    """Refuses requests whose head, body or pace is beyond ``limits`` (problem+json)."""

    def __init__(self, app: ASGIApp, limits: RequestLimits) -> None:
        self.app = app
        self.limits = limits
        self.watch: _Watch | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = head_refusal(scope["headers"], self.limits)
        if refusal is not None:
            log.info("http.request_refused", reason=refusal.reason_code)
            await problem_response(scope, refusal)(scope, receive, send)
            return
        exchange = _Exchange(self.limits, scope, receive, send)
        watch = self._watch()
        watch.add(exchange)
        try:
            await exchange.run(self.app)
        finally:
            watch.active.discard(exchange)

    def _watch(self) -> _Watch:
        """The watch of the running event loop (tests run one loop after another)."""
        loop = asyncio.get_running_loop()
        if self.watch is None or self.watch.loop is not loop:
            self.watch = _Watch(loop)
        return self.watch


class _Watch:
    """The exchanges in flight on one event loop, held to their clocks every tick.

    One timer per loop, running only while requests are in flight, instead of timers
    per request and per body read: the limits are whole seconds, a tick is a quarter.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.active: set[_Exchange] = set()
        self.ticking = False

    def add(self, exchange: _Exchange) -> None:
        """Watch ``exchange`` until it leaves ``active``; start ticking if idle."""
        self.active.add(exchange)
        if not self.ticking:
            self.ticking = True
            self.loop.call_later(TICK_SECONDS, self._tick)

    def _tick(self) -> None:
        # The next tick is booked first: a failing check must not stop the clocks.
        self.ticking = bool(self.active)
        if self.ticking:
            self.loop.call_later(TICK_SECONDS, self._tick)
        now = time.monotonic()
        for exchange in list(self.active):
            exchange.check(now)


class _Exchange:
    """One request under its limits: the body as it arrives, the response, the deadline."""

    def __init__(self, limits: RequestLimits, scope: Scope, receive: Receive, send: Send) -> None:
        self.limits = limits
        self.scope = scope
        self.server_receive = receive
        self.server_send = send
        started = time.monotonic()
        self.body_deadline = started + limits.body_deadline_seconds
        self.request_deadline = started + limits.request_timeout_seconds
        self.body_wait_until = 0.0
        self.body_bytes = 0
        self.body_complete = False
        self.reading_body = False
        self.response_started = False
        self.response_complete = False
        self.answered = False
        self.task: asyncio.Task[Any] | None = None
        self.reader: asyncio.Task[Any] | None = None
        self.interrupted: asyncio.Task[Any] | None = None
        self.late_answer: asyncio.Task[None] | None = None

    async def run(self, app: ASGIApp) -> None:
        """Call ``app`` with the guarded receive and send until it returns or is cut off."""
        self.task = asyncio.current_task()
        try:
            await app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            if not self._own_cancellation():
                raise
            log.warning("http.response_cut_off", reason=LimitReason.REQUEST_TIMEOUT)
        except ClientDisconnect:
            if not self.answered:
                raise
            log.info("http.body_abandoned", path=self.scope.get("path", ""))
        finally:
            if self.late_answer is not None:
                await self.late_answer

    async def receive(self) -> Message:
        """The next request message, counted and timed while the body is incomplete."""
        if self.answered:
            return {"type": "http.disconnect"}
        if self.body_complete:
            return await self.server_receive()
        message = await self._next_body_message()
        if message is None:
            await self._refuse(client_too_slow("The request body did not arrive in time."))
            return {"type": "http.disconnect"}
        if message["type"] != "http.request":
            self.body_complete = True
            if message["type"] == "http.disconnect":
                await self._refuse(body_incomplete())
            return message
        self.body_bytes += len(message.get("body", b""))
        if self.body_bytes > self.limits.max_body_bytes:
            await self._refuse(body_too_large(self.limits.max_body_bytes))
            return {"type": "http.disconnect"}
        self.body_complete = not message.get("more_body", False)
        return message

    async def send(self, message: Message) -> None:
        """Pass the application's response on, unless the request was answered for it."""
        if self.answered:
            return
        if message["type"] == "http.response.start":
            self.response_started = True
        elif not message.get("more_body", False):
            self.response_complete = True
        await self.server_send(message)

    def check(self, now: float) -> None:
        """Hold the request to its clocks (called by the watch, on the event loop)."""
        if self.reading_body:
            if now >= self.body_wait_until:
                self._interrupt(self.reader)
        elif now >= self.request_deadline:
            self._deadline_passed()

    async def _next_body_message(self) -> Message | None:
        """The server's next message, or None when the client paused or took too long."""
        now = time.monotonic()
        self.body_wait_until = min(
            now + self.limits.body_idle_seconds, self.body_deadline, self.request_deadline
        )
        self.reader = asyncio.current_task()
        self.reading_body = True
        try:
            return await self.server_receive()
        except asyncio.CancelledError:
            if not self._own_cancellation():
                raise
            return None
        finally:
            self.reading_body = False

    def _deadline_passed(self) -> None:
        # Work after a complete response (background tasks) is left to finish.
        if self.answered or self.response_complete:
            return
        if self._claim_response():
            error = request_timed_out(self.limits.request_timeout_seconds)
            self.late_answer = asyncio.ensure_future(self._send_problem(error))
        else:
            self._interrupt(self.task)

    def _interrupt(self, task: asyncio.Task[Any] | None) -> None:
        """Cancel what ``task`` awaits; it learns why from ``interrupted``."""
        if task is not None and self.interrupted is None:
            self.interrupted = task
            task.cancel()

    def _own_cancellation(self) -> bool:
        """Whether the current task was cancelled by this exchange alone (then it is withdrawn)."""
        task = self.interrupted
        if task is None or task is not asyncio.current_task():
            return False
        self.interrupted = None
        return task.uncancel() == 0

    def _claim_response(self) -> bool:
        """Take over the response if the application has not started one."""
        if self.response_started:
            return False
        self.response_started = self.answered = True
        return True

    async def _refuse(self, error: ProblemError) -> None:
        if self._claim_response():
            await self._send_problem(error)

    async def _send_problem(self, error: ProblemError) -> None:
        log.info("http.request_refused", reason=error.reason_code)
        await problem_response(self.scope, error)(self.scope, self.server_receive, self.server_send)
