"""Problem responses (RFC 9457) and the handlers that turn every error into one."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Scope

from tradeguard.core.errors import (
    BAD_REQUEST,
    INTERNAL_ERROR,
    PROBLEM_CONTENT_TYPE,
    VALIDATION_FAILED,
    ProblemError,
    ReasonCode,
    problem_type_for_status,
    reason_for_status,
)
from tradeguard.core.money import Money, Price
from tradeguard.logs import get_logger

log = get_logger("tradeguard.gateway")

JSON_MEDIA_TYPE = "application/json"
UNSUPPORTED_MEDIA_TYPE = problem_type_for_status(415)
BRANCH_LABEL = re.compile(r"[A-Z].*|.*\[.*|(?:constrained-)?(?:str|int|float|bool|bytes|decimal)")
"""pydantic's name for a branch of a union in an error location; API field names are
snake_case words, never one of these."""
PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")
DECIMAL_STRING_CLASSES = frozenset({Money.__name__, Price.__name__})
DECIMAL_STRING = 'Send a decimal string such as "150.25"; money and prices are never JSON numbers.'
GENERIC_DETAIL = {
    404: "No resource at this path.",
    405: "This path does not accept that method.",
}


def problem_response(scope: Scope, error: ProblemError) -> Response:
    """An ``application/problem+json`` response for the request in ``scope``.

    The reason code is left on the request state, where the rate limits judge the answer.
    """
    scope.setdefault("state", {})["reason_code"] = error.reason_code
    body = error.document(
        request_id=scope.get("state", {}).get("request_id", ""),
        instance=scope.get("path", ""),
    )
    return Response(
        content=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        status_code=error.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=error.headers,
    )


def internal_error_response(scope: Scope) -> Response:
    """The 500 response: no stack trace and no internals, only the request id to quote."""
    return problem_response(
        scope,
        ProblemError(
            INTERNAL_ERROR,
            ReasonCode.INTERNAL_ERROR,
            "The request could not be completed; quote the request id when reporting it.",
        ),
    )


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)  # noqa: S101 - registered for ProblemError only
    return problem_response(request.scope, exc)


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)  # noqa: S101 - registered for it only
    error = ProblemError(
        problem_type_for_status(exc.status_code),
        reason_for_status(exc.status_code),
        GENERIC_DETAIL.get(exc.status_code, str(exc.detail)),
        headers=dict(exc.headers or {}),
    )
    return problem_response(request.scope, error)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)  # noqa: S101 - registered for it only
    return problem_response(request.scope, validation_problem(exc))


def validation_problem(exc: RequestValidationError) -> ProblemError:
    """A request the route could not take: bad JSON (400), not JSON (415), bad fields (422)."""
    errors = exc.errors()
    if any(error["type"] == "json_invalid" for error in errors):
        return ProblemError(
            BAD_REQUEST, ReasonCode.MALFORMED_BODY, "The request body is not valid JSON."
        )
    if isinstance(exc.body, bytes):
        # FastAPI parses a body as JSON only when its Content-Type says it is JSON.
        return ProblemError(
            UNSUPPORTED_MEDIA_TYPE,
            ReasonCode.UNSUPPORTED_MEDIA_TYPE,
            f"The request body must be JSON, sent with Content-Type: {JSON_MEDIA_TYPE}.",
            extensions={"expected_content_type": JSON_MEDIA_TYPE},
        )
    described = field_errors(errors)
    return ProblemError(
        VALIDATION_FAILED,
        ReasonCode.VALIDATION_FAILED,
        f"{len(described)} field(s) failed validation.",
        extensions={"errors": described},
    )


async def _on_unstorable_value(request: Request, exc: Exception) -> Response:
    """A value the database cannot hold or compare (a NUL byte, say) is bad input, not a 500."""
    del exc
    error = ProblemError(
        VALIDATION_FAILED,
        ReasonCode.VALIDATION_FAILED,
        "A value in the request cannot be used (it contains characters that are not allowed).",
    )
    return problem_response(request.scope, error)


async def _on_database_unavailable(request: Request, exc: Exception) -> Response:
    """The database cannot be reached or refused the work: 503, fail closed, retry later."""
    log.warning("gateway.database_unavailable", error=type(exc).__name__)
    error = ProblemError(
        problem_type_for_status(503),
        ReasonCode.SERVICE_UNAVAILABLE,
        "The service cannot reach its database; nothing was done. Retry shortly.",
        headers={"Retry-After": "1"},
    )
    return problem_response(request.scope, error)


def field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """One readable error per field: its location, a message and the kind of error.

    pydantic reports a union (``PriceStr | None``, ``int | MoneyStr``) once per branch,
    each under a label of its own (``is-instance[Price]``, ``function-after[...]``); the
    labels are dropped and the branches of one field become one error.
    """
    by_location: dict[tuple[str, ...], list[Any]] = {}
    for error in errors:
        by_location.setdefault(_location(error), []).append(error)
    return [_describe(location, found) for location, found in by_location.items()]


def _location(error: Any) -> tuple[str, ...]:  # noqa: ANN401 - pydantic's error dicts
    parts = error.get("loc", ())
    return tuple(str(part) for part in parts if not BRANCH_LABEL.fullmatch(str(part)))


def _describe(location: tuple[str, ...], errors: list[Any]) -> dict[str, Any]:
    """One field's error without the offending input, which may be a secret."""
    kinds = {str(error.get("ctx", {}).get("class")) for error in errors}
    chosen = _most_specific(errors)
    if chosen.get("type") != "value_error" and kinds & DECIMAL_STRING_CLASSES:
        return {"location": list(location), "message": DECIMAL_STRING, "type": "decimal_string"}
    message = str(chosen.get("msg", ""))
    for prefix in PYDANTIC_PREFIXES:
        message = message.removeprefix(prefix)
    return {"location": list(location), "message": message, "type": str(chosen.get("type", ""))}


def _most_specific(errors: list[Any]) -> Any:  # noqa: ANN401 - pydantic's error dicts
    """A value's own error before a wrong type, and anything before an instance check."""
    candidates = [error for error in errors if error.get("type") != "is_instance_of"] or errors
    return next((e for e in candidates if e.get("type") == "value_error"), candidates[0])


def install_problem_handlers(app: FastAPI) -> None:
    """Route every framework and domain error to a problem response."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(DataError, _on_unstorable_value)
    app.add_exception_handler(OperationalError, _on_database_unavailable)
