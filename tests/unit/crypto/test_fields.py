"""Field encryption: round trips, binding to row and column, blind indexes, refusals."""

from __future__ import annotations

import pytest
from crypto_samples import CryptoKit, Customer, Note
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import StatementError

from tradeguard.crypto.fields import (
    ERASED,
    Ciphertext,
    FieldDecryptionError,
    FieldEncryptionError,
    field_context,
)
from tradeguard.crypto.keyring import DataClass, ciphertext_key_id
from tradeguard.crypto.subjects import SubjectErasedError

EMAIL = "Alice.Example@Broker.test"
SSN = "078-05-1120"
ACCOUNT = "5012345678"


def _customer(kit: CryptoKit, **values: object) -> Customer:
    customer = Customer(email=values.pop("email", EMAIL), **values)
    kit.session.add(customer)
    kit.session.flush()
    return customer


def _reload(kit: CryptoKit, customer_id: object) -> Customer:
    kit.session.expunge_all()
    loaded = kit.session.get(Customer, customer_id)
    assert loaded is not None
    return loaded


def _raw(kit: CryptoKit, column: str, customer_id: object) -> Ciphertext:
    """The stored bytes, as an attacker with database access would read them."""
    statement = select(Customer.__table__.c[column]).where(Customer.__table__.c.id == customer_id)
    return Ciphertext(kit.session.connection().execute(statement).scalar_one())


def test_fields_when_written_and_reloaded_then_plaintext_returned(kit: CryptoKit) -> None:
    customer = _customer(kit, tax_id=SSN, account_number=ACCOUNT, passport_scan=b"\x89PNG...")
    assert customer.email == EMAIL
    loaded = _reload(kit, customer.id)
    assert (loaded.email, loaded.tax_id, loaded.account_number) == (EMAIL, SSN, ACCOUNT)
    assert loaded.passport_scan == b"\x89PNG..."


def test_fields_when_stored_then_only_ciphertext_under_the_class_key(kit: CryptoKit) -> None:
    customer = _customer(kit, tax_id=SSN, account_number=ACCOUNT)
    stored = _raw(kit, "tax_id", customer.id)
    assert SSN.encode() not in stored
    assert ciphertext_key_id(stored) == kit.keyring.primary_key_id(DataClass.TAX_ID)
    assert ciphertext_key_id(_raw(kit, "account_number", customer.id)) == (
        kit.keyring.primary_key_id(DataClass.ACCOUNT_NUMBER)
    )


def test_ciphertext_when_copied_to_another_row_then_does_not_decrypt(kit: CryptoKit) -> None:
    first = _customer(kit, tax_id=SSN)
    second = _customer(kit, email="bob@broker.test", tax_id="123-45-6789")
    table = Customer.__table__
    stolen = _raw(kit, "tax_id", first.id)
    kit.session.connection().execute(
        update(table).where(table.c.id == second.id).values(tax_id=stolen)
    )
    with pytest.raises(FieldDecryptionError, match=f"sample_customers.tax_id of row {second.id}"):
        _reload(kit, second.id)


def test_ciphertext_when_copied_to_another_column_then_does_not_decrypt(kit: CryptoKit) -> None:
    customer = _customer(kit, tax_id=SSN, account_number=ACCOUNT)
    table = Customer.__table__
    kit.session.connection().execute(
        update(table)
        .where(table.c.id == customer.id)
        .values(account_number=_raw(kit, "tax_id", customer.id))
    )
    with pytest.raises(FieldDecryptionError, match="account_number"):
        _reload(kit, customer.id)


@pytest.mark.parametrize("position", [0, 3, 10, -1])
def test_ciphertext_when_corrupted_then_clear_error_never_garbage(
    kit: CryptoKit, position: int
) -> None:
    customer = _customer(kit, account_number=ACCOUNT)
    damaged = bytearray(_raw(kit, "account_number", customer.id))
    damaged[position] ^= 0x01
    table = Customer.__table__
    kit.session.connection().execute(
        update(table).where(table.c.id == customer.id).values(account_number=Ciphertext(damaged))
    )
    with pytest.raises(FieldDecryptionError, match="does not decrypt"):
        _reload(kit, customer.id)


def test_column_type_when_plaintext_bypasses_orm_then_refused(kit: CryptoKit) -> None:
    statement = insert(Customer).values(id=Customer.id.default.arg(None), email="x@y.z")
    with pytest.raises(StatementError, match="refusing to store") as caught:
        kit.session.execute(statement)
    assert isinstance(caught.value.orig, FieldEncryptionError)


def test_field_when_wrong_python_type_then_refused(kit: CryptoKit) -> None:
    with pytest.raises(FieldEncryptionError, match="takes str"):
        _customer(kit, tax_id=123456789)


