"""JSON request bodies with a member named twice, or holding a card number, are refused.

Python's ``json.loads`` (which FastAPI and Starlette parse bodies with) keeps the last of
two members of one name, so ``{"scope": "data", ..., "scope": "trading"}`` would be read
as a trading key while a proxy, a log or a reviewer reading the first member saw a data
key. This pure ASGI middleware reads a body FastAPI would parse as JSON (a JSON
``Content-Type``, or none) when the route first asks for it, looks for a repeated member
name in any object, and answers ``422 VALIDATION_FAILED`` if it finds one; otherwise it
hands the same bytes on unchanged, to the routes and to the API-key signature check
alike. A route that never reads its body is not kept waiting for one. It sits inside the
request limits, so the body it buffers is already held to ``max_body_bytes``. A body
that is not JSON at all is left to the route, which refuses it as it always has.

A member (at any depth) holding a Luhn-valid 13-19 digit number is answered
``422 PAYMENT_PAN_REFUSED``: card numbers go to the payment vault, never through this API.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tradeguard.core.errors import VALIDATION_FAILED, ProblemError, ReasonCode
from tradeguard.gateway.problems import problem_response
from tradeguard.logs import get_logger, holds_network_card_number

log = get_logger("tradeguard.http")


class DuplicateMemberError(ValueError):
    """A JSON object names one member twice."""

    def __init__(self, name: str) -> None:
        super().__init__("duplicate member")
        self.name = name


def duplicate_member(body: bytes) -> str | None:
    """The first member name repeated within one object of ``body``; None if there is none.

    A body that is not JSON has no duplicate to report (its route refuses it).
    """
    try:
        json.loads(body, object_pairs_hook=_unique_members)
    except DuplicateMemberError as found:
        return found.name
    except (ValueError, RecursionError):
        return None
    return None


BANK_NUMBER_MEMBERS = frozenset({"account_number", "routing_number"})
"""Members that hold a bank account's numbers, which pass the Luhn check one time in ten."""


def body_refusal(body: bytes) -> ProblemError | None:
    """What a JSON body is refused for before its route reads it (parsed once).

    A member named twice in one object, or a card number in any member (card numbers go
    to the payment vault's intake endpoint, never through this API); None if neither, or
    if the body is not JSON (its route refuses it).
    """
    try:
        document = json.loads(body, object_pairs_hook=_unique_members)
    except DuplicateMemberError:
        return duplicate_member_refusal()
    except (ValueError, RecursionError):
        return None
    found = card_number_member(document)
    return None if found is None else card_number_refusal(found)


Location = tuple[str | int, ...]
"""Where a member sits in a JSON document: object member names and array indexes."""


def card_number_member(document: Any) -> Location | None:  # noqa: ANN401 - any JSON value
    """Where the first member holding a card number is in ``document``; None if none does.

    Members that hold a bank account's numbers are not looked at (see ``BANK_NUMBER_MEMBERS``).
    """
    pending: list[tuple[Location, Any]] = [((), document)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, dict):
            pending.extend(
                ((*where, k), v) for k, v in value.items() if k not in BANK_NUMBER_MEMBERS
            )
        elif isinstance(value, list):
            pending.extend(((*where, i), v) for i, v in enumerate(value))
        elif (
            isinstance(value, str | int)
            and not isinstance(value, bool)
            and holds_network_card_number(value)
        ):
            return where
    return None


def card_number_refusal(where: Location) -> ProblemError:
    """``422 PAYMENT_PAN_REFUSED``: the member at ``where`` holds a card number.

    The answer names the member (never its value), so that a client whose own id happens
    to look like a card number (13 to 19 digits passing the Luhn check) can tell which one.
    """
    return ProblemError(
        VALIDATION_FAILED,
        ReasonCode.PAYMENT_PAN_REFUSED,
        "Card numbers are not accepted by this API; cards are added through the payment "
        "vault's card page. If the member named is not a card number (an id of your own), "
        "put a letter in it so that its digits do not read as one.",
        extensions={
            "errors": [
                {
                    "location": ["body", *where],
                    "message": "holds a card number",
                    "type": "card_number",
                }
            ]
        },
    )


def duplicate_member_refusal() -> ProblemError:
    """``422 VALIDATION_FAILED``: a JSON object names one member twice."""
    return ProblemError(
        VALIDATION_FAILED,
        ReasonCode.VALIDATION_FAILED,
        "The request body names a member twice in one JSON object; send each member once.",
        extensions={
            "errors": [
                {
                    "location": ["body"],
                    "message": "a member is named twice in one object",
                    "type": "duplicate_member",
                }
            ]
        },
    )


def parsed_as_json(headers: Headers) -> bool:
    """Whether FastAPI would parse this request's body as JSON (a JSON type, or no type)."""
    content_type = headers.get("content-type")
    if not content_type:
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    main, _, sub = media_type.partition("/")
    return main == "application" and (sub == "json" or sub.endswith("+json"))


class JsonBodyMiddleware:
    """Refuses a JSON body that names a member twice (problem+json 422); passes the rest on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI connection scope."""
        if scope["type"] != "http" or not parsed_as_json(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        body = CheckedBody(scope, receive, send)
        try:
            await self.app(scope, body.receive, body.send)
        except Exception:
            if not body.refused:
                raise
            # The route learnt of the refusal as a disconnect; the answer has been sent.


class CheckedBody:
    """The body of one request, read and checked when the route first asks for it.

    A route that never reads its body (a 405, a GET) is answered without waiting for one.
    """

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scope = scope
        self.server_receive = receive
        self.server_send = send
        self.pending: list[Message] | None = None
        self.refused = False

    async def receive(self) -> Message:
        """The whole body at once, checked; then what the server sends."""
        if self.pending is None:
            self.pending = await self._checked()
        if self.pending:
            return self.pending.pop(0)
        return await self.server_receive()

    async def send(self, message: Message) -> None:
        """The route's answer, unless the body was refused for it."""
        if not self.refused:
            await self.server_send(message)

    async def _checked(self) -> list[Message]:
        body, closing = await _read_body(self.server_receive)
        if closing is not None:
            return [closing]
        refusal = body_refusal(body) if body else None
        if refusal is not None:
            await self._refuse(refusal)
            return [{"type": "http.disconnect"}]
        return [{"type": "http.request", "body": body, "more_body": False}]

    async def _refuse(self, refusal: ProblemError) -> None:
        log.info("http.request_refused", reason=refusal.reason_code)
        self.refused = True
        answer = problem_response(self.scope, refusal)
        await answer(self.scope, self.server_receive, self.server_send)


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body, and the message that ended it early (a disconnect), if one did."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members: dict[str, Any] = {}
    for name, value in pairs:
        if name in members:
            raise DuplicateMemberError(name)
        members[name] = value
    return members
