"""The vault's two HTTP faces.

- ``internal_app``: the main service's API, served only over mutual TLS.
- ``intake_app``: the one endpoint browsers call, ``POST /v1/tokenize``, with an intake
  ticket the main service asked for on the signed-in customer's behalf. Cross-origin
  calls are allowed from the configured page origins only.

Both answer the vault's own problem documents; neither logs a request body.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from tradeguard.vault.problems import VaultProblem, handle_problem, problem_response
from tradeguard.vault.service import TypedCard, VaultService
from tradeguard.vault.store import VaultCard, VaultCharge

OWNER_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
ID_PATTERN = r"^[0-9a-f-]{36}$"


class Strict(BaseModel):
    """Request bodies refuse unknown members."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TicketRequest(Strict):
    """Ask for an intake ticket for an owner."""

    owner: str = Field(pattern=OWNER_PATTERN)


class TokenizeRequest(Strict):
    """A card typed by the customer, with the ticket that allows it."""

    ticket: str = Field(min_length=16, max_length=128)
    number: str = Field(min_length=1, max_length=32)
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=0, le=9999)
    cvc: str = Field(min_length=1, max_length=8)


class ChargeRequest(Strict):
    """Charge an active card of the owner."""

    owner: str = Field(pattern=OWNER_PATTERN)
    card_id: str = Field(pattern=ID_PATTERN)
    amount_cents: int
    idempotency_key: str = Field(min_length=8, max_length=128)


class OwnerRequest(Strict):
    """Act on one card of the owner."""

    owner: str = Field(pattern=OWNER_PATTERN)


def card_view(card: VaultCard) -> dict[str, Any]:
    """What the vault shows of a card: never a number, never a processor reference."""
    return {
        "id": card.id,
        "status": card.status,
        "brand": card.brand,
        "last4": card.last4,
        "exp_month": card.exp_month,
        "exp_year": card.exp_year,
        "fingerprint": card.fingerprint,
    }


def charge_view(charge: VaultCharge) -> dict[str, Any]:
    """A charge's outcome."""
    return {
        "id": charge.id,
        "card_id": charge.card_id,
        "amount_cents": charge.amount_cents,
        "currency": charge.currency,
        "outcome": charge.outcome,
        "decline_code": charge.decline_code,
    }


async def _validation_problem(_request: Request, exc: Exception) -> JSONResponse:
    fields = []
    if isinstance(exc, RequestValidationError):
        fields = [".".join(str(part) for part in error["loc"]) for error in exc.errors()]
    problem = VaultProblem(
        422, "VAULT_VALIDATION_FAILED", "The request is not valid.", {"fields": fields}
    )
    return problem_response(problem)


def _base_app(title: str) -> FastAPI:
    app = FastAPI(title=title, openapi_url=None, docs_url=None, redoc_url=None)
    app.add_exception_handler(VaultProblem, handle_problem)
    app.add_exception_handler(RequestValidationError, _validation_problem)
    return app


def internal_app(service: VaultService) -> FastAPI:
    """The API the main service calls over mutual TLS."""
    app = _base_app("TradeGuard payment vault")

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "processor": service.processor.reachable()}

    @app.post("/v1/intake-tickets", status_code=201)
    def ticket(body: TicketRequest) -> dict[str, Any]:
        issued, expires = service.issue_ticket(body.owner)
        return {"ticket": issued, "expires_at_ns": expires}

    @app.get("/v1/owners/{owner}/cards")
    def cards(owner: Annotated[str, Path(pattern=OWNER_PATTERN)]) -> dict[str, Any]:
        return {"cards": [card_view(card) for card in service.cards(owner)]}

    @app.post("/v1/cards/{card_id}/confirm")
    def confirm(card_id: str, body: OwnerRequest) -> dict[str, Any]:
        return card_view(service.confirm(body.owner, card_id))

    @app.post("/v1/cards/{card_id}/remove")
    def remove(card_id: str, body: OwnerRequest) -> dict[str, Any]:
        return card_view(service.remove(body.owner, card_id))

    @app.post("/v1/charges")
    def charge(body: ChargeRequest) -> dict[str, Any]:
        made = service.charge(body.owner, body.card_id, body.amount_cents, body.idempotency_key)
        return charge_view(made)

    return app


def intake_app(service: VaultService, allowed_origins: tuple[str, ...], max_body: int) -> FastAPI:
    """The browsers' tokenization endpoint."""
    app = _base_app("TradeGuard card intake")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(allowed_origins),
        allow_methods=["POST"],
        allow_headers=["content-type"],
        max_age=600,
    )

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Any) -> Response:  # noqa: ANN401
        declared = request.headers.get("content-length")
        if request.method != "POST":
            response: Response = await call_next(request)
            return response
        if declared is None or not declared.isdigit() or int(declared) > max_body:
            return problem_response(
                VaultProblem(413, "VAULT_BODY_TOO_LARGE", "Send a small JSON body.")
            )
        answer: Response = await call_next(request)
        return answer

    @app.post("/v1/tokenize", status_code=201)
    def tokenize(body: TokenizeRequest) -> dict[str, Any]:
        card = service.tokenize(
            body.ticket, TypedCard(body.number, body.exp_month, body.exp_year, body.cvc)
        )
        return card_view(card)

    return app
