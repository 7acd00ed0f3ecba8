"""The layer every request passes first: request id, access log, metrics, error net, headers."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradeguard.core.ids import new_id
from tradeguard.gateway.problems import internal_error_response
from tradeguard.logs import get_logger, info_line
from tradeguard.web.metrics import UNMATCHED_ROUTE, HttpMetrics

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's own request id is kept for correlation only when it is short and plain.
ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
STATIC_PREFIX = "/static/"
STATIC_CACHE = b"public, max-age=3600"
NO_STORE = b"no-store"

LOGGER_NAME = "tradeguard.http"
log = get_logger(LOGGER_NAME)


class RequestContextMiddleware:
    """The outermost layer: request id, log line, metrics, error net and security headers.

    One layer does all five, with one wrapper of ``send``: each layer of its own costs a
    call and a wrapper per message of every request. ``headers`` None leaves the
    response's headers as they are (tests of the inner layers).
    """

    def __init__(
        self, app: ASGIApp, metrics: HttpMetrics, headers: SecurityHeaders | None = None
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(Headers(scope=scope).get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        exchange = _Exchange(started=time.perf_counter())

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                exchange.status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
                if self.headers is not None:
                    message["headers"] = self.headers.of(message["headers"], scope["path"])
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception:
                log.exception("http.unhandled_error", path=scope.get("path", ""))
                if not exchange.status_sent:
                    await internal_error_response(scope)(scope, receive, send_with_id)
            finally:
                self._record(scope, exchange)

    def _record(self, scope: Scope, exchange: _Exchange) -> None:
        elapsed = time.perf_counter() - exchange.started
        route = _route_template(scope)
        self.metrics.observe(scope["method"], route, exchange.status, elapsed)
        fields = {
            "method": scope["method"],
            "route": route,
            "status": exchange.status,
            "latency_ms": round(elapsed * 1000, 3),
        }
        info_line(LOGGER_NAME, "http.request", fields)


@dataclass(slots=True)
class _Exchange:
    started: float
    status: int = 0

    @property
    def status_sent(self) -> bool:
        return self.status != 0


def _request_id(supplied: str | None) -> str:
    if supplied is not None and ACCEPTABLE_REQUEST_ID.fullmatch(supplied):
        return supplied
    return str(new_id())


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def page_policy(connect_sources: tuple[str, ...] = ()) -> str:
    """The pages' policy; scripts may also call ``connect_sources`` (the vault's intake).

    Card numbers go to the vault's intake endpoint instead of this server.
    """
    connect = " ".join(("'self'", *connect_sources))
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"font-src 'self'; connect-src {connect}; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    )


PAGE_POLICY = page_policy()


class SecurityHeaders:
    """HSTS, CSP, nosniff, referrer, framing and cache headers, for every response."""

    def __init__(self, hsts_max_age: int, page_connect_sources: tuple[str, ...] = ()) -> None:
        self.page_policy = page_policy(page_connect_sources)
        fixed = {
            "strict-transport-security": f"max-age={hsts_max_age}; includeSubDomains",
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "x-frame-options": "DENY",
            "cross-origin-opener-policy": "same-origin",
            "cross-origin-resource-policy": "same-origin",
            "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
        }
        self.fixed = [(name.encode(), value.encode()) for name, value in fixed.items()]
        self.managed = {name for name, _ in self.fixed} | {
            b"content-security-policy",
            b"cache-control",
        }

    def of(self, original: list[tuple[bytes, bytes]], path: str) -> list[tuple[bytes, bytes]]:
        """The response headers for ``path``: the answer's own, with ours in their place."""
        cache_control = STATIC_CACHE if path.startswith(STATIC_PREFIX) else NO_STORE
        kept = [(name, value) for name, value in original if name.lower() not in self.managed]
        content_type = next((value for name, value in kept if name.lower() == b"content-type"), b"")
        policy = self.page_policy if content_type.startswith(b"text/html") else API_POLICY
        return [
            *kept,
            *self.fixed,
            (b"content-security-policy", policy.encode()),
            (b"cache-control", cache_control),
        ]
