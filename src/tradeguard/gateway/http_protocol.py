"""The server's HTTP/1.1 protocol: uvicorn's httptools protocol with connection limits.

uvicorn bounds neither the time a request head may take (a client sending one header
byte every few seconds holds its connection forever) nor its size (the httptools parser
buffers any amount; uvicorn's ``h11_max_incomplete_event_size`` applies only to h11).
This protocol adds, per connection:

- a head deadline: the request line and headers must arrive within
  ``header_timeout_seconds`` of the first byte (or of the connection, for the first
  request); a partial head is answered ``408 CLIENT_TOO_SLOW``, a silent connection closed;
- a head size cap: more than ``max_header_bytes`` plus ``REQUEST_LINE_BYTES`` buffered
  without the end of the head is ``431 HEADERS_TOO_LARGE``;
- a drain deadline: a body still arriving after its response was sent (the route did not
  read it) may take ``client_body_timeout_seconds`` more, then the connection is closed;
- a connection limit: a request arriving while more than ``max_connections`` connections
  are open, or that many requests are in flight, is ``503 SERVER_BUSY``.

These refusals are written here, before any application code runs, as problem documents
with a fresh request id, and close the connection. Malformed requests get a problem
document too (``400 MALFORMED_REQUEST``) instead of uvicorn's plain text.

A closed TLS connection otherwise stays open until the client acknowledges the close, up
to 30 seconds, and counts against ``max_connections`` all that time: a client that never
does keeps its slot. Every connection this protocol or the application closes is dropped
``CLOSE_GRACE_SECONDS`` after its last byte went out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

from uvicorn._types import ASGI3Application
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from tradeguard.config import Settings
from tradeguard.core.errors import PROBLEM_CONTENT_TYPE, ProblemError
from tradeguard.core.ids import new_id
from tradeguard.gateway.request_limits import (
    client_too_slow,
    headers_too_large,
    malformed_request,
    server_busy,
)
from tradeguard.logs import get_logger

REQUEST_LINE_BYTES = 8192
"""Room for the request line (method, target, version) on top of the header fields."""
BUSY_RETRY_AFTER_SECONDS = 1
CLOSE_GRACE_SECONDS = 2.0
"""After closing, how long the TLS goodbye may take before the socket is dropped."""

log = get_logger("tradeguard.http")


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What one connection may take before the application sees a request."""

    max_head_bytes: int
    head_timeout_seconds: float
    drain_timeout_seconds: float
    max_connections: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        """The limits configured in ``settings``."""
        return cls(
            max_head_bytes=settings.max_header_bytes + REQUEST_LINE_BYTES,
            head_timeout_seconds=settings.header_timeout_seconds,
            drain_timeout_seconds=settings.client_body_timeout_seconds,
            max_connections=settings.max_connections,
        )


def protocol_with_limits(limits: ConnectionLimits) -> type[LimitedHttpProtocol]:
    """The protocol class to give uvicorn (it builds one instance per connection)."""
    configured = limits

    class ConfiguredHttpProtocol(LimitedHttpProtocol):
        limits = configured

    return ConfiguredHttpProtocol


def raw_problem(error: ProblemError, request_id: str) -> bytes:
    """A complete HTTP/1.1 response carrying ``error`` as a problem document."""
    document = error.document(request_id=request_id, instance="")
    body = json.dumps(document, separators=(",", ":")).encode()
    status = HTTPStatus(error.status)
    headers = {
        "content-type": PROBLEM_CONTENT_TYPE,
        "content-length": str(len(body)),
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "x-request-id": request_id,
        **{name.lower(): value for name, value in error.headers.items()},
    }
    lines = [f"HTTP/1.1 {status.value} {status.phrase}"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class LimitedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head deadline, head size cap and connection limit."""

    limits: ClassVar[ConnectionLimits]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limit_concurrency = None  # enforced by _over_capacity, with a problem document
        self.reading_head = True
        self.head_bytes = 0
        self.deadline: asyncio.TimerHandle | None = None
        self.drop_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock for the first request head."""
        super().connection_made(transport)
        self._arm(self.limits.head_timeout_seconds, self._head_late)

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clocks and let uvicorn clean up."""
        self._disarm()
        if self.drop_timer is not None:
            self.drop_timer.cancel()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Count head bytes and start the head clock at its first byte."""
        if self.reading_head:
            self.head_bytes += len(data)
            if self.deadline is None:
                self._arm(self.limits.head_timeout_seconds, self._head_late)
        super().data_received(data)
        if self.reading_head and self.head_bytes > self.limits.max_head_bytes:
            self._refuse(
                headers_too_large(
                    "The request head is larger than the server accepts.",
                    max_head_bytes=self.limits.max_head_bytes,
                )
            )

    def on_headers_complete(self) -> None:
        """The head is in: its clock stops and the request goes to the application."""
        self.reading_head = False
        self.head_bytes = 0
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """The body is in; if its response is already out, the connection is idle."""
        super().on_message_complete()
        self.reading_head = True
        self.head_bytes = 0
        if self.cycle is not None and self.cycle.response_complete:
            self._arm(self.limits.head_timeout_seconds, self._head_late)

    def on_response_complete(self) -> None:
        """After a last response, drop the connection; before a body is in, give it a deadline."""
        super().on_response_complete()
        cycle = self.cycle
        if self.transport.is_closing():
            self._drop_later()
        elif cycle is not None and cycle.response_complete and cycle.more_body:
            self._arm(self.limits.drain_timeout_seconds, self._drain_late)

    def timeout_keep_alive_handler(self) -> None:
        """Close an idle connection, and drop it if the client does not answer the close."""
        super().timeout_keep_alive_handler()
        self._drop_later()

    def send_400_response(self, msg: str) -> None:
        """Answer an unparsable request with a problem document instead of plain text."""
        del msg
        self._refuse(malformed_request())

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: ASGI3Application) -> None:
        if self.transport.is_closing():
            return
        if self._over_capacity():
            self._refuse(server_busy(BUSY_RETRY_AFTER_SECONDS))
            return
        super()._start_asgi_task(cycle, app)

    def _over_capacity(self) -> bool:
        limit = self.limits.max_connections
        return len(self.connections) > limit or len(self.tasks) >= limit

    def _head_late(self) -> None:
        self.deadline = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined head behind a response still being made: judged once it is out.
            self._arm(self.limits.head_timeout_seconds, self._head_late)
        elif self.head_bytes == 0:
            self._close()
        else:
            self._refuse(client_too_slow("The request head did not arrive in time."))

    def _drain_late(self) -> None:
        self.deadline = None
        self._close()

    def _refuse(self, error: ProblemError) -> None:
        if self.transport.is_closing():
            return
        self._disarm()
        self.reading_head = False
        request_id = str(new_id())
        log.info("http.connection_refused", reason=error.reason_code, request_id=request_id)
        self.transport.write(raw_problem(error, request_id))
        self._close()

    def _close(self) -> None:
        self.transport.close()
        self._drop_later()

    def _drop_later(self) -> None:
        if self.drop_timer is None:
            self.drop_timer = self.loop.call_later(CLOSE_GRACE_SECONDS, self._drop)

    def _drop(self) -> None:
        """Drop the socket once what was written has gone out (a reader gets more time)."""
        self.drop_timer = None
        if self.transport.get_write_buffer_size() > 0:
            self._drop_later()
        else:
            self.transport.abort()

    def _arm(self, seconds: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self.deadline = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
