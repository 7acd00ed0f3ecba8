"""The vault's tables, in its own database and metadata (never the main service's).

A card row holds the processor's references sealed under the vault's key, and in clear
only what may be shown: brand, last four digits, expiry and a keyed fingerprint. No card
number and no security code is ever written.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, LargeBinary, MetaData, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tradeguard.db.base import NAMING_CONVENTION


class VaultBase(DeclarativeBase):
    """Base of the vault's own tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CardStatus:
    """Where a card stands: tokenized, confirmed by its owner's session, removed."""

    PENDING = "pending"
    ACTIVE = "active"
    REMOVED = "removed"


class VaultCard(VaultBase):
    """A tokenized card of one owner (the main service's user id)."""

    __tablename__ = "vault_cards"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    brand: Mapped[str] = mapped_column(String(24))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int] = mapped_column(Integer)
    exp_year: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    processor_customer: Mapped[bytes] = mapped_column(LargeBinary)
    processor_card: Mapped[bytes] = mapped_column(LargeBinary)
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)


class IntakeTicket(VaultBase):
    """A single-use permission for a browser to tokenize one card for one owner."""

    __tablename__ = "vault_intake_tickets"

    ticket_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    expires_at_ns: Mapped[int] = mapped_column(BigInteger)
    used_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class VaultCharge(VaultBase):
    """One charge of a card; the idempotency key makes a retried charge the same charge."""

    __tablename__ = "vault_charges"
    __table_args__ = (UniqueConstraint("owner", "idempotency_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    card_id: Mapped[str] = mapped_column(String(36))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    outcome: Mapped[str] = mapped_column(String(32))
    decline_code: Mapped[str | None] = mapped_column(String(64))
    processor_charge: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
