"""``/v1/stream``: the WebSocket feed of the signed-in user's order and execution events.

A connection goes through the handshake's checks (``Origin``, the address's rate limit),
is accepted, and authenticates: an ``Authorization: Bearer`` header on the handshake or,
for browsers, a first message ``{"type": "auth", "token": ...}`` within
``feed_auth_timeout_seconds``. It then subscribes to the hub, gets ``ready`` with the
user's current ``seq``, and four tasks run side by side until the first one ends the
connection: relaying events, reading client messages (``ping``, a fresh ``auth``), the
guard (token expiry, session re-checks) and the hub (slow consumer, revocation, shutdown).

Every server-side end is an ``error`` message and a close frame with a close code and
the reason code as its reason; nothing a client sends can cause anything else.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Annotated, Any

import anyio
import structlog
from fastapi import APIRouter, Depends, WebSocket
from fastapi.concurrency import run_in_threadpool
from starlette.websockets import WebSocketDisconnect, WebSocketState

from tradeguard.config import Settings
from tradeguard.core.clock import NS_PER_SECOND, Clock, ns_to_rfc3339
from tradeguard.core.errors import TradeGuardError
from tradeguard.core.ids import new_id
from tradeguard.identity.problems import AuthReason
from tradeguard.logs import get_logger
from tradeguard.trading.feed.hub import FeedEndReason, FeedHub, FeedRefusedError, Subscription
from tradeguard.trading.feed.protocol import (
    FEED_PATH,
    GOING_AWAY,
    INTERNAL_ERROR,
    MESSAGE_TOO_BIG,
    POLICY_VIOLATION,
    UNSUPPORTED_DATA,
    AuthMessage,
    Credentials,
    Ending,
    FeedAdmission,
    FeedReason,
    FeedRefusalError,
    PingMessage,
    handshake_token,
    ip_of,
    parse_client_message,
    policy_violation,
)
from tradeguard.web.provide import provided

CLOSE_SECONDS = 5.0
"""How long the closing ``error`` message and close frame may wait for a reader."""
PONG = {"type": "pong"}
BAD_MESSAGE = {
    "type": "error",
    "reason_code": FeedReason.BAD_MESSAGE,
    "detail": 'expected {"type":"ping"} or {"type":"auth","token":"..."}',
}

router = APIRouter(tags=["trading"])
log = get_logger("tradeguard.trading.feed")


@dataclass(frozen=True, slots=True)
class FeedLimits:
    """How long a client has to authenticate, how often sessions are re-checked, message size."""

    auth_timeout_seconds: float
    session_check_seconds: float
    max_message_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedLimits:
        """The configured limits."""
        return cls(
            auth_timeout_seconds=settings.feed_auth_timeout_seconds,
            session_check_seconds=settings.feed_session_check_seconds,
            max_message_bytes=settings.feed_max_message_bytes,
        )


class PeerGoneError(TradeGuardError):
    """The client closed the connection or went away."""


@dataclass(frozen=True, slots=True)
class FeedServices:
    """What a feed connection works with: the gateway's admission, the hub, limits, clock."""

    gate: FeedAdmission
    hub: FeedHub
    limits: FeedLimits
    clock: Clock


def feed_services(
    gate: Annotated[FeedAdmission, provided(FeedAdmission)],
    hub: Annotated[FeedHub, provided(FeedHub)],
    settings: Annotated[Settings, provided(Settings)],
    clock: Annotated[Clock, provided(Clock)],
) -> FeedServices:
    """The application's feed services."""
    return FeedServices(gate, hub, FeedLimits.from_settings(settings), clock)


@router.websocket(FEED_PATH)
async def order_feed(
    websocket: WebSocket, services: Annotated[FeedServices, Depends(feed_services)]
) -> None:
    """The caller's order and execution events (needs ``account:view``; see docs/api-guide.md)."""
    await FeedConnection(websocket, services).run()


