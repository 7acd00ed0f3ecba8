"""Equal response times where timing would tell whether an account exists.

Sign-up, email verification and password reset do different work for a known and an
unknown address (a code row written, or not). Their responses are held back until a
fixed time (``TRADEGUARD_EQUAL_TIME_FLOOR_MS``, 200 ms) after the request arrived, so
both take as long; the wait is an ``asyncio.sleep`` and occupies no worker thread.
Every answer on these paths waits, whatever made it: a refusal by the rate limits or the
request limits, a validation error, a crash (held back before it reaches the handler
that turns it into a 500) and a redirect of the path written with a trailing slash. The
middleware is therefore the outermost of the gateway's, so that no answer is made
outside it.
Sign-in needs no floor: an unknown name costs a dummy argon2 verification like a wrong
password does.
"""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EQUAL_TIME_PATHS = frozenset(
    {
        "/v1/auth/register",
        "/v1/auth/verify-email",
        "/v1/auth/verify-email/resend",
        "/v1/auth/password/forgot",
        "/v1/auth/password/reset",
    }
)


class EqualTimingMiddleware:
    """Delays the start of responses on ``paths`` to ``floor`` seconds after arrival."""

    def __init__(
        self, app: ASGIApp, floor: float, paths: frozenset[str] = EQUAL_TIME_PATHS
    ) -> None:
        self._app = app
        self._paths = paths
        self._floor = floor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; hold its response until the floor has passed."""
        if scope["type"] != "http" or scope["path"].rstrip("/") not in self._paths:
            await self._app(scope, receive, send)
            return
        deadline = time.monotonic() + self._floor

        async def wait_for_floor() -> None:
            await asyncio.sleep(max(0.0, deadline - time.monotonic()))

        async def send_after_floor(message: Message) -> None:
            if message["type"] == "http.response.start":
                await wait_for_floor()
            await send(message)

        try:
            await self._app(scope, receive, send_after_floor)
        except BaseException:
            await wait_for_floor()  # a crash must not answer sooner than a success
            raise
