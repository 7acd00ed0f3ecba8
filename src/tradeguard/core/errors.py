"""Errors: operator-facing exceptions and RFC 9457 problem details for HTTP clients."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from http import HTTPStatus
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_URI_PREFIX = "urn:tradeguard:problem:"


class TradeGuardError(Exception):
    """An error whose message is meant for the person running TradeGuard."""


class ConfigurationError(TradeGuardError):
    """The settings are invalid or unsafe for the environment."""


class StartupError(TradeGuardError):
    """The service cannot start: database, keys or certificates are not ready."""


class ReasonCode(StrEnum):
    """Stable machine-readable reasons for generic HTTP problems."""

    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    BAD_REQUEST = "BAD_REQUEST"
    MALFORMED_BODY = "MALFORMED_BODY"
    AUTH_REQUIRED = "AUTH_REQUIRED"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    RATE_LIMITED = "RATE_LIMITED"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    PAYMENT_PAN_REFUSED = "PAYMENT_PAN_REFUSED"


@dataclass(frozen=True, slots=True)
class ProblemType:
    """A kind of problem: its stable ``type`` URI, title and HTTP status."""

    slug: str
    title: str
    status: int

    @property
    def uri(self) -> str:
        """The stable ``type`` member of the problem document."""
        return f"{PROBLEM_URI_PREFIX}{self.slug}"


def _generic(status: HTTPStatus) -> ProblemType:
    return ProblemType(status.phrase.lower().replace(" ", "-"), status.phrase, status.value)


NOT_FOUND = _generic(HTTPStatus.NOT_FOUND)
METHOD_NOT_ALLOWED = _generic(HTTPStatus.METHOD_NOT_ALLOWED)
BAD_REQUEST = _generic(HTTPStatus.BAD_REQUEST)
UNAUTHORIZED = _generic(HTTPStatus.UNAUTHORIZED)
FORBIDDEN = _generic(HTTPStatus.FORBIDDEN)
CONFLICT = _generic(HTTPStatus.CONFLICT)
VALIDATION_FAILED = ProblemType("validation-failed", "Request validation failed", 422)
INTERNAL_ERROR = ProblemType("internal-error", "Internal server error", 500)

_TYPE_FOR_STATUS = {
    problem.status: problem
    for problem in (NOT_FOUND, METHOD_NOT_ALLOWED, BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, CONFLICT)
}
_REASON_FOR_STATUS = {
    400: ReasonCode.BAD_REQUEST,
    401: ReasonCode.AUTH_REQUIRED,
    403: ReasonCode.FORBIDDEN,
    404: ReasonCode.NOT_FOUND,
    405: ReasonCode.METHOD_NOT_ALLOWED,
    409: ReasonCode.CONFLICT,
    413: ReasonCode.PAYLOAD_TOO_LARGE,
    415: ReasonCode.UNSUPPORTED_MEDIA_TYPE,
    429: ReasonCode.RATE_LIMITED,
    503: ReasonCode.SERVICE_UNAVAILABLE,
}


def problem_type_for_status(status: int) -> ProblemType:
    """The problem type for a bare HTTP status raised by the framework."""
    known = _TYPE_FOR_STATUS.get(status)
    if known is not None:
        return known
    try:
        return _generic(HTTPStatus(status))
    except ValueError:
        return INTERNAL_ERROR


def reason_for_status(status: int) -> str:
    """The generic reason code for a bare HTTP status."""
    reason = _REASON_FOR_STATUS.get(status)
    if reason is None:
        return ReasonCode.INTERNAL_ERROR if status >= 500 else ReasonCode.BAD_REQUEST  # noqa: PLR2004 - the 5xx class boundary
    return reason


@dataclass(eq=False)
class ProblemError(TradeGuardError):
    """A request the service refuses, rendered as an RFC 9457 problem document.

    Domain code raises this with its own reason code; extensions carry the
    inputs and threshold of a denial so a compliance officer can see why.
    """

    type: ProblemType
    reason_code: str
    detail: str
    extensions: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    keeps_changes: bool = False
    """Commit the unit of work before refusing (counted failures, revocations, audits)."""

    def __post_init__(self) -> None:
        super().__init__(self.detail)

    @property
    def status(self) -> int:
        """The HTTP status of the response."""
        return self.type.status

    def kept(self) -> ProblemError:
        """This refusal, marked to commit the work done before it."""
        self.keeps_changes = True
        return self

    def document(self, *, request_id: str, instance: str) -> dict[str, Any]:
        """The JSON body; extensions never override the standard members."""
        body: dict[str, Any] = dict(self.extensions)
        body.update(
            type=self.type.uri,
            title=self.type.title,
            status=self.type.status,
            detail=self.detail,
            instance=instance,
            reason_code=self.reason_code,
            request_id=request_id,
        )
        return body
