"""Field encryption cost and re-encryption throughput (issue: key management)."""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import Engine, MetaData, Uuid, insert
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from measure import Measurement, microseconds_per_call, scratch_postgres
from tradeguard.core.clock import SystemClock
from tradeguard.core.ids import new_id
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.fields import (
    FIELD_CRYPTO_KEY,
    Ciphertext,
    Encrypted,
    FieldCrypto,
    field_context,
    install_field_encryption,
)
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.keyring import DataClass, Keyring
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.crypto.reencrypt import Reencryptor
from tradeguard.crypto.subjects import SubjectKeys
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine

ROWS = 100_000
FIELD = b"x" * 64


class BenchBase(DeclarativeBase):
    metadata = MetaData()


class Account(BenchBase):
    __tablename__ = "bench_accounts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    number: Mapped[str] = mapped_column(Encrypted(DataClass.ACCOUNT_NUMBER))


def _keyring(engine: Engine) -> tuple[Keyring, sessionmaker[Session]]:
    clock, events = SystemClock(), MemoryKeyEventRecorder()
    keyring = Keyring(LocalKek(generate_master_key(clock, "development")), clock, events)
    crypto = FieldCrypto(keyring, SubjectKeys(keyring, clock, events))
    sessions = sessionmaker(bind=engine, info={FIELD_CRYPTO_KEY: crypto})
    with sessions.begin() as session:
        keyring.ensure_keysets(session)
    return keyring, sessions


def _fill(engine: Engine, keyring: Keyring) -> None:
    primitive = keyring.aead(DataClass.ACCOUNT_NUMBER)
    for start in range(0, ROWS, 10_000):
        rows = []
        for _ in range(10_000):
            row_id = new_id()
            context = field_context("bench_accounts", "number", str(row_id))
            rows.append(
                {
                    "id": row_id,
                    "number": Ciphertext(primitive.encrypt(b"ACCT-%08d" % start, context)),
                }
            )
        with engine.begin() as connection:
            connection.execute(insert(Account.__table__), rows)


def _reencryption_rate(url: str) -> float:
    engine = build_engine(url)
    migrate.upgrade(engine)
    BenchBase.metadata.create_all(engine)
    keyring, sessions = _keyring(engine)
    _fill(engine, keyring)
    with sessions.begin() as session:
        keyring.rotate(session, DataClass.ACCOUNT_NUMBER.value)
    job = Reencryptor(sessions, keyring, SystemClock(), batch_size=1_000)
    started = time.perf_counter()
    [report] = job.run(list(BenchBase.registry.mappers), [DataClass.ACCOUNT_NUMBER])
    elapsed = time.perf_counter() - started
    assert report.rewritten == ROWS
    assert report.remaining == 0
    BenchBase.metadata.drop_all(engine)
    engine.dispose()
    return ROWS / elapsed


def run() -> list[Measurement]:
    install_field_encryption()
    with tempfile.TemporaryDirectory() as directory:
        engine = build_engine(f"sqlite:///{Path(directory) / 'keys.db'}")
        migrate.upgrade(engine)
        keyring, _ = _keyring(engine)
        primitive = keyring.aead(DataClass.PII)
        context = field_context("customers", "email", str(new_id()))
        sealed = primitive.encrypt(FIELD, context)
        results = [
            Measurement(
                "encrypt 64-byte field (AES-256-GCM)",
                microseconds_per_call(lambda: primitive.encrypt(FIELD, context), calls=50_000),
                "µs/op",
                20,
            ),
            Measurement(
                "decrypt 64-byte field (AES-256-GCM)",
                microseconds_per_call(lambda: primitive.decrypt(sealed, context), calls=50_000),
                "µs/op",
                20,
            ),
        ]
        engine.dispose()
        rate = _reencryption_rate(f"sqlite:///{Path(directory) / 'reencrypt.db'}")
    results.append(
        Measurement("re-encryption, 100k rows, SQLite", rate, "rows/s", lower_is_better=False)
    )
    with scratch_postgres() as url:
        postgres = None if url is None else _reencryption_rate(url)
    if postgres is not None:
        results.append(
            Measurement(
                "re-encryption, 100k rows, PostgreSQL", postgres, "rows/s", lower_is_better=False
            )
        )
    return results
