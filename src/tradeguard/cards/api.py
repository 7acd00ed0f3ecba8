"""The card routes of the signed-in customer: intake ticket, list, add, remove, deposit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from tradeguard.access.caller import Caller
from tradeguard.cards.service import CardVault
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

CardVaultDep = Annotated[CardVault, provided(CardVault)]
Customer = Annotated[Principal, require(Permission.ACCOUNT_DEPOSIT)]
CardId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
router = APIRouter(
    prefix="/v1/cards",
    tags=["payments"],
    responses={
        402: {"description": "Card declined, or 3-D Secure required (PAYMENT_CARD_*)"},
        404: {"description": "No such card of yours (PAYMENT_CARD_NOT_FOUND)"},
        422: {"description": "Bad amount or card number sent here (PAYMENT_*)"},
        409: {"description": "This installation runs no payment vault (PAYMENT_VAULT_OFF)"},
        503: {"description": "The payment vault is unavailable (PAYMENT_VAULT_UNAVAILABLE)"},
    },
)


class AddCard(BaseModel):
    """A card the browser tokenized at the vault."""

    model_config = ConfigDict(extra="forbid")
    card_id: str = Field(pattern=r"^[0-9a-f-]{36}$")


class CardDeposit(BaseModel):
    """A deposit by card: dollars with at most two decimals."""

    model_config = ConfigDict(extra="forbid")
    amount: str = Field(min_length=1, max_length=20)


@router.post("/intake", status_code=status.HTTP_201_CREATED, summary="Ticket to add a card")
def intake(customer: Customer, request: Request, vault: CardVaultDep) -> dict[str, Any]:
    """A single-use ticket and the vault address the browser sends the card number to."""
    return vault.intake(Caller.of(customer, request))


@router.get("", summary="Your cards")
def cards(customer: Customer, request: Request, vault: CardVaultDep) -> list[dict[str, Any]]:
    """Brand, last four digits and expiry of each card; never a number."""
    return vault.cards(Caller.of(customer, request))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Add a tokenized card")
def add_card(
    body: AddCard, customer: Customer, request: Request, db: DbSession, vault: CardVaultDep
) -> dict[str, Any]:
    """Keep a card the browser tokenized at the vault with this customer's ticket."""
    return vault.add(db, Caller.of(customer, request), body.card_id)


@router.delete("/{card_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove a card")
def remove_card(
    card_id: CardId, customer: Customer, request: Request, db: DbSession, vault: CardVaultDep
) -> None:
    """Remove the card here and at the processor."""
    vault.remove(db, Caller.of(customer, request), card_id)


@router.post(
    "/{card_id}/deposits",
    summary="Deposit by card",
    responses={202: {"description": "Charged; the credit follows (the desk did not answer)"}},
)
def deposit(
    card_id: CardId,
    body: CardDeposit,
    customer: Customer,
    request: Request,
    response: Response,
    db: DbSession,
    vault: CardVaultDep,
    idempotency_key: Annotated[str, Header(min_length=8, max_length=128)],
) -> dict[str, Any]:
    """Charge the card and credit the cash; the same Idempotency-Key never charges twice.

    The deposit is buying power at once and withdrawable once it settles; 202 when the
    card was charged but the credit is left to the periodic job.
    """
    caller = Caller.of(customer, request)
    answer = vault.deposit(db, caller, card_id, body.amount, idempotency_key)
    if not answer["credited"]:
        response.status_code = status.HTTP_202_ACCEPTED
    return answer
