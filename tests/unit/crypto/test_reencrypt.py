"""Re-encryption after rotation: complete, resumable, and careful about old keys."""

from __future__ import annotations

import pytest
from crypto_samples import CryptoKit, Customer, Note, SampleBase
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.core.clock import FixedClock
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.fields import FIELD_CRYPTO_KEY, FieldCrypto
from tradeguard.crypto.keyring import DataClass, Keyring, ciphertext_key_id
from tradeguard.crypto.models import ReencryptionProgress, SubjectKey
from tradeguard.crypto.reencrypt import Reencryptor, targets_for
from tradeguard.crypto.subjects import SubjectKeys

MAPPERS = list(SampleBase.registry.mappers)
ROWS = 23


def _sessions(kit: CryptoKit) -> sessionmaker[Session]:
    return sessionmaker(
        bind=kit.session.connection(),
        join_transaction_mode="create_savepoint",
        info={FIELD_CRYPTO_KEY: FieldCrypto(kit.keyring, kit.subjects)},
    )


def _populate(kit: CryptoKit) -> list[Customer]:
    customers = [
        Customer(email=f"c{n}@broker.test", tax_id=f"100-00-{n:04d}", account_number=f"ACCT{n:06d}")
        for n in range(ROWS)
    ]
    kit.session.add_all(customers)
    kit.session.flush()
    kit.session.add_all([Note(customer_id=c.id, text=f"note {n}") for n, c in enumerate(customers)])
    kit.session.flush()
    return customers


def _stored_key_ids(kit: CryptoKit) -> set[int]:
    values = kit.session.connection().execute(select(Customer.__table__.c.tax_id)).scalars()
    return {ciphertext_key_id(bytes(value)) for value in values}


def test_reencrypt_when_class_rotated_then_all_values_move_and_old_key_disabled(
    kit: CryptoKit, clock: FixedClock
) -> None:
    customers = _populate(kit)
    old = kit.keyring.primary_key_id("tax_id")
    new = kit.keyring.rotate(kit.session, "tax_id")
    assert _stored_key_ids(kit) == {old}
    job = Reencryptor(_sessions(kit), kit.keyring, clock, batch_size=7)
    [report] = job.run(MAPPERS, [DataClass.TAX_ID])
    assert (report.rewritten, report.remaining, report.disabled_key_ids) == (ROWS, 0, (old,))
    assert _stored_key_ids(kit) == {new}
    kit.session.expunge_all()
    reloaded = kit.session.get(Customer, customers[5].id)
    assert reloaded is not None
    assert reloaded.tax_id == "100-00-0005"
    assert kit.session.scalars(select(ReencryptionProgress)).all() == []


def test_reencrypt_when_pii_rotated_then_subject_keys_rewrapped_and_data_readable(
    kit: CryptoKit, clock: FixedClock
) -> None:
    _populate(kit)
    new = kit.keyring.rotate(kit.session, "pii")
    [report] = Reencryptor(_sessions(kit), kit.keyring, clock, batch_size=5).run(
        MAPPERS, [DataClass.PII]
    )
    assert report.rewritten == ROWS
    wrapped = kit.session.connection().execute(select(SubjectKey.__table__.c.wrapped)).scalars()
    assert {ciphertext_key_id(bytes(value)) for value in wrapped} == {new}
    kit.session.expunge_all()
    fresh_subjects = SubjectKeys(kit.keyring, clock, MemoryKeyEventRecorder())
    kit.session.info[FIELD_CRYPTO_KEY] = FieldCrypto(kit.keyring, fresh_subjects)
    notes = sorted(note.text for note in kit.session.scalars(select(Note)))
    assert notes == sorted(f"note {n}" for n in range(ROWS))


class JobInterruptedError(Exception):
    pass


def test_reencrypt_when_interrupted_then_resumes_where_it_stopped(
    kit: CryptoKit, clock: FixedClock
) -> None:
    _populate(kit)
    kit.keyring.rotate(kit.session, "tax_id")
    job = Reencryptor(_sessions(kit), kit.keyring, clock, batch_size=5)

    def stop_after_two_batches(label: str, done: int, _total: int) -> None:
        if label.endswith("tax_id") and done >= 10:
            raise JobInterruptedError

    with pytest.raises(JobInterruptedError):
        job.run(MAPPERS, [DataClass.TAX_ID], stop_after_two_batches)
    saved = kit.session.scalars(select(ReencryptionProgress)).one()
    assert saved.rows_rewritten == 10
    seen: list[int] = []

    def record(label: str, done: int, _total: int) -> None:
        if label.endswith("tax_id"):
            seen.append(done)

    [report] = job.run(MAPPERS, [DataClass.TAX_ID], record)
    assert report.rewritten == ROWS
    assert report.remaining == 0
    assert seen == [15, 20, 23]


def test_reencrypt_when_stale_node_writes_old_key_then_old_key_not_disabled(
    kit: CryptoKit, clock: FixedClock
) -> None:
    _populate(kit)
    stale = Keyring(kit.kek, clock, MemoryKeyEventRecorder())
    stale.load(kit.session)
    old = kit.keyring.rotate(kit.session, "tax_id")
    del old
    stale_session = Session(
        bind=kit.session.connection(),
        join_transaction_mode="create_savepoint",
        info={FIELD_CRYPTO_KEY: FieldCrypto(stale, kit.subjects)},
    )
    job = Reencryptor(_sessions(kit), kit.keyring, clock, batch_size=50)

    def stale_write(label: str, done: int, total: int) -> None:
        if label.endswith("tax_id") and done == total and not stale_session.new:
            stale_session.add(Customer(email="late@broker.test", tax_id="999-99-9999"))
            stale_session.flush()

    [report] = job.run(MAPPERS, [DataClass.TAX_ID], stale_write)
    assert report.remaining == 1
    assert report.disabled_key_ids == ()
    assert len(kit.keyring.enabled_key_ids("tax_id")) == 2


def test_targets_when_listed_then_cover_plain_columns_and_subject_keys() -> None:
    labels = {target.label for target in targets_for(MAPPERS, DataClass.PII)}
    assert labels == {"crypto_subject_keys[pii]"}
    labels = {target.label for target in targets_for(MAPPERS, DataClass.TAX_ID)}
    assert labels == {"crypto_subject_keys[tax_id]", "sample_customers.tax_id"}