class FeedConnection:
    """One client of the feed, from handshake to close."""

    def __init__(self, websocket: WebSocket, services: FeedServices) -> None:
        self.websocket = websocket
        self.hub = services.hub
        self.gate = services.gate
        self.limits = services.limits
        self.clock = services.clock
        self.request_id = str(new_id())
        self.credentials: Credentials | None = None
        self.renewed = anyio.Event()
        """Set (and replaced) when a fresh token comes, to wake the guard."""

    async def run(self) -> None:
        """Serve the connection until it ends, then close it with the reason."""
        with structlog.contextvars.bound_contextvars(request_id=self.request_id):
            ending = await self._outcome()
            self._log_end(ending)
            await self._end(ending)

    async def _outcome(self) -> Ending | None:
        """How the connection ends; ``None`` when the client left."""
        try:
            return await _settled(self._serve())
        except Exception:
            log.exception("feed.failed")
            return Ending(INTERNAL_ERROR, FeedReason.INTERNAL_ERROR, "the feed failed; reconnect")

    async def _serve(self) -> Ending | None:
        self.gate.check_origin(self.websocket)
        await run_in_threadpool(self.gate.admit_address, self.websocket)
        await self.websocket.accept()
        self.credentials = await self._sign_in(await self._first_token())
        try:
            with self.hub.subscribe(self.credentials.principal.user_id) as subscription:
                await self._send(self._ready(subscription))
                log.info("feed.opened", user_id=subscription.user_id)
                return await self._relay(subscription)
        except FeedRefusedError as refused:
            return hub_ending(refused.reason, str(refused))

    async def _first_token(self) -> str:
        """The handshake's bearer token, or the one of the first message."""
        token = handshake_token(self.websocket)
        if token is not None:
            return token
        seconds = self.limits.auth_timeout_seconds
        message = None
        with anyio.move_on_after(seconds):
            message = parse_client_message(await self._receive_text())
        if not isinstance(message, AuthMessage):
            raise FeedRefusalError(
                policy_violation(
                    AuthReason.REQUIRED,
                    f'send {{"type":"auth","token":"..."}} first, within {seconds:g} s',
                )
            )
        return message.token

    async def _sign_in(self, token: str) -> Credentials:
        return await run_in_threadpool(self.gate.sign_in, self.websocket, token, self.request_id)

    def _ready(self, subscription: Subscription) -> dict[str, Any]:
        return {
            "type": "ready",
            "seq": subscription.start_seq,
            "expires_at": ns_to_rfc3339(self._current().expires_at_ns),
        }

    async def _relay(self, subscription: Subscription) -> Ending | None:
        """Run the four tasks of an open feed; the first to finish says how it ends."""
        outcomes: list[Ending | None] = []
        async with anyio.create_task_group() as tasks:

            async def settle(work: Callable[[], Awaitable[Ending]]) -> None:
                outcomes.append(await _settled(work()))
                tasks.cancel_scope.cancel()

            tasks.start_soon(settle, lambda: self._pump(subscription))
            tasks.start_soon(settle, self._listen)
            tasks.start_soon(settle, self._guard)
            tasks.start_soon(settle, lambda: self._hub_ended(subscription))
        return outcomes[0]

    async def _pump(self, subscription: Subscription) -> Ending:
        """Send the user's events as they come, in ``seq`` order."""
        while (text := await subscription.next_event()) is not None:
            await self.websocket.send_text(text)
        return await self._hub_ended(subscription)

    async def _hub_ended(self, subscription: Subscription) -> Ending:
        return hub_ending(await subscription.ended())

    async def _listen(self) -> Ending:
        """Answer the client's messages: ``ping``, a fresh ``auth``; anything else an error."""
        while True:
            message = parse_client_message(await self._receive_text())
            if message is None:
                await self._send(BAD_MESSAGE)
            elif isinstance(message, PingMessage):
                await self._send(PONG)
            else:
                await self._renew(message.token)

    async def _renew(self, token: str) -> None:
        """Take a fresh token of the same user: the feed lives on until it expires."""
        renewed = await self._sign_in(token)
        if renewed.principal.user_id != self._current().principal.user_id:
            raise FeedRefusalError(
                policy_violation(
                    FeedReason.USER_MISMATCH, "a feed stays with the user who opened it"
                )
            )
        self.credentials = renewed
        self.renewed.set()
        self.renewed = anyio.Event()
        expires_at = ns_to_rfc3339(renewed.expires_at_ns)
        await self._send({"type": "authenticated", "expires_at": expires_at})

    async def _guard(self) -> Ending:
        """End the feed when its token expires or its session no longer allows it."""
        interval = self.limits.session_check_seconds
        next_check = anyio.current_time() + interval
        while True:
            credentials = self._current()
            remaining = (credentials.expires_at_ns - self.clock.now_ns()) / NS_PER_SECOND
            if remaining <= 0:
                return policy_violation(
                    AuthReason.TOKEN_EXPIRED,
                    'the access token expired; send {"type":"auth","token":"..."} before it does',
                )
            if anyio.current_time() >= next_check:
                ip = ip_of(self.websocket)
                ending = await run_in_threadpool(self.gate.recheck, credentials, ip)
                if ending is not None:
                    return ending
                next_check = anyio.current_time() + interval
            await self._pause(min(remaining, next_check - anyio.current_time()))

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or until a fresh token comes."""
        with anyio.move_on_after(max(seconds, 0.0)):
            await self.renewed.wait()

    async def _receive_text(self) -> str:
        """The next text message; the client leaving, binary or oversized data end the feed."""
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise PeerGoneError
        text = message.get("text")
        if text is None:
            raise FeedRefusalError(
                Ending(
                    UNSUPPORTED_DATA,
                    FeedReason.BINARY_NOT_ACCEPTED,
                    "the feed accepts text messages only",
                )
            )
        if len(text.encode("utf-8")) > self.limits.max_message_bytes:
            raise FeedRefusalError(
                Ending(
                    MESSAGE_TOO_BIG,
                    FeedReason.MESSAGE_TOO_BIG,
                    f"messages are limited to {self.limits.max_message_bytes} bytes",
                )
            )
        return str(text)

    async def _send(self, body: dict[str, Any]) -> None:
        await self.websocket.send_text(json.dumps(body, separators=(",", ":")))

    def _current(self) -> Credentials:
        credentials = self.credentials
        if credentials is None:
            raise RuntimeError("the feed has no credentials yet")
        return credentials

    def _log_end(self, ending: Ending | None) -> None:
        user_id = self.credentials.principal.user_id if self.credentials else None
        if ending is None:
            log.info("feed.left", user_id=user_id)
        else:
            log.info("feed.ended", user_id=user_id, code=ending.code, reason=ending.reason_code)

    async def _end(self, ending: Ending | None) -> None:
        """Send the ``error`` message and the close frame; a reader that never reads is left."""
        if ending is None:
            return
        with (
            suppress(WebSocketDisconnect, RuntimeError, OSError),
            anyio.move_on_after(CLOSE_SECONDS),
        ):
            if self.websocket.application_state is WebSocketState.CONNECTING:
                await self.websocket.accept()
            await self._send(ending.message())
            await self.websocket.close(ending.code, ending.reason_code)


HUB_ENDINGS = {
    FeedEndReason.SLOW_CONSUMER: "the connection fell too far behind the feed; reconnect "
    "and reload the orders through the REST API",
    FeedEndReason.SESSION_REVOKED: "the user's sessions were revoked",
    FeedEndReason.SHUTTING_DOWN: "the server is shutting down; reconnect shortly",
}


async def _settled(work: Awaitable[Ending | None]) -> Ending | None:
    """How ``work`` ends the feed, refusals included; ``None`` when the client left."""
    try:
        return await work
    except FeedRefusalError as refusal:
        return refusal.ending
    except (PeerGoneError, WebSocketDisconnect):
        return None


def hub_ending(reason: FeedEndReason, detail: str | None = None) -> Ending:
    """How a feed ends when the hub ends or refuses its subscription."""
    code = GOING_AWAY if reason is FeedEndReason.SHUTTING_DOWN else POLICY_VIOLATION
    return Ending(code, reason, detail or HUB_ENDINGS.get(reason, reason.value))
