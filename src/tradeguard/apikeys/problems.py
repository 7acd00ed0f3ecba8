"""Reason codes of refused API-key requests and the problem documents they produce."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tradeguard.core.errors import ProblemError, ProblemType

SIGNATURE_REFUSED = ProblemType("api-key-refused", "API key request refused", 401)
SCOPE_REFUSED = ProblemType("api-key-forbidden", "API key not allowed here", 403)
MALFORMED = ProblemType("api-key-malformed", "API key headers malformed", 400)
SHARED_STATE_DOWN = ProblemType("shared-state-unavailable", "Service unavailable", 503)
SIGNATURE_CHALLENGE = 'TG-HMAC-SHA256 realm="tradeguard"'


class ApiKeyReason(StrEnum):
    """Stable reason codes of API-key refusals."""

    INVALID = "APIKEY_INVALID"
    MALFORMED = "APIKEY_MALFORMED"
    TIMESTAMP_SKEW = "APIKEY_TIMESTAMP_SKEW"
    REPLAY = "APIKEY_REPLAY"
    BAD_SIGNATURE = "APIKEY_BAD_SIGNATURE"
    SCOPE = "APIKEY_SCOPE"
    IP_NOT_ALLOWED = "APIKEY_IP_NOT_ALLOWED"
    UNAVAILABLE = "APIKEY_CHECK_UNAVAILABLE"
    NONCES_RESTARTED = "APIKEY_NONCES_RESTARTED"


def refused(reason: ApiKeyReason, detail: str, **extensions: Any) -> ProblemError:  # noqa: ANN401 - problem extensions are JSON of any shape
    """A 401 for a request whose key or signature does not hold."""
    return ProblemError(
        SIGNATURE_REFUSED,
        reason,
        detail,
        extensions,
        headers={"WWW-Authenticate": SIGNATURE_CHALLENGE},
    )


def not_allowed(reason: ApiKeyReason, detail: str, **extensions: Any) -> ProblemError:  # noqa: ANN401 - problem extensions are JSON of any shape
    """A 403: the key is good but may not be used for this (scope, address)."""
    return ProblemError(SCOPE_REFUSED, reason, detail, extensions)


def malformed(detail: str) -> ProblemError:
    """A 400: the signing headers are missing or not in their format."""
    return ProblemError(MALFORMED, ApiKeyReason.MALFORMED, detail)


def unavailable(detail: str) -> ProblemError:
    """A 503: the shared nonce store cannot be asked, so the request is refused (fail closed)."""
    return ProblemError(
        SHARED_STATE_DOWN, ApiKeyReason.UNAVAILABLE, detail, headers={"Retry-After": "1"}
    )
