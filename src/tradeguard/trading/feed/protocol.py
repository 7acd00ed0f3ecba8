"""The order feed's protocol: close codes, reason codes, endings, and the admission it needs.

The feed (``feed.api``) speaks this. Admission is the gateway's (``FeedAdmission``,
implemented by ``tradeguard.gateway.feed_gate``): the same checks every REST route
passes, applied to a WebSocket connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from starlette.requests import HTTPConnection

from tradeguard.core.errors import ProblemError, TradeGuardError
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.identity.principal import bearer_token
from tradeguard.identity.problems import AuthReason
from tradeguard.identity.tokens import MAX_TOKEN_CHARS

FEED_PATH = "/v1/stream"
FEED_PERMISSION = Permission.ACCOUNT_VIEW
GOING_AWAY = 1001
UNSUPPORTED_DATA = 1003
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
INTERNAL_ERROR = 1011
TRY_AGAIN_LATER = 1013
SERVER_ERROR_STATUS = 500
RETRY_AFTER = "retry_after_seconds"


class FeedReason(StrEnum):
    """Reason codes of the feed's own refusals (the others are identity's and the limits')."""

    ORIGIN_NOT_ALLOWED = "FEED_ORIGIN_NOT_ALLOWED"
    USER_MISMATCH = "FEED_USER_MISMATCH"
    BAD_MESSAGE = "FEED_BAD_MESSAGE"
    BINARY_NOT_ACCEPTED = "FEED_BINARY_NOT_ACCEPTED"
    MESSAGE_TOO_BIG = "FEED_MESSAGE_TOO_BIG"
    INTERNAL_ERROR = "INTERNAL_ERROR"


@dataclass(frozen=True, slots=True)
class Ending:
    """How the server ends a feed connection: close code, reason code and an explanation."""

    code: int
    reason_code: str
    detail: str
    retry_after_seconds: int | None = None

    @classmethod
    def of_problem(cls, problem: ProblemError) -> Ending:
        """The ending of a refusal the REST API would answer with ``problem``."""
        code = TRY_AGAIN_LATER if problem.status >= SERVER_ERROR_STATUS else POLICY_VIOLATION
        retry = problem.extensions.get(RETRY_AFTER)
        return cls(code, problem.reason_code, problem.detail, retry if type(retry) is int else None)

    def message(self) -> dict[str, Any]:
        """The ``error`` message sent just before the close frame."""
        body: dict[str, Any] = {
            "type": "error",
            "reason_code": self.reason_code,
            "detail": self.detail,
        }
        if self.retry_after_seconds is not None:
            body[RETRY_AFTER] = self.retry_after_seconds
        return body


def policy_violation(reason_code: str, detail: str) -> Ending:
    """An ending with close code 1008."""
    return Ending(POLICY_VIOLATION, reason_code, detail)


class FeedRefusalError(TradeGuardError):
    """The feed connection ends, as ``ending`` says."""

    def __init__(self, ending: Ending) -> None:
        super().__init__(ending.detail)
        self.ending = ending


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who is on a feed connection, and until when their access token is good."""

    principal: Principal
    expires_at_ns: int


class FeedAdmission(Protocol):
    """Who may open the feed and keep it open (raises ``FeedRefusalError`` to refuse)."""

    def check_origin(self, connection: HTTPConnection) -> None:
        """Refuse a handshake whose browser ``Origin`` is not an allowed one."""
        ...

    def admit_address(self, connection: HTTPConnection) -> None:
        """Count the handshake against its address's rate limit."""
        ...

    def sign_in(self, connection: HTTPConnection, token: str, request_id: str) -> Credentials:
        """Authenticate ``token`` as the REST API would and require the feed's permission."""
        ...

    def recheck(self, credentials: Credentials, ip: str | None) -> Ending | None:
        """Why the session no longer allows the feed, if it does not."""
        ...


def handshake_token(connection: HTTPConnection) -> str | None:
    """The bearer token of the handshake's ``Authorization`` header; ``None`` without one."""
    header = connection.headers.get("authorization")
    if header is None:
        return None
    token = bearer_token(header)
    if token is None:
        raise FeedRefusalError(
            policy_violation(AuthReason.REQUIRED, "a bearer access token is required")
        )
    return token


def ip_of(connection: HTTPConnection) -> str | None:
    """The client address of the connection."""
    return connection.client.host if connection.client else None


class AuthMessage(BaseModel):
    """``{"type": "auth", "token": ...}``: the first message, or a fresh token later."""

    type: Literal["auth"]
    token: str = Field(max_length=MAX_TOKEN_CHARS)


class PingMessage(BaseModel):
    """``{"type": "ping"}``, answered ``{"type": "pong"}``."""

    type: Literal["ping"]


CLIENT_MESSAGE: TypeAdapter[AuthMessage | PingMessage] = TypeAdapter(
    Annotated[AuthMessage | PingMessage, Field(discriminator="type")]
)


def parse_client_message(text: str) -> AuthMessage | PingMessage | None:
    """The message ``text`` holds; ``None`` for anything else (bad JSON, unknown type)."""
    try:
        return CLIENT_MESSAGE.validate_json(text)
    except ValidationError:
        return None
