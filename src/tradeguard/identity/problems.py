"""Reason codes and problem documents of identity: what a refused sign-in or request says."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tradeguard.core.errors import VALIDATION_FAILED, ProblemError, ProblemType, ReasonCode


class AuthReason(StrEnum):
    """Stable reason codes of authentication refusals."""

    REQUIRED = "AUTH_REQUIRED"
    INVALID_CREDENTIALS = "AUTH_INVALID_CREDENTIALS"
    THROTTLED = "AUTH_THROTTLED"
    TOKEN_INVALID = "AUTH_TOKEN_INVALID"  # noqa: S105 - a reason code, not a secret
    TOKEN_EXPIRED = "AUTH_TOKEN_EXPIRED"  # noqa: S105 - a reason code, not a secret
    TOKEN_STALE = "AUTH_TOKEN_STALE"  # noqa: S105 - a reason code, not a secret
    SESSION_EXPIRED = "AUTH_SESSION_EXPIRED"
    SESSION_REVOKED = "AUTH_SESSION_REVOKED"
    REFRESH_INVALID = "AUTH_REFRESH_INVALID"
    REFRESH_REUSED = "AUTH_REFRESH_REUSED"
    MFA_ENROLLMENT_REQUIRED = "AUTH_MFA_ENROLLMENT_REQUIRED"
    MFA_INVALID = "AUTH_MFA_INVALID"
    MFA_METHOD_UNAVAILABLE = "AUTH_MFA_METHOD_UNAVAILABLE"
    CHALLENGE_INVALID = "AUTH_CHALLENGE_INVALID"
    STEP_UP_REQUIRED = "AUTH_STEP_UP_REQUIRED"
    IP_NOT_ALLOWED = "AUTH_IP_NOT_ALLOWED"
    ACCOUNT_SUSPENDED = "AUTH_ACCOUNT_SUSPENDED"
    EMAIL_NOT_VERIFIED = "AUTH_EMAIL_NOT_VERIFIED"
    CODE_INVALID = "AUTH_CODE_INVALID"
    CODE_SEND_LIMITED = "AUTH_CODE_SEND_LIMITED"
    FACTOR_NOT_FOUND = "MFA_FACTOR_NOT_FOUND"
    FACTOR_LAST = "MFA_LAST_FACTOR"
    FACTOR_INVALID = "MFA_FACTOR_INVALID"
    WEBAUTHN_INVALID = "WEBAUTHN_INVALID"
    DEVICE_LINK_INVALID = "DEVICE_LINK_INVALID"
    NOT_FOUND = "NOT_FOUND"


AUTHENTICATION_FAILED = ProblemType("authentication-failed", "Authentication failed", 401)
ACCESS_DENIED = ProblemType("access-denied", "Access denied", 403)
STEP_UP_REQUIRED = ProblemType("step-up-required", "Recent strong authentication required", 403)
TOO_MANY_ATTEMPTS = ProblemType("too-many-attempts", "Too many attempts", 429)
INVALID_REQUEST = ProblemType("invalid-request", "The request cannot be completed", 400)
WEAK_PASSWORD = ProblemType("weak-password", "Password refused", 422)
NOT_FOUND = ProblemType("not-found", "Not Found", 404)
CONFLICT = ProblemType("conflict", "Conflict", 409)

BEARER_CHALLENGE = 'Bearer realm="tradeguard"'


def unauthenticated(reason: AuthReason, detail: str, **extensions: Any) -> ProblemError:  # noqa: ANN401 - problem extensions are JSON of any shape
    """A 401 asking for (new) credentials."""
    return ProblemError(
        AUTHENTICATION_FAILED,
        reason,
        detail,
        extensions,
        headers={"WWW-Authenticate": BEARER_CHALLENGE},
    )


def forbidden(reason: AuthReason, detail: str, **extensions: Any) -> ProblemError:  # noqa: ANN401 - problem extensions are JSON of any shape
    """A 403: the principal is known but may not do this (yet)."""
    return ProblemError(ACCESS_DENIED, reason, detail, extensions)


def throttled(reason: AuthReason, detail: str, retry_after_seconds: int) -> ProblemError:
    """A 429 with ``Retry-After``."""
    seconds = max(1, retry_after_seconds)
    return ProblemError(
        TOO_MANY_ATTEMPTS,
        reason,
        detail,
        {"retry_after_seconds": seconds},
        headers={"Retry-After": str(seconds)},
    )


def invalid(reason: AuthReason, detail: str, **extensions: Any) -> ProblemError:  # noqa: ANN401 - problem extensions are JSON of any shape
    """A 400: the request cannot be completed as asked."""
    return ProblemError(INVALID_REQUEST, reason, detail, extensions)


def unprocessable(detail: str) -> ProblemError:
    """A 422: a field of the request is not acceptable (the project-wide validation reason)."""
    return ProblemError(VALIDATION_FAILED, ReasonCode.VALIDATION_FAILED, detail)


def not_found(what: str) -> ProblemError:
    """A 404 for an object that does not exist or is not the caller's (never a 403)."""
    return ProblemError(NOT_FOUND, AuthReason.NOT_FOUND, f"no such {what}")
