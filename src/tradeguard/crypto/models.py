"""Tables of the key machinery. Every key column holds wrapped (encrypted) material only."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.db.base import Base


class StoredKeyset(Base):
    """A Tink keyset (all versions of one data class's key), wrapped by the KEK."""

    __tablename__ = "crypto_keysets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(BigInteger)
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)


class KeyVersion(Base):
    """One key inside a keyset: its Tink key id, age and status, for rotation reports."""

    __tablename__ = "crypto_key_versions"

    keyset_name: Mapped[str] = mapped_column(
        String(64), ForeignKey("crypto_keysets.name"), primary_key=True
    )
    key_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    disabled_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class SubjectKey(Base):
    """A person's own keyset for one data class, wrapped by the class key; NULL once shredded."""

    __tablename__ = "crypto_subject_keys"

    subject_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    data_class: Mapped[str] = mapped_column(String(32), primary_key=True)
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    destroyed_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class SigningKeyRecord(Base):
    """An Ed25519 signing key: public half in clear, private half wrapped by the KEK."""

    __tablename__ = "crypto_signing_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(32), index=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    kek_id: Mapped[str] = mapped_column(String(128))
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    retired_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean)


class ReencryptionProgress(Base):
    """Where the re-encryption job stopped in one encrypted column, so it can resume."""

    __tablename__ = "crypto_reencryption_progress"

    table_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    column_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_row_key: Mapped[str] = mapped_column(String(64))
    rows_rewritten: Mapped[int] = mapped_column(BigInteger)
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)
