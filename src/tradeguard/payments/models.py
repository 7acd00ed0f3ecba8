"""Tables of money movement: bank links, deposits, withdrawals, idempotency keys.

A bank account number is stored only encrypted under ``bank_details`` (the holder's own
key) with a blind index to find the same account again; the holder's name under
``pii``; the micro-deposit amounts under ``bank_details``. What is in clear is not
personal: routing numbers (public bank identifiers), the last four digits, statuses,
amounts and times.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.crypto.fields import Encrypted
from tradeguard.crypto.keyring import DataClass
from tradeguard.db.base import Base

ID_LENGTH = 36


def digits_only(value: str) -> str:
    """The digits of an account number: the form its blind index is computed on."""
    return "".join(character for character in value if character.isdigit())


class PaymentHolderRow(Base):
    """One row per customer who moves money: locked to serialise their withdrawals."""

    __tablename__ = "payment_holders"

    user_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id"), primary_key=True
    )
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)


class BankLinkRow(Base):
    """A customer's ACH bank account and where its verification stands."""

    __tablename__ = "payment_bank_links"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    """``pending`` (micro-deposits sent), ``verified``, ``review`` (name differs), ``failed``,
    ``rejected`` (on review) or ``removed``."""
    routing_number: Mapped[str] = mapped_column(String(9))
    account_type: Mapped[str] = mapped_column(String(8))
    account_number: Mapped[str] = mapped_column(
        Encrypted(
            DataClass.BANK_DETAILS,
            subject="user_id",
            blind_index="account_number_index",
            normalize=digits_only,
        )
    )
    account_number_index: Mapped[bytes | None] = mapped_column(LargeBinary(16), index=True)
    last4: Mapped[str] = mapped_column(String(4))
    holder_name: Mapped[str] = mapped_column(Encrypted(DataClass.PII, subject="user_id"))
    name_matches: Mapped[bool | None] = mapped_column()
    micro_amounts: Mapped[str] = mapped_column(Encrypted(DataClass.BANK_DETAILS, subject="user_id"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    verified_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    removed_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class DepositRow(Base):
    """Money in: an ACH pull, a card charge, an incoming wire or branch cash."""

    __tablename__ = "payment_deposits"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    method: Mapped[str] = mapped_column(String(8))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), index=True)
    """``new`` (recorded, not yet credited), ``pending`` (ACH, card: credited, not
    withdrawable), ``settled``, ``returning`` (an ACH return claimed, its reversal not yet
    done), ``returned``, or ``failed`` (the desk did not credit it)."""
    bank_link_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    reference: Mapped[str | None] = mapped_column(String(64))
    """The bank advice of a wire, the receipt of branch cash, the vault's charge of a card."""
    settles_on_day: Mapped[int | None] = mapped_column(Integer)
    """The business day an ACH pull or card deposit settles on (``risk.pricing.business_day``)."""
    return_code: Mapped[str | None] = mapped_column(String(4))
    recorded_by: Mapped[str] = mapped_column(String(96))
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    settled_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    sent_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    """When an ACH pull was written to a NACHA file for the bank (None: not yet)."""


class WithdrawalRow(Base):
    """Money out to a verified bank link, from request to settlement."""

    __tablename__ = "payment_withdrawals"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    bank_link_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12), index=True)
    reviews_needed: Mapped[int] = mapped_column(Integer, default=0)
    reviewers: Mapped[str] = mapped_column(Text, default="[]")
    reason: Mapped[str | None] = mapped_column(String(48))
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)


class IdempotencyRow(Base):
    """A money-moving request once answered: replayed with the same body, the same answer."""

    __tablename__ = "payment_idempotency_keys"

    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[str] = mapped_column(Text)
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
