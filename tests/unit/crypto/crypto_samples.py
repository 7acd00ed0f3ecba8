"""Sample models with encrypted fields, shared by the crypto tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ForeignKey, LargeBinary, MetaData, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tradeguard.core.ids import new_id
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.fields import Encrypted
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.keyring import DataClass, Keyring
from tradeguard.crypto.subjects import SubjectKeys


def digits_only(value: str) -> str:
    return "".join(character for character in value if character.isdigit())


class SampleBase(DeclarativeBase):
    metadata = MetaData()


class Customer(SampleBase):
    __tablename__ = "sample_customers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(
        Encrypted(DataClass.PII, subject="id", blind_index="email_index", normalize=str.casefold)
    )
    email_index: Mapped[bytes | None] = mapped_column(LargeBinary(16), index=True)
    tax_id: Mapped[str | None] = mapped_column(
        Encrypted(DataClass.TAX_ID, blind_index="tax_id_index", normalize=digits_only)
    )
    tax_id_index: Mapped[bytes | None] = mapped_column(LargeBinary(16), index=True)
    account_number: Mapped[str | None] = mapped_column(Encrypted(DataClass.ACCOUNT_NUMBER))
    passport_scan: Mapped[bytes | None] = mapped_column(Encrypted(DataClass.DOCUMENTS, binary=True))
    nickname: Mapped[str | None] = mapped_column(String(64))


class Note(SampleBase):
    __tablename__ = "sample_notes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sample_customers.id"))
    text: Mapped[str] = mapped_column(Encrypted(DataClass.PII, subject="customer_id"))


@dataclass
class CryptoKit:
    keyring: Keyring
    subjects: SubjectKeys
    events: MemoryKeyEventRecorder
    kek: LocalKek
    session: Session
