"""What the vault does: intake tickets, tokenization, the owner's cards, charges."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.core.clock import Clock
from tradeguard.core.ids import new_id
from tradeguard.db.session import transaction
from tradeguard.logs import get_logger
from tradeguard.vault.cards import checked_cvc, checked_expiry, normalized_number
from tradeguard.vault.keys import VaultKeys
from tradeguard.vault.problems import NOT_FOUND, PROCESSOR_DOWN, VaultProblem, invalid
from tradeguard.vault.processor import (
    CardInput,
    CardProcessor,
    CardRefusedError,
    ProcessorUnavailableError,
    StoredCard,
)
from tradeguard.vault.store import CardStatus, IntakeTicket, VaultCard, VaultCharge

log = get_logger("tradeguard.vault")
TICKET_BYTES = 32
SECOND_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class TypedCard:
    """A card as it came in from the browser."""

    number: str
    exp_month: int
    exp_year: int
    cvc: str


class VaultService:
    """The vault's operations over its own database, keys and processor."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        keys: VaultKeys,
        processor: CardProcessor,
        clock: Clock,
        ticket_seconds: int,
    ) -> None:
        self.sessions = sessions
        self.keys = keys
        self.processor = processor
        self.clock = clock
        self.ticket_seconds = ticket_seconds

    def issue_ticket(self, owner: str) -> tuple[str, int]:
        """A single-use intake ticket for ``owner`` and when it expires (ns)."""
        ticket = secrets.token_urlsafe(TICKET_BYTES)
        expires = self.clock.now_ns() + self.ticket_seconds * SECOND_NS
        with transaction(self.sessions) as db:
            db.add(IntakeTicket(ticket_hash=_hash(ticket), owner=owner, expires_at_ns=expires))
        return ticket, expires

    def tokenize(self, ticket: str, typed: TypedCard) -> VaultCard:
        """Check the card, spend the ticket, store the card at the processor and here."""
        number = normalized_number(typed.number)
        month, year = checked_expiry(typed.exp_month, typed.exp_year, self.clock.now())
        card = CardInput(number, month, year, checked_cvc(typed.cvc))
        owner = self._spend_ticket(ticket)
        try:
            stored = self.processor.store_card(card, owner)
        except CardRefusedError as refused:
            raise VaultProblem(
                402,
                "VAULT_CARD_REFUSED",
                "The card issuer refused the card.",
                {"decline_code": refused.code},
            ) from None
        except ProcessorUnavailableError:
            raise PROCESSOR_DOWN from None
        return self._keep(owner, stored, card, self.keys.fingerprint(number))

    def cards(self, owner: str) -> list[VaultCard]:
        """The owner's confirmed cards, oldest first."""
        with self.sessions() as db:
            rows = db.scalars(
                select(VaultCard)
                .where(VaultCard.owner == owner, VaultCard.status == CardStatus.ACTIVE)
                .order_by(VaultCard.created_at_ns)
            )
            return list(rows)

    def confirm(self, owner: str, card_id: str) -> VaultCard:
        """Make a tokenized card of ``owner`` usable (its owner's session added it)."""
        with transaction(self.sessions) as db:
            card = _owned(db, owner, card_id, (CardStatus.PENDING, CardStatus.ACTIVE))
            card.status = CardStatus.ACTIVE
            card.updated_at_ns = self.clock.now_ns()
            return card

    def remove(self, owner: str, card_id: str) -> VaultCard:
        """Forget the card at the processor, then mark it removed here."""
        with self.sessions() as db:
            card = _owned(db, owner, card_id, (CardStatus.PENDING, CardStatus.ACTIVE))
            stored = self._stored(card)
        try:
            self.processor.forget_card(stored)
        except ProcessorUnavailableError:
            raise PROCESSOR_DOWN from None
        with transaction(self.sessions) as db:
            card = _owned(db, owner, card_id, (CardStatus.PENDING, CardStatus.ACTIVE))
            card.status = CardStatus.REMOVED
            card.updated_at_ns = self.clock.now_ns()
            return card

    def charge(
        self, owner: str, card_id: str, amount_cents: int, idempotency_key: str
    ) -> VaultCharge:
        """Charge an active card once per (owner, idempotency key)."""
        if not 0 < amount_cents <= 10**11:
            raise invalid("VAULT_AMOUNT_INVALID", "The amount is a positive number of cents.")
        earlier = self._earlier_charge(owner, idempotency_key, card_id, amount_cents)
        if earlier is not None:
            return earlier
        with self.sessions() as db:
            stored = self._stored(_owned(db, owner, card_id, (CardStatus.ACTIVE,)))
        processor_key = _hash(f"{owner}\x00{idempotency_key}")
        try:
            result = self.processor.charge(stored, amount_cents, "usd", processor_key)
        except ProcessorUnavailableError:
            raise PROCESSOR_DOWN from None
        charge_id = str(new_id(self.clock))
        row = VaultCharge(
            id=charge_id,
            owner=owner,
            card_id=card_id,
            idempotency_key=idempotency_key,
            amount_cents=amount_cents,
            currency="usd",
            outcome=result.outcome.value,
            decline_code=result.decline_code,
            processor_charge=(
                self.keys.seal(result.reference, charge_id) if result.reference else None
            ),
            created_at_ns=self.clock.now_ns(),
        )
        try:
            with transaction(self.sessions) as db:
                db.add(row)
        except IntegrityError:
            again = self._earlier_charge(owner, idempotency_key, card_id, amount_cents)
            if again is None:
                raise
            return again
        log.info("vault.charged", charge=charge_id, outcome=result.outcome.value)
        return row

    def _earlier_charge(
        self, owner: str, key: str, card_id: str, amount_cents: int
    ) -> VaultCharge | None:
        with self.sessions() as db:
            earlier = db.scalars(
                select(VaultCharge).where(
                    VaultCharge.owner == owner, VaultCharge.idempotency_key == key
                )
            ).one_or_none()
        if earlier is None:
            return None
        if (earlier.card_id, earlier.amount_cents) != (card_id, amount_cents):
            raise VaultProblem(
                409,
                "VAULT_IDEMPOTENCY_CONFLICT",
                "This idempotency key was used for a different charge.",
            )
        return earlier

    def _spend_ticket(self, ticket: str) -> str:
        now = self.clock.now_ns()
        with transaction(self.sessions) as db:
            spent = db.execute(
                update(IntakeTicket)
                .where(
                    IntakeTicket.ticket_hash == _hash(ticket),
                    IntakeTicket.used_at_ns.is_(None),
                    IntakeTicket.expires_at_ns > now,
                )
                .values(used_at_ns=now)
                .returning(IntakeTicket.owner)
            ).scalar_one_or_none()
        if spent is None:
            raise VaultProblem(
                403,
                "VAULT_TICKET_INVALID",
                "The intake ticket is unknown, used or expired; ask for a new one.",
            )
        return spent

    def _keep(self, owner: str, stored: StoredCard, card: CardInput, fingerprint: str) -> VaultCard:
        card_id = str(new_id(self.clock))
        now = self.clock.now_ns()
        row = VaultCard(
            id=card_id,
            owner=owner,
            status=CardStatus.PENDING,
            brand=stored.brand,
            last4=stored.last4,
            exp_month=card.exp_month,
            exp_year=card.exp_year,
            fingerprint=fingerprint,
            processor_customer=self.keys.seal(stored.customer, card_id),
            processor_card=self.keys.seal(stored.card, card_id),
            created_at_ns=now,
            updated_at_ns=now,
        )
        with transaction(self.sessions) as db:
            db.add(row)
        log.info("vault.card_tokenized", card=card_id, brand=stored.brand)
        return row

    def _stored(self, card: VaultCard) -> StoredCard:
        return StoredCard(
            customer=self.keys.open(card.processor_customer, card.id),
            card=self.keys.open(card.processor_card, card.id),
            brand=card.brand,
            last4=card.last4,
        )


def _owned(db: Session, owner: str, card_id: str, statuses: tuple[str, ...]) -> VaultCard:
    card = db.get(VaultCard, card_id)
    if card is None or card.owner != owner or card.status not in statuses:
        raise NOT_FOUND
    return card


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
