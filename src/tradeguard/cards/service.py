"""Cards of the signed-in customer through the vault, and card deposits.

Every state change is audited here in the main service's trail; the vault keeps its own
records of cards and charges. A vault that cannot be reached fails the request closed
(503 PAYMENT_VAULT_UNAVAILABLE) before anything changes on this side. A succeeded charge
becomes a deposit of the payments service, credited and held like an ACH pull.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.audit.recorder import AuditTrail
from tradeguard.cards.client import (
    VaultClient,
    VaultOffError,
    VaultRefusalError,
    VaultUnavailableError,
)
from tradeguard.core.errors import ProblemError, ProblemType
from tradeguard.core.money import Money
from tradeguard.payments.models import DepositRow
from tradeguard.trading.models import TradingAccount

UNAVAILABLE = ProblemType("payment-vault-unavailable", "Payment vault unavailable", 503)
REFUSED = ProblemType("payment-refused", "Payment refused", 422)
NOT_FOUND = ProblemType("not-found", "Not Found", 404)
DECLINED = ProblemType("payment-card-declined", "Card declined", 402)
OFF = ProblemType("payment-vault-off", "Card payments not enabled", 409)


class CardReason(StrEnum):
    """Reason codes of the card routes."""

    VAULT_UNAVAILABLE = "PAYMENT_VAULT_UNAVAILABLE"
    VAULT_OFF = "PAYMENT_VAULT_OFF"
    AMOUNT_INVALID = "PAYMENT_AMOUNT_INVALID"
    CARD_NOT_FOUND = "PAYMENT_CARD_NOT_FOUND"
    CARD_DECLINED = "PAYMENT_CARD_DECLINED"
    AUTHENTICATION_REQUIRED = "PAYMENT_AUTHENTICATION_REQUIRED"
    NO_ACCOUNT = "PAYMENT_NO_ACCOUNT"
    REFUSED = "PAYMENT_REFUSED"


def vault_unavailable() -> ProblemError:
    """503: the vault did not answer; nothing was changed."""
    return ProblemError(
        UNAVAILABLE,
        CardReason.VAULT_UNAVAILABLE,
        "The payment vault is unavailable; nothing was changed. Retry later.",
    )


def translated(refusal: VaultRefusalError) -> ProblemError:
    """The vault's refusal as the main API's problem."""
    if refusal.status == 404:  # noqa: PLR2004 - the vault's not-found
        return ProblemError(NOT_FOUND, CardReason.CARD_NOT_FOUND, "No such card of yours.")
    if refusal.status >= 500:  # noqa: PLR2004 - the vault's own failure
        return vault_unavailable()
    return ProblemError(
        REFUSED, CardReason.REFUSED, refusal.detail, extensions={"vault_code": refusal.code}
    )


class CardDeposits(Protocol):
    """What card deposits need of payments: a succeeded charge recorded, credited, held."""

    def card_charged(self, caller: Caller, charge_id: str, cents: int) -> DepositRow:
        """The deposit of the charge (once per charge), credited unless the desk failed."""
        ...


class CardVault:
    """The card operations of the main service, over the vault client."""

    def __init__(
        self,
        client: VaultClient,
        intake_url: str,
        audit: AuditTrail,
        deposits: CardDeposits,
    ) -> None:
        self.client = client
        self.intake_url = intake_url
        self.audit = audit
        self.deposits = deposits

    def _ask(self, call: Any, *args: Any) -> Any:  # noqa: ANN401 - the client's answers
        try:
            return call(*args)
        except VaultOffError:
            raise ProblemError(
                OFF,
                CardReason.VAULT_OFF,
                "Card payments are not enabled on this installation; the operator runs the "
                "payment vault with TRADEGUARD_VAULT_MODE=supervised or external.",
            ) from None
        except VaultUnavailableError:
            raise vault_unavailable() from None
        except VaultRefusalError as refusal:
            raise translated(refusal) from None

    def close(self) -> None:
        """Close the connections to the vault (at shutdown)."""
        self.client.close()

    def health(self) -> tuple[bool, str]:
        """Whether the vault answers over mutual TLS, and its processor with it."""
        try:
            answer = self.client.health()
        except VaultUnavailableError as error:
            return False, f"unreachable ({error})"
        except VaultRefusalError as refusal:
            return False, f"refused ({refusal.code})"
        if not answer.get("processor"):
            return False, "reachable; its card processor is not"
        return True, "reachable over mutual TLS, processor reachable"

    def intake(self, caller: Caller) -> dict[str, Any]:
        """A single-use ticket for the browser to send one card to the vault."""
        ticket = self._ask(self.client.issue_ticket, caller.user_id)
        return {"ticket": ticket["ticket"], "intake_url": self.intake_url}

    def cards(self, caller: Caller) -> list[dict[str, Any]]:
        """The caller's cards (brand, last four, expiry)."""
        cards: list[dict[str, Any]] = self._ask(self.client.cards, caller.user_id)
        return cards

    def add(self, db: Session, caller: Caller, card_id: str) -> dict[str, Any]:
        """Confirm a card the caller's browser tokenized; audited."""
        card: dict[str, Any] = self._ask(self.client.confirm, caller.user_id, card_id)
        self.audit.record(
            db,
            "payment.card_added",
            caller.actor,
            subject=card_id,
            data={"brand": card["brand"], "last4": card["last4"]},
        )
        return card

    def remove(self, db: Session, caller: Caller, card_id: str) -> None:
        """Remove one of the caller's cards; audited."""
        self._ask(self.client.remove, caller.user_id, card_id)
        self.audit.record(db, "payment.card_removed", caller.actor, subject=card_id)

    def deposit(
        self, db: Session, caller: Caller, card_id: str, amount: str, idempotency_key: str
    ) -> dict[str, Any]:
        """Charge the card, then credit the trading account once per charge.

        The credit is buying power at once and withdrawable once the deposit settles. If
        the desk cannot credit it now, the answer says so (``credited`` false) and the
        payments' periodic job credits it: the card was charged.
        """
        cents = amount_cents(amount)
        _account_of(db, caller.user_id)  # refuse before charging anything
        charge: dict[str, Any] = self._ask(
            self.client.charge, caller.user_id, card_id, cents, idempotency_key
        )
        outcome = charge["outcome"]
        if outcome != "succeeded":
            self.audit.record(
                db,
                "payment.card_deposit_refused",
                caller.actor,
                subject=charge["id"],
                data={"outcome": outcome, "amount": str(Money(cents))},
            )
            raise _declined(outcome, charge.get("decline_code"))
        row = self.deposits.card_charged(caller, charge["id"], cents)
        return {
            "charge_id": charge["id"],
            "deposit_id": row.id,
            "amount": str(Money(row.amount_cents)),
            "status": row.status,
            "credited": row.status != "new",
        }


