"""The vault's own problem documents (RFC 9457), with reason codes of its own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

PROBLEM_BASE = "https://tradeguard.dev/problems/vault/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


@dataclass
class VaultProblem(Exception):  # noqa: N818 - a problem document, raised
    """A refusal the vault answers as ``application/problem+json``."""

    status: int
    code: str
    detail: str
    extensions: dict[str, Any] | None = None

    def document(self) -> dict[str, Any]:
        """The problem document."""
        slug = self.code.lower().replace("_", "-")
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + slug,
            "title": TITLES.get(self.status, "Refused"),
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        return body | (self.extensions or {})


TITLES = {
    400: "Bad request",
    402: "Card refused",
    404: "Not found",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid request",
    503: "Processor unavailable",
}


def problem_response(problem: VaultProblem) -> JSONResponse:
    """The HTTP answer of ``problem``."""
    return JSONResponse(
        problem.document(), status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE
    )


async def handle_problem(_request: Request, exc: Exception) -> JSONResponse:
    """Exception handler: a raised ``VaultProblem`` becomes its document."""
    if not isinstance(exc, VaultProblem):
        raise exc
    return problem_response(exc)


def invalid(code: str, detail: str) -> VaultProblem:
    """422 with ``code``."""
    return VaultProblem(422, code, detail)


NOT_FOUND = VaultProblem(404, "VAULT_CARD_NOT_FOUND", "No such card for this owner.")
PROCESSOR_DOWN = VaultProblem(
    503, "VAULT_PROCESSOR_UNAVAILABLE", "The card processor cannot be reached; retry later."
)
