"""The middleware every request passes: shed under overload, limit per address, then judge.

Before the application: the route class is worked out from method and path, the request
is shed (503) if the process is overloaded and the class is low enough, and it is
counted against its address's limit (429). An order cancel that carries credentials is
neither (``OWNER_FREE``): the gateway charges it to the address only if they are
refused. While the application runs, the time it waits for the client's body is not
counted as the server's (``_ClientPaced``), and the request's latency ends when its
answer starts. After the answer: the RateLimit headers of the tightest limit are added,
and the answer is judged for adaptive throttling by the reason code the problem handlers
left on the request state. With counters in Redis, the calls that reach them run on
worker threads, so a slow round trip never stalls the event loop; the desk process's
counters (gateway workers without Redis) are awaited on the loop for the per-address
count, with no thread waiting for the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradeguard.apikeys.signing import HEADER_KEY
from tradeguard.core.errors import ProblemError
from tradeguard.gateway.problems import problem_response
from tradeguard.ratelimit.adaptive import is_judged, is_rejection
from tradeguard.ratelimit.limiter import ROUTE_CLASS, RateLimits, State
from tradeguard.ratelimit.route_classes import OWNER_FREE, RouteClass, classify
from tradeguard.ratelimit.shedding import LoadShedder, Work
from tradeguard.ratelimit.verdicts import overloaded

REASON_CODE = "reason_code"
LIMIT_HEADER = b"ratelimit-limit"
CREDENTIAL_HEADERS = frozenset({b"authorization", HEADER_KEY.lower().encode()})
STORE_THREADS = 16
"""Worker threads for calls to a remote store (apart from the request handlers' pool)."""
Result = TypeVar("Result")


class RateLimitMiddleware:
    """Shedding, per-address limits, RateLimit headers and adaptive judgement."""

    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits
        self._threads: CapacityLimiter | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route_class = classify(scope["method"], scope["path"])
        state: State = scope.setdefault("state", {})
        state[ROUTE_CLASS] = route_class
        client = scope.get("client")
        ip = client[0] if client else None
        refusal = None
        if route_class not in OWNER_FREE or not _carries_credentials(scope):
            refusal = await self._refusal(state, ip, route_class)
        if refusal is not None:
            await problem_response(scope, refusal)(scope, receive, send)
            return
        await self._forward(scope, receive, send, state)
        reason = state.get(REASON_CODE)
        if not is_judged(reason):
            return
        rejected = is_rejection(reason)
        if self.limits.awaitable:
            await self.limits.observe_async(state, ip, rejected=rejected, in_thread=self._thread)
        else:
            await self._store(partial(self.limits.observe, rejected=rejected), state, ip)

    async def _refusal(
        self, state: State, ip: str | None, route_class: RouteClass
    ) -> ProblemError | None:
        shedder = self.limits.shedder
        if shedder is not None and shedder.sheds(route_class):
            return overloaded(route_class)
        if self.limits.awaitable:
            return await self._awaited_admission(state, ip, route_class)
        return await self._store(self._admission, state, ip, route_class)

    def _admission(
        self, state: State, ip: str | None, route_class: RouteClass
    ) -> ProblemError | None:
        self.limits.close_ended_episodes()
        try:
            self.limits.admit_address(state, ip, route_class)
        except ProblemError as refused:
            return refused
        return None

    async def _awaited_admission(
        self, state: State, ip: str | None, route_class: RouteClass
    ) -> ProblemError | None:
        """``_admission`` on the event loop, for counters it can await (the desk process's)."""
        self.limits.close_ended_episodes()
        try:
            await self.limits.admit_address_async(state, ip, route_class)
        except ProblemError as refused:
            return refused
        return None

    async def _forward(self, scope: Scope, receive: Receive, send: Send, state: State) -> None:
        shedder = self.limits.shedder
        work = shedder.started() if shedder is not None else None

        async def send_with_limits(message: Message) -> None:
            if message["type"] == "http.response.start":
                if shedder is not None and work is not None:
                    shedder.finished(work)  # the server's part ends with the answer's start
                added = self.limits.headers(state)  # read with the counts: no store call
                message["headers"] = _with_limit_headers(message.get("headers", []), added)
            await send(message)

        if shedder is None or work is None:
            await self.app(scope, receive, send_with_limits)
            return
        try:
            await self.app(scope, _ClientPaced(shedder, work, receive), send_with_limits)
        finally:
            shedder.finished(work)

    async def _store(self, call: Callable[..., Result], *args: object) -> Result:
        """Run ``call``, on a worker thread when the counters are remote."""
        if not self.limits.remote:
            return call(*args)
        return await self._thread(partial(call, *args))

    async def _thread(self, call: Callable[[], Result]) -> Result:
        """Run ``call`` on one of the store's worker threads."""
        if self._threads is None:  # made in the event loop, on first use
            self._threads = CapacityLimiter(STORE_THREADS)
        return await anyio.to_thread.run_sync(call, limiter=self._threads)


class _ClientPaced:
    """``receive`` with the wait for the request body left out of the server's work.

    While the application waits for body bytes the request is the client's to finish, so
    the shedder neither counts it in progress nor as latency (``LoadShedder.waiting``).
    """

    def __init__(self, shedder: LoadShedder, work: Work, receive: Receive) -> None:
        self.shedder = shedder
        self.work = work
        self.server_receive = receive
        self.body_complete = False

    async def __call__(self) -> Message:
        if self.body_complete:
            return await self.server_receive()
        self.shedder.waiting(self.work)
        try:
            message = await self.server_receive()
        finally:
            self.shedder.resumed(self.work)
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.body_complete = True
        return message


def _carries_credentials(scope: Scope) -> bool:
    """Whether the request presents a token or an API-key signature (checked later)."""
    return any(name in CREDENTIAL_HEADERS for name, _ in scope["headers"])


def _with_limit_headers(
    headers: list[tuple[bytes, bytes]], added: dict[str, str]
) -> list[tuple[bytes, bytes]]:
    """The response headers plus the RateLimit ones, unless a refusal set its own."""
    if not added or any(name.lower() == LIMIT_HEADER for name, _ in headers):
        return headers
    return [*headers, *((name.encode(), value.encode()) for name, value in added.items())]
