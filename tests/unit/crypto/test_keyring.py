"""The keyring: keysets per class, wrapped storage, rotation, status, refresh, failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
import tink
from crypto_samples import CryptoKit
from sqlalchemy import select

from tradeguard.core.clock import FixedClock
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.keyring import (
    DataClass,
    Keyring,
    KeyringError,
    KeysetKind,
    blind_index_name,
    ciphertext_key_id,
    keyset_specs,
)
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.crypto.models import KeyVersion, StoredKeyset

REQUIRED_CLASSES = {
    "account_number",
    "tax_id",
    "bank_details",
    "pii",
    "documents",
    "audit_pii",
    "backup",
    "api_secret",
}


def test_keysets_when_ensured_then_one_per_class_with_distinct_keys(kit: CryptoKit) -> None:
    names = set(kit.session.scalars(select(StoredKeyset.name)))
    assert names >= REQUIRED_CLASSES
    primaries = [kit.keyring.primary_key_id(name) for name in REQUIRED_CLASSES]
    assert len(set(primaries)) == len(primaries)
    assert kit.keyring.ensure_keysets(kit.session) == []


def test_keysets_when_stored_then_wrapped_never_in_clear(kit: CryptoKit) -> None:
    row = kit.session.get(StoredKeyset, "tax_id")
    assert row is not None
    assert row.kek_id == kit.kek.kek_id
    assert b"type.googleapis.com" not in row.wrapped
    assert b"AesGcmKey" not in row.wrapped


def test_ciphertext_when_encrypted_then_names_its_key_id(kit: CryptoKit) -> None:
    sealed = kit.keyring.aead(DataClass.PII).encrypt(b"x", b"ad")
    assert ciphertext_key_id(sealed) == kit.keyring.primary_key_id("pii")


def test_classes_when_one_encrypts_then_another_cannot_decrypt(kit: CryptoKit) -> None:
    sealed = kit.keyring.aead(DataClass.TAX_ID).encrypt(b"078-05-1120", b"ad")
    with pytest.raises(tink.TinkError, match=r"(?i)decryption failed"):
        kit.keyring.aead(DataClass.BANK_DETAILS).decrypt(sealed, b"ad")


def test_rotation_when_done_then_new_primary_and_old_ciphertexts_still_open(
    kit: CryptoKit,
) -> None:
    old_primary = kit.keyring.primary_key_id("pii")
    before = kit.keyring.aead(DataClass.PII).encrypt(b"old", b"ad")
    new_primary = kit.keyring.rotate(kit.session, "pii")
    assert new_primary != old_primary
    assert kit.keyring.primary_key_id("pii") == new_primary
    after = kit.keyring.aead(DataClass.PII).encrypt(b"new", b"ad")
    assert ciphertext_key_id(after) == new_primary
    assert kit.keyring.aead(DataClass.PII).decrypt(before, b"ad") == b"old"
    assert set(kit.keyring.enabled_key_ids("pii")) == {old_primary, new_primary}
    assert (
        "key.rotated",
        {"keyset": "pii", "old_key_id": old_primary, "new_key_id": new_primary},
    ) in kit.events.events


def test_rotation_when_blind_index_keyset_then_refused(kit: CryptoKit) -> None:
    with pytest.raises(KeyringError, match="fixed"):
        kit.keyring.rotate(kit.session, blind_index_name(DataClass.PII))


def test_disable_when_old_key_disabled_then_its_ciphertexts_no_longer_open(kit: CryptoKit) -> None:
    old_primary = kit.keyring.primary_key_id("pii")
    before = kit.keyring.aead(DataClass.PII).encrypt(b"old", b"ad")
    kit.keyring.rotate(kit.session, "pii")
    assert kit.keyring.disable_keys(kit.session, "pii", [old_primary]) == [old_primary]
    with pytest.raises(tink.TinkError, match=r"(?i)decryption failed"):
        kit.keyring.aead(DataClass.PII).decrypt(before, b"ad")
    version = kit.session.get(KeyVersion, ("pii", old_primary))
    assert version is not None
    assert version.status == "disabled"


def test_disable_when_primary_requested_then_kept(kit: CryptoKit) -> None:
    primary = kit.keyring.primary_key_id("pii")
    assert kit.keyring.disable_keys(kit.session, "pii", [primary]) == []
    assert kit.keyring.primary_key_id("pii") == primary


def test_status_when_primary_older_than_period_then_overdue(
    kit: CryptoKit, clock: FixedClock
) -> None:
    assert not any(item.overdue for item in kit.keyring.status(kit.session))
    clock.advance(seconds=int(timedelta(days=91).total_seconds()))
    overdue = {item.name for item in kit.keyring.status(kit.session) if item.overdue}
    rotating = {spec.name for spec in keyset_specs() if spec.kind is not KeysetKind.BLIND_INDEX}
    assert overdue == rotating
    kit.keyring.rotate(kit.session, "pii")
    statuses = {item.name: item for item in kit.keyring.status(kit.session)}
    assert not statuses["pii"].overdue
    assert statuses["pii"].primary_age_days == 0
    assert len(statuses["pii"].keys_in_use) == 2


def test_second_node_when_keyset_rotated_elsewhere_then_refresh_picks_it_up(
    kit: CryptoKit, clock: FixedClock
) -> None:
    other = Keyring(kit.kek, clock, MemoryKeyEventRecorder())
    other.load(kit.session)
    new_primary = kit.keyring.rotate(kit.session, "tax_id")
    sealed = kit.keyring.aead(DataClass.TAX_ID).encrypt(b"v", b"ad")
    assert other.primary_key_id("tax_id") != new_primary
    assert other.refresh(kit.session.connection())
    assert other.primary_key_id("tax_id") == new_primary
    assert other.aead(DataClass.TAX_ID).decrypt(sealed, b"ad") == b"v"
    assert not other.refresh(kit.session.connection())


def test_load_when_master_key_differs_then_clear_error_naming_keyset(
    kit: CryptoKit, clock: FixedClock
) -> None:
    stranger = Keyring(
        LocalKek(generate_master_key(clock, "development")), clock, MemoryKeyEventRecorder()
    )
    with pytest.raises(KeyringError, match="does not open with key-encryption key"):
        stranger.load(kit.session)


def test_load_when_stored_keyset_tampered_then_refused(kit: CryptoKit, clock: FixedClock) -> None:
    row = kit.session.get(StoredKeyset, "pii")
    assert row is not None
    damaged = bytearray(row.wrapped)
    damaged[len(damaged) // 2] ^= 0xFF
    row.wrapped = bytes(damaged)
    kit.session.flush()
    fresh = Keyring(kit.kek, clock, MemoryKeyEventRecorder())
    with pytest.raises(KeyringError, match="keyset pii"):
        fresh.load(kit.session)


def test_self_test_when_healthy_then_no_failures(kit: CryptoKit) -> None:
    assert kit.keyring.self_test() == []


def test_ciphertext_key_id_when_not_tink_then_error() -> None:
    with pytest.raises(KeyringError):
        ciphertext_key_id(b"\x00abc")