def amount_cents(text: str) -> int:
    """A positive dollar amount with at most two decimals; 422 PAYMENT_AMOUNT_INVALID else."""
    try:
        cents = Money.parse(text).cents
    except ValueError:
        cents = 0
    if not 0 < cents <= 100_000_000:  # noqa: PLR2004 - at most $1,000,000 by card
        raise ProblemError(
            REFUSED,
            CardReason.AMOUNT_INVALID,
            "The amount is a positive dollar amount like 250.00, at most 1000000.00.",
        )
    return cents


def _account_of(db: Session, user_id: str) -> TradingAccount:
    query = select(TradingAccount).where(TradingAccount.user_id == user_id)
    account = db.scalars(query).one_or_none()
    if account is None:
        raise ProblemError(
            REFUSED, CardReason.NO_ACCOUNT, "Open a brokerage account before depositing."
        )
    return account


def _declined(outcome: str, code: str | None) -> ProblemError:
    """The refusal of a charge; its audit event is kept."""
    if outcome == "authentication_required":
        return ProblemError(
            DECLINED,
            CardReason.AUTHENTICATION_REQUIRED,
            "The card issuer requires 3-D Secure authentication, which card deposits "
            "made here cannot complete; use another card.",
            keeps_changes=True,
        )
    return ProblemError(
        DECLINED,
        CardReason.CARD_DECLINED,
        "The card was declined.",
        extensions={"decline_code": code or "card_declined"},
        keeps_changes=True,
    )
