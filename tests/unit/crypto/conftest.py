"""Fixtures for field encryption: test tables on both backends, a keyring, a session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, ForeignKey, LargeBinary, MetaData, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tradeguard.core.clock import FixedClock
from tradeguard.core.ids import new_id
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.fields import (
    FIELD_CRYPTO_KEY,
    Encrypted,
    FieldCrypto,
    install_field_encryption,
)
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.keyring import DataClass, Keyring
from tradeguard.crypto.master_key import generate_master_key
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


@pytest.fixture(scope="session")
def sample_tables(database) -> Iterator[Engine]:
    SampleBase.metadata.create_all(database.engine)
    yield database.engine
    SampleBase.metadata.drop_all(database.engine)


@dataclass
class CryptoKit:
    keyring: Keyring
    subjects: SubjectKeys
    events: MemoryKeyEventRecorder
    kek: LocalKek
    session: Session


@pytest.fixture
def kit(sample_tables: Engine, clock: FixedClock) -> Iterator[CryptoKit]:
    """A fresh keyring in a session whose transaction is rolled back after the test."""
    install_field_encryption()
    events = MemoryKeyEventRecorder()
    kek = LocalKek(generate_master_key(clock, "development"))
    keyring = Keyring(kek, clock, events)
    subjects = SubjectKeys(keyring, clock, events)
    with sample_tables.connect() as connection:
        outer = connection.begin()
        session = Session(
            bind=connection,
            join_transaction_mode="create_savepoint",
            info={FIELD_CRYPTO_KEY: FieldCrypto(keyring, subjects)},
        )
        keyring.ensure_keysets(session)
        try:
            yield CryptoKit(keyring, subjects, events, kek, session)
        finally:
            session.close()
            outer.rollback()
