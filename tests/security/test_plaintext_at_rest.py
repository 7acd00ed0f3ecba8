"""Proof by scanning: sensitive values written through the models never reach disk in clear.

Each test also writes a non-sensitive marker into a plain column and asserts it
IS found, so the scan is known to read the real stored bytes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine, LargeBinary, MetaData, String, Uuid, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from support import POSTGRES_ADMIN_URL, require_service
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
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine

SENSITIVE = {
    "email": "scan.target@broker.test",
    "tax_id": "078-05-1120",
    "account_number": "ACCT-99887766",
    "bank_details": "DE89370400440532013000",
}
MARKER = "PLAIN-MARKER-4242"


class ScanBase(DeclarativeBase):
    metadata = MetaData()


class Holder(ScanBase):
    __tablename__ = "scan_holders"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    label: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(
        Encrypted(DataClass.PII, subject="id", blind_index="email_index")
    )
    email_index: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    tax_id: Mapped[str] = mapped_column(Encrypted(DataClass.TAX_ID))
    account_number: Mapped[str] = mapped_column(Encrypted(DataClass.ACCOUNT_NUMBER))
    bank_details: Mapped[str] = mapped_column(Encrypted(DataClass.BANK_DETAILS))


def _write_through_models(engine: Engine, clock: FixedClock) -> None:
    migrate.upgrade(engine)
    ScanBase.metadata.create_all(engine)
    install_field_encryption()
    events = MemoryKeyEventRecorder()
    keyring = Keyring(LocalKek(generate_master_key(clock, "development")), clock, events)
    crypto = FieldCrypto(keyring, SubjectKeys(keyring, clock, events))
    with Session(engine, info={FIELD_CRYPTO_KEY: crypto}) as session, session.begin():
        keyring.ensure_keysets(session)
        session.add(Holder(label=MARKER, **SENSITIVE))


def _assert_no_plaintext(raw: bytes) -> None:
    assert MARKER.encode() in raw, "the scan did not read the stored rows"
    for name, value in SENSITIVE.items():
        assert value.encode() not in raw, f"{name} found in clear"
        assert value.encode("utf-16-le") not in raw, f"{name} found in clear (UTF-16)"


def test_sqlite_file_when_scanned_then_no_sensitive_plaintext(
    tmp_path: Path, clock: FixedClock
) -> None:
    database = tmp_path / "scan.db"
    engine = build_engine(f"sqlite:///{database}")
    _write_through_models(engine, clock)
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    raw = b"".join(
        path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith("scan.db")
    )
    _assert_no_plaintext(raw)


@pytest.fixture
def scratch_postgres() -> Iterator[str]:
    admin = make_url(POSTGRES_ADMIN_URL)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"tradeguard_scan_{uuid.uuid4().hex[:10]}"
    try:
        connection = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        require_service(f"PostgreSQL not reachable: {exc}")
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin.set(database=name).render_as_string(hide_password=False)
        finally:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_postgres_relation_files_when_scanned_then_no_sensitive_plaintext(
    scratch_postgres: str, clock: FixedClock
) -> None:
    engine = build_engine(scratch_postgres)
    _write_through_models(engine, clock)
    with engine.connect() as connection:
        connection.execute(text("CHECKPOINT"))
        tables = ["scan_holders", "crypto_keysets", "crypto_subject_keys", "crypto_signing_keys"]
        raw = b"".join(
            bytes(
                connection.execute(
                    text("SELECT pg_read_binary_file(pg_relation_filepath(:table))"),
                    {"table": table},
                ).scalar_one()
            )
            for table in tables
        )
        dumped = (
            connection.execute(text("SELECT scan_holders::text FROM scan_holders")).scalars().all()
        )
    engine.dispose()
    _assert_no_plaintext(raw)
    _assert_no_plaintext("".join(dumped).encode())
