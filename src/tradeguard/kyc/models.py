"""Tables of onboarding: account applications and their identity documents.

Everything a customer tells about themselves is encrypted under their own key: the
answers under ``pii``, the SSN or ITIN under ``tax_id`` (with a blind index, so the same
number on two applications is found without decrypting either), document files and
MRZ text under ``documents``. What the workflow needs in clear is not personal: the
status, the account kind, the risk level and the names of the factors and checks.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.crypto.fields import Encrypted
from tradeguard.crypto.keyring import DataClass
from tradeguard.db.base import Base

ID_LENGTH = 36


def compact_tax_id(value: str) -> str:
    """The digits of a tax id: the form its blind index is computed on."""
    return "".join(character for character in value if character.isdigit())


class KycApplication(Base):
    """One person's account application, from draft to decision."""

    __tablename__ = "kyc_applications"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"), unique=True)
    status: Mapped[str] = mapped_column(String(24), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    answers: Mapped[str] = mapped_column(Encrypted(DataClass.PII, subject="user_id"))
    tax_id: Mapped[str | None] = mapped_column(
        Encrypted(
            DataClass.TAX_ID,
            subject="user_id",
            blind_index="tax_id_index",
            normalize=compact_tax_id,
        )
    )
    tax_id_index: Mapped[bytes | None] = mapped_column(LargeBinary(16), index=True)
    account_kind: Mapped[str | None] = mapped_column(String(8))
    account_class: Mapped[str | None] = mapped_column(String(16))
    agreements: Mapped[str] = mapped_column(Text, default="[]")
    checks: Mapped[str] = mapped_column(Text, default="[]")
    risk_level: Mapped[str | None] = mapped_column(String(8))
    risk_factors: Mapped[str] = mapped_column(Text, default="[]")
    screening: Mapped[str] = mapped_column(Text, default="{}")
    first_approval_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    decided_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    decision_reason: Mapped[str | None] = mapped_column(String(48))
    decision_note: Mapped[str | None] = mapped_column(Encrypted(DataClass.PII, subject="user_id"))
    account_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    retention_years: Mapped[int] = mapped_column(Integer, default=5)
    retain_until_ns: Mapped[int | None] = mapped_column(BigInteger)
    retention_basis: Mapped[str | None] = mapped_column(String(96))
    screening_retain_until_ns: Mapped[int | None] = mapped_column(BigInteger)
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)
    submitted_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    decided_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class KycDocument(Base):
    """An identity document or proof of address, its file encrypted, its MRZ result."""

    __tablename__ = "kyc_documents"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    application_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("kyc_applications.id"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    side: Mapped[str] = mapped_column(String(8))
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(
        Encrypted(DataClass.DOCUMENTS, subject="user_id", binary=True)
    )
    mrz: Mapped[str | None] = mapped_column(Encrypted(DataClass.DOCUMENTS, subject="user_id"))
    mrz_result: Mapped[str] = mapped_column(Text, default="{}")
    uploaded_at_ns: Mapped[int] = mapped_column(BigInteger)
    retention_years: Mapped[int] = mapped_column(Integer, default=5)
    retain_until_ns: Mapped[int | None] = mapped_column(BigInteger)
