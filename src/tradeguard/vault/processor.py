"""The card processor the vault talks to: an interface, and its Stripe adapter.

Only the vault calls a processor. The adapter turns a card into a single-use processor
token, attaches it to a processor customer (whose stored card is what later charges
use), and charges that stored card. A decline and a card that needs 3-D Secure
authentication are outcomes, not errors; a processor that cannot be reached is
``ProcessorUnavailableError``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import stripe


class ChargeOutcome(StrEnum):
    """What became of one charge."""

    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    AUTHENTICATION_REQUIRED = "authentication_required"


@dataclass(frozen=True, slots=True)
class CardInput:
    """A card as the customer typed it; lives only for the tokenization call."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class StoredCard:
    """The processor's references of a stored card, and what may be shown of it."""

    customer: str
    card: str
    brand: str
    last4: str


@dataclass(frozen=True, slots=True)
class ChargeResult:
    """The processor's answer to a charge."""

    outcome: ChargeOutcome
    reference: str | None = None
    decline_code: str | None = None


class ProcessorUnavailableError(Exception):
    """The processor did not answer, or answered something unexpected."""


class CardRefusedError(Exception):
    """The processor refused the card at tokenization (invalid, expired, declined)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class CardProcessor(Protocol):
    """What the vault needs of a card processor."""

    def store_card(self, card: CardInput, owner: str) -> StoredCard:
        """Tokenize ``card`` and keep it at the processor for later charges."""
        ...

    def charge(
        self, stored: StoredCard, amount_cents: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        """Charge the stored card once per ``idempotency_key``."""
        ...

    def forget_card(self, stored: StoredCard) -> None:
        """Delete the stored card at the processor."""
        ...

    def reachable(self) -> bool:
        """Whether the processor answers."""
        ...


AUTHENTICATION_CODES = frozenset({"authentication_required", "card_authentication_required"})


class StripeProcessor:
    """The Stripe adapter (the ``stripe`` SDK), at any API address (a local sandbox too)."""

    def __init__(self, api_key: str, api_base: str, timeout_seconds: float) -> None:
        self._client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base},
            max_network_retries=0,
            http_client=stripe.RequestsClient(timeout=timeout_seconds),
        )

    def store_card(self, card: CardInput, owner: str) -> StoredCard:
        """Create a token from the card, then a customer holding it as a source."""
        try:
            token = self._client.v1.tokens.create(
                params={
                    "card": {
                        "number": card.number,
                        "exp_month": str(card.exp_month),
                        "exp_year": str(card.exp_year),
                        "cvc": card.cvc,
                    }
                }
            )
            customer = self._client.v1.customers.create(
                params={"source": token.id, "metadata": {"owner": owner}}
            )
        except stripe.CardError as error:
            raise CardRefusedError(_code_of(error)) from None
        except stripe.StripeError as error:
            raise ProcessorUnavailableError(type(error).__name__) from None
        source = _first_source(customer.to_dict())
        return StoredCard(
            customer=customer.id,
            card=str(source["id"]),
            brand=str(source.get("brand") or "unknown"),
            last4=str(source.get("last4") or ""),
        )

    def charge(
        self, stored: StoredCard, amount_cents: int, currency: str, idempotency_key: str
    ) -> ChargeResult:
        """Confirm an off-session payment of the stored card; declines, 3-D Secure: outcomes."""
        try:
            intent = self._client.v1.payment_intents.create(
                params={
                    "amount": amount_cents,
                    "currency": currency,
                    "customer": stored.customer,
                    "payment_method": stored.card,
                    "confirm": True,
                    "off_session": True,
                },
                options={"idempotency_key": idempotency_key},
            )
        except stripe.CardError as error:
            code = _code_of(error)
            if code in AUTHENTICATION_CODES:
                return ChargeResult(ChargeOutcome.AUTHENTICATION_REQUIRED, decline_code=code)
            return ChargeResult(ChargeOutcome.DECLINED, decline_code=code)
        except stripe.StripeError as error:
            raise ProcessorUnavailableError(type(error).__name__) from None
        if intent.status == "requires_action":
            return ChargeResult(
                ChargeOutcome.AUTHENTICATION_REQUIRED, intent.id, "authentication_required"
            )
        if intent.status != "succeeded":
            return ChargeResult(ChargeOutcome.DECLINED, intent.id, str(intent.status))
        return ChargeResult(ChargeOutcome.SUCCEEDED, intent.id)

    def forget_card(self, stored: StoredCard) -> None:
        """Delete the processor customer, and with it the stored card."""
        try:
            self._client.v1.customers.delete(stored.customer)
        except stripe.InvalidRequestError:
            return  # already gone
        except stripe.StripeError as error:
            raise ProcessorUnavailableError(type(error).__name__) from None

    def reachable(self) -> bool:
        """Whether the processor answers an authenticated listing."""
        try:
            self._client.v1.customers.list(params={"limit": 1})
        except stripe.StripeError:
            return False
        return True


def _code_of(error: stripe.StripeError) -> str:
    code = getattr(error, "code", None)
    decline = getattr(getattr(error, "error", None), "decline_code", None)
    return str(decline or code or "card_declined")


def _first_source(customer: dict[str, Any]) -> dict[str, Any]:
    sources = customer.get("sources") or {}
    data = sources.get("data") or []
    if not data:
        raise ProcessorUnavailableError("the processor kept no card for the customer")
    first: dict[str, Any] = data[0]
    return first