def test_blind_index_when_looking_up_then_finds_by_normalized_value(kit: CryptoKit) -> None:
    customer = _customer(kit, tax_id=SSN)
    _customer(kit, email="other@broker.test", tax_id="123-45-6789")
    wanted = kit.keyring.blind_index(DataClass.PII, "ALICE.EXAMPLE@BROKER.TEST".casefold())
    found = kit.session.scalars(select(Customer).where(Customer.email_index == wanted)).all()
    assert [row.id for row in found] == [customer.id]
    duplicate_ssn = kit.keyring.blind_index(DataClass.TAX_ID, "078051120")
    assert kit.session.scalars(
        select(Customer.id).where(Customer.tax_id_index == duplicate_ssn)
    ).all() == [customer.id]


def test_blind_index_when_classes_differ_then_keys_differ(kit: CryptoKit) -> None:
    value = "078051120"
    assert kit.keyring.blind_index(DataClass.TAX_ID, value) != kit.keyring.blind_index(
        DataClass.PII, value
    )
    assert len(kit.keyring.blind_index(DataClass.TAX_ID, value)) == 16


def test_update_when_field_changed_then_reencrypted_and_index_follows(kit: CryptoKit) -> None:
    customer = _customer(kit)
    customer.email = "new@broker.test"
    kit.session.flush()
    loaded = _reload(kit, customer.id)
    assert loaded.email == "new@broker.test"
    assert loaded.email_index == kit.keyring.blind_index(DataClass.PII, "new@broker.test")


def test_unchanged_row_when_other_column_updated_then_ciphertext_kept(kit: CryptoKit) -> None:
    customer = _customer(kit, tax_id=SSN)
    before = _raw(kit, "tax_id", customer.id)
    loaded = _reload(kit, customer.id)
    loaded.nickname = "al"
    kit.session.flush()
    assert _raw(kit, "tax_id", customer.id) == before


def test_shredding_when_subject_key_destroyed_then_their_data_erased_everywhere(
    kit: CryptoKit,
) -> None:
    alice = _customer(kit, tax_id=SSN)
    bob = _customer(kit, email="bob@broker.test")
    kit.session.add_all(
        [
            Note(customer_id=alice.id, text="called about margin"),
            Note(customer_id=bob.id, text="bob's note"),
        ]
    )
    kit.session.flush()
    shredded = kit.subjects.shred(kit.session, str(alice.id))
    assert shredded == [DataClass.PII]
    kit.session.expunge_all()
    rows = {note.customer_id: note.text for note in kit.session.scalars(select(Note))}
    assert rows == {alice.id: ERASED, bob.id: "bob's note"}
    alice_again = kit.session.get(Customer, alice.id)
    assert alice_again is not None
    assert alice_again.email == ERASED
    assert alice_again.tax_id == SSN
    assert kit.session.get(Customer, bob.id).email == "bob@broker.test"
    assert (
        "key.subject.shredded",
        {"subject_id": str(alice.id), "data_classes": ["pii"]},
    ) in kit.events.events


def test_shredded_subject_when_written_again_then_refused(kit: CryptoKit) -> None:
    alice = _customer(kit)
    kit.subjects.shred(kit.session, str(alice.id))
    kit.session.add(Note(customer_id=alice.id, text="new"))
    with pytest.raises(SubjectErasedError, match="erased"):
        kit.session.flush()


def test_field_context_when_built_then_names_table_column_row() -> None:
    assert field_context("t", "c", "r") == b"tradeguard/field/v1|t|c|r"


def test_raw_storage_when_scanned_then_no_plaintext_anywhere(kit: CryptoKit) -> None:
    customer = _customer(kit, tax_id=SSN, account_number=ACCOUNT, passport_scan=b"PASSPORT-XY123")
    kit.session.add(Note(customer_id=customer.id, text="lives at 12 Elm Street"))
    kit.session.flush()
    dump = kit.session.connection().execute(text("SELECT * FROM sample_customers")).all()
    dump += kit.session.connection().execute(text("SELECT * FROM sample_notes")).all()
    blob = b"".join(
        value if isinstance(value, bytes) else str(value).encode() for row in dump for value in row
    )
    for secret in (EMAIL, SSN, "078051120", ACCOUNT, "PASSPORT-XY123", "12 Elm Street"):
        assert secret.encode() not in blob


def test_ciphertext_when_key_id_unknown_then_error_names_field_and_key(kit: CryptoKit) -> None:
    customer = _customer(kit, account_number=ACCOUNT)
    stored = bytearray(_raw(kit, "account_number", customer.id))
    stored[1:5] = (0x7FFF_FFFF).to_bytes(4, "big")
    table = Customer.__table__
    kit.session.connection().execute(
        update(table).where(table.c.id == customer.id).values(account_number=Ciphertext(stored))
    )
    with pytest.raises(FieldDecryptionError, match=r"account_number of row .* \(key 2147483647\)"):
        _reload(kit, customer.id)
