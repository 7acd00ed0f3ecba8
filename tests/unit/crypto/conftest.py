"""Fixtures for field encryption: test tables on both backends, a keyring, a session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from crypto_samples import CryptoKit, SampleBase
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tradeguard.core.clock import FixedClock
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.fields import (
    FIELD_CRYPTO_KEY,
    FieldCrypto,
    install_field_encryption,
)
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.keyring import Keyring
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.crypto.subjects import SubjectKeys


@pytest.fixture(scope="session")
def sample_tables(database) -> Iterator[Engine]:
    SampleBase.metadata.create_all(database.engine)
    yield database.engine
    SampleBase.metadata.drop_all(database.engine)


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
