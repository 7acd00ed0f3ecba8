"""Problem responses (RFC 9457) and the handlers that turn every error into one."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError
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
    errors = [_describe(error) for error in exc.errors()]
    if any(error["type"] == "json_invalid" for error in errors):
        error = ProblemError(
            BAD_REQUEST, ReasonCode.MALFORMED_BODY, "The request body is not valid JSON."
        )
    else:
        error = ProblemError(
            VALIDATION_FAILED,
            ReasonCode.VALIDATION_FAILED,
            f"{len(errors)} field(s) failed validation.",
            extensions={"errors": errors},
        )
    return problem_response(request.scope, error)


async def _on_unstorable_value(request: Request, exc: Exception) -> Response:
    """A value the database cannot hold or compare (a NUL byte, say) is bad input, not a 500."""
    del exc
    error = ProblemError(
        VALIDATION_FAILED,
        ReasonCode.VALIDATION_FAILED,
        "A value in the request cannot be used (it contains characters that are not allowed).",
    )
    return problem_response(request.scope, error)


def _describe(error: Any) -> dict[str, Any]:  # noqa: ANN401 - pydantic's error dicts
    """One validation error without the offending input, which may be a secret."""
    return {
        "location": [str(part) for part in error.get("loc", ())],
        "message": str(error.get("msg", "")),
        "type": str(error.get("type", "")),
    }


def install_problem_handlers(app: FastAPI) -> None:
    """Route every framework and domain error to a problem response."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(DataError, _on_unstorable_value)
