"""Signing keys: wrapped at rest, one active per purpose, rotation, JWKS, RFC 8032."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tradeguard.core.clock import FixedClock
from tradeguard.crypto import signing
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.kek import LocalKek, UnwrapError
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.crypto.models import SigningKeyRecord
from tradeguard.crypto.signing import (
    NoActiveSigningKeyError,
    PublicSigningKey,
    RetiredSigningKeyError,
    SigningKey,
    SigningKeyError,
    SigningKeyManager,
    SigningKeyUnwrapError,
    SigningPurpose,
    UnknownSigningKeyError,
)

AUDIT = SigningPurpose.AUDIT
TOKEN = SigningPurpose.TOKEN

# RFC 8032 section 7.1, TEST 1 (empty message).
RFC8032_SECRET = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC8032_SIGNATURE = bytes.fromhex(
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


@pytest.fixture
def kek(clock: FixedClock) -> LocalKek:
    return LocalKek(generate_master_key(clock, "development"))


@pytest.fixture
def events() -> MemoryKeyEventRecorder:
    return MemoryKeyEventRecorder()


@pytest.fixture
def manager(kek: LocalKek, clock: FixedClock, events: MemoryKeyEventRecorder) -> SigningKeyManager:
    return SigningKeyManager(kek, clock, events)


def _record(session: Session, key_id: str) -> SigningKeyRecord:
    record = session.get(SigningKeyRecord, key_id)
    assert record is not None
    return record


def _raw_private(kek: LocalKek, record: SigningKeyRecord) -> bytes:
    associated = f"tradeguard/signing-key/v1|{record.key_id}|{record.purpose}".encode()
    return kek.unwrap(record.wrapped_private_key, associated)


def _x_of(jwk: dict[str, str]) -> bytes:
    return base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))


def test_signing_key_when_message_signed_then_its_public_key_verifies(
    db_session: Session, manager: SigningKeyManager
) -> None:
    key = manager.ensure_active(db_session, AUDIT)
    signature = key.sign(b"checkpoint 42")
    assert len(signature) == 64
    assert key.public_key.verify(b"checkpoint 42", signature)
    assert manager.public_key(db_session, key.key_id).verify(b"checkpoint 42", signature)


def test_verify_when_message_modified_then_false(
    db_session: Session, manager: SigningKeyManager
) -> None:
    key = manager.ensure_active(db_session, AUDIT)
    signature = key.sign(b"checkpoint 42")
    assert not key.public_key.verify(b"checkpoint 43", signature)
    assert not key.public_key.verify(b"", signature)


def test_verify_when_signed_by_another_key_then_false(
    db_session: Session, manager: SigningKeyManager
) -> None:
    audit_key = manager.ensure_active(db_session, AUDIT)
    token_key = manager.ensure_active(db_session, TOKEN)
    signature = token_key.sign(b"message")
    assert token_key.public_key.verify(b"message", signature)
    assert not audit_key.public_key.verify(b"message", signature)


@pytest.mark.parametrize(
    "damage",
    [
        lambda sig: sig[:-1],
        lambda sig: sig + b"\x00",
        lambda _sig: b"",
        lambda sig: bytes([sig[0] ^ 1]) + sig[1:],
        lambda _sig: b"\xff" * 64,
    ],
    ids=["short", "long", "empty", "bit-flipped", "junk"],
)
def test_verify_when_signature_malformed_then_false_without_raising(
    db_session: Session, manager: SigningKeyManager, damage: Callable[[bytes], bytes]
) -> None:
    key = manager.ensure_active(db_session, TOKEN)
    assert not key.public_key.verify(b"message", damage(key.sign(b"message")))


def test_stored_row_when_key_created_then_private_key_only_wrapped(
    db_session: Session, manager: SigningKeyManager, kek: LocalKek
) -> None:
    key = manager.ensure_active(db_session, AUDIT)
    record = _record(db_session, key.key_id)
    raw_private = _raw_private(kek, record)
    assert len(raw_private) == 32
    assert SigningKey._from_private_bytes("x", AUDIT, raw_private, 0).public_key.public_bytes == (
        key.public_key.public_bytes
    )
    table = SigningKeyRecord.__table__
    stored = db_session.execute(select(table).where(table.c.key_id == key.key_id)).one()
    assert stored.public_key == key.public_key.public_bytes
    assert stored.kek_id == kek.kek_id
    assert stored.algorithm == "Ed25519"
    assert raw_private not in stored.wrapped_private_key
    encodings = (raw_private.hex(), base64.b64encode(raw_private).decode())
    for value in stored:
        if isinstance(value, bytes):
            assert raw_private not in value
            assert not any(encoded.encode() in value for encoded in encodings)
        elif isinstance(value, str):
            assert not any(encoded in value for encoded in encodings)


def test_key_id_when_created_then_names_purpose_and_uuid7_and_fits_column(
    db_session: Session, manager: SigningKeyManager
) -> None:
    key = manager.ensure_active(db_session, TOKEN)
    match = re.fullmatch(r"sk-token-([0-9a-f-]{36})", key.key_id)
    assert match is not None
    assert uuid.UUID(match.group(1)).version == 7
    assert len(key.key_id) <= 64


def test_signing_key_repr_when_printed_then_no_private_material(
    db_session: Session, manager: SigningKeyManager, kek: LocalKek
) -> None:
    key = manager.ensure_active(db_session, AUDIT)
    raw_private = _raw_private(kek, _record(db_session, key.key_id))
    text = repr(key) + str(key) + repr(key._unwrapped)
    assert key.key_id in repr(key)
    assert raw_private.hex() not in text
    assert base64.b64encode(raw_private).decode() not in text


def test_rotate_when_key_active_then_new_active_and_old_retired_but_verifying(
    db_session: Session, manager: SigningKeyManager, clock: FixedClock
) -> None:
    old = manager.ensure_active(db_session, AUDIT)
    old_signature = old.sign(b"before rotation")
    clock.advance(seconds=60)
    new = manager.rotate(db_session, AUDIT)
    assert new.key_id != old.key_id
    assert manager.active(db_session, AUDIT).key_id == new.key_id
    old_public = manager.public_key(db_session, old.key_id)
    assert not old_public.active
    assert old_public.retired_at_ns == clock.now_ns()
    assert old_public.verify(b"before rotation", old_signature)
    assert not new.public_key.verify(b"before rotation", old_signature)
    by_id = {key.key_id: key for key in manager.public_keys(db_session, AUDIT)}
    assert set(by_id) == {old.key_id, new.key_id}
    assert by_id[new.key_id].active
    assert by_id[new.key_id].retired_at_ns is None


def test_rotate_when_old_handle_kept_then_it_refuses_to_sign(
    db_session: Session, manager: SigningKeyManager
) -> None:
    old = manager.ensure_active(db_session, AUDIT)
    again = manager.active(db_session, AUDIT)
    manager.rotate(db_session, AUDIT)
    for handle in (old, again):
        with pytest.raises(RetiredSigningKeyError, match=old.key_id):
            handle.sign(b"after rotation")
    assert old.key_id not in manager._cache


def test_rotate_when_repeated_then_exactly_one_active_key(
    db_session: Session, manager: SigningKeyManager
) -> None:
    manager.ensure_active(db_session, TOKEN)
    for _ in range(3):
        latest = manager.rotate(db_session, TOKEN)
    keys = manager.public_keys(db_session, TOKEN)
    assert len(keys) == 4
    assert [key.key_id for key in keys if key.active] == [latest.key_id]
    assert all(key.retired_at_ns is not None for key in keys if not key.active)


def test_jwks_when_rotated_then_lists_active_and_retired_keys_of_the_purpose(
    db_session: Session, manager: SigningKeyManager
) -> None:
    old = manager.ensure_active(db_session, TOKEN)
    new = manager.rotate(db_session, TOKEN)
    audit = manager.ensure_active(db_session, AUDIT)
    jwks = manager.jwks(db_session, TOKEN)
    by_kid = {jwk["kid"]: jwk for jwk in jwks["keys"]}
    assert set(by_kid) == {old.key_id, new.key_id}
    assert audit.key_id not in by_kid
    for key in (old, new):
        jwk = by_kid[key.key_id]
        assert jwk == {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": jwk["x"],
            "kid": key.key_id,
            "use": "sig",
            "alg": "EdDSA",
        }
        assert "=" not in jwk["x"]
        assert _x_of(jwk) == key.public_key.public_bytes


def test_ensure_active_when_called_twice_then_same_key_and_one_event(
    db_session: Session, manager: SigningKeyManager, events: MemoryKeyEventRecorder
) -> None:
    first = manager.ensure_active(db_session, AUDIT)
    second = manager.ensure_active(db_session, AUDIT)
    assert second.key_id == first.key_id
    assert len(manager.public_keys(db_session, AUDIT)) == 1
    assert [event_type for event_type, _ in events.events] == ["key.signing.created"]


def test_ensure_active_when_purposes_differ_then_independent_keys(
    db_session: Session, manager: SigningKeyManager
) -> None:
    audit = manager.ensure_active(db_session, AUDIT)
    token = manager.ensure_active(db_session, TOKEN)
    manager.rotate(db_session, TOKEN)
    assert audit.key_id.startswith("sk-audit-")
    assert token.key_id.startswith("sk-token-")
    assert manager.active(db_session, AUDIT).key_id == audit.key_id
    assert manager.active(db_session, TOKEN).key_id != token.key_id


def test_active_when_purpose_has_no_key_then_clear_error(
    db_session: Session, manager: SigningKeyManager
) -> None:
    with pytest.raises(NoActiveSigningKeyError, match="no active audit signing key"):
        manager.active(db_session, AUDIT)


def test_active_when_two_rows_are_active_then_refused(
    db_session: Session, manager: SigningKeyManager
) -> None:
    first = manager.ensure_active(db_session, AUDIT)
    second = manager.rotate(db_session, AUDIT)
    _record(db_session, first.key_id).active = True
    db_session.flush()
    with pytest.raises(SigningKeyError, match="2 active signing keys") as raised:
        manager.active(db_session, AUDIT)
    assert first.key_id in str(raised.value)
    assert second.key_id in str(raised.value)


def test_public_key_when_id_unknown_then_clear_error(
    db_session: Session, manager: SigningKeyManager
) -> None:
    manager.ensure_active(db_session, AUDIT)
    with pytest.raises(UnknownSigningKeyError, match="sk-audit-missing"):
        manager.public_key(db_session, "sk-audit-missing")


def test_public_key_when_id_belongs_to_another_purpose_then_unknown(
    db_session: Session, manager: SigningKeyManager
) -> None:
    audit = manager.ensure_active(db_session, AUDIT)
    assert manager.public_key(db_session, audit.key_id, purpose=AUDIT).key_id == audit.key_id
    with pytest.raises(UnknownSigningKeyError, match=audit.key_id):
        manager.public_key(db_session, audit.key_id, purpose=TOKEN)


def test_manager_when_restarted_then_stored_key_unwraps_and_signs(
    db_session: Session, manager: SigningKeyManager, kek: LocalKek, clock: FixedClock
) -> None:
    created = manager.ensure_active(db_session, AUDIT)
    restarted = SigningKeyManager(kek, clock, MemoryKeyEventRecorder())
    loaded = restarted.active(db_session, AUDIT)
    assert loaded.key_id == created.key_id
    assert created.public_key.verify(b"after restart", loaded.sign(b"after restart"))


def _flip_last_byte(session: Session, key_id: str, _other_id: str) -> None:
    record = _record(session, key_id)
    blob = record.wrapped_private_key
    record.wrapped_private_key = blob[:-1] + bytes([blob[-1] ^ 1])


def _swap_in_other_keys_blob(session: Session, key_id: str, other_id: str) -> None:
    record, other = _record(session, key_id), _record(session, other_id)
    record.wrapped_private_key = other.wrapped_private_key


def _swap_in_other_keys_public_key(session: Session, key_id: str, other_id: str) -> None:
    record, other = _record(session, key_id), _record(session, other_id)
    record.public_key = other.public_key


@pytest.mark.parametrize(
    "tamper",
    [_flip_last_byte, _swap_in_other_keys_blob, _swap_in_other_keys_public_key],
    ids=["flipped-byte", "other-keys-blob", "other-keys-public-key"],
)
def test_active_when_stored_key_tampered_then_unwrap_error_naming_the_key(
    db_session: Session,
    manager: SigningKeyManager,
    kek: LocalKek,
    clock: FixedClock,
    tamper: Callable[[Session, str, str], None],
) -> None:
    key = manager.ensure_active(db_session, AUDIT)
    other = manager.ensure_active(db_session, TOKEN)
    tamper(db_session, key.key_id, other.key_id)
    db_session.flush()
    fresh = SigningKeyManager(kek, clock, MemoryKeyEventRecorder())
    with pytest.raises(SigningKeyUnwrapError, match=re.escape(key.key_id)) as raised:
        fresh.active(db_session, AUDIT)
    assert isinstance(raised.value, UnwrapError)


def test_active_when_master_key_differs_then_unwrap_error_naming_key_and_keks(
    db_session: Session, manager: SigningKeyManager, kek: LocalKek, clock: FixedClock
) -> None:
    key = manager.ensure_active(db_session, TOKEN)
    other_kek = LocalKek(generate_master_key(clock, "development"))
    stranger = SigningKeyManager(other_kek, clock, MemoryKeyEventRecorder())
    with pytest.raises(SigningKeyUnwrapError, match=re.escape(key.key_id)) as raised:
        stranger.active(db_session, TOKEN)
    assert kek.kek_id in str(raised.value)
    assert other_kek.kek_id in str(raised.value)


def test_signing_key_when_rfc8032_test_1_then_standard_public_key_and_signature() -> None:
    key = SigningKey._from_private_bytes("sk-audit-rfc8032", AUDIT, RFC8032_SECRET, 0)
    assert key.public_key.public_bytes == RFC8032_PUBLIC
    assert key.sign(b"") == RFC8032_SIGNATURE
    published = PublicSigningKey(
        key_id="sk-audit-rfc8032",
        purpose=AUDIT,
        public_bytes=RFC8032_PUBLIC,
        created_at_ns=0,
        retired_at_ns=None,
        active=True,
    )
    assert published.verify(b"", RFC8032_SIGNATURE)
    assert not published.verify(b"\x00", RFC8032_SIGNATURE)


def test_public_signing_key_when_public_bytes_malformed_then_refused() -> None:
    with pytest.raises(SigningKeyError, match="sk-audit-bad has a malformed public key"):
        PublicSigningKey("sk-audit-bad", AUDIT, b"\x01" * 31, 0, None, active=True)


def test_events_when_created_and_rotated_then_ids_only_and_no_key_material(
    db_session: Session, manager: SigningKeyManager, events: MemoryKeyEventRecorder, kek: LocalKek
) -> None:
    first = manager.ensure_active(db_session, AUDIT)
    second = manager.rotate(db_session, AUDIT)
    assert events.events == [
        (
            "key.signing.created",
            {
                "key_id": first.key_id,
                "purpose": "audit",
                "algorithm": "Ed25519",
                "kek_id": kek.kek_id,
            },
        ),
        (
            "key.signing.rotated",
            {
                "purpose": "audit",
                "old_key_id": first.key_id,
                "new_key_id": second.key_id,
                "algorithm": "Ed25519",
                "kek_id": kek.kek_id,
            },
        ),
    ]
    text = repr(events.events)
    for key in (first, second):
        raw_private = _raw_private(kek, _record(db_session, key.key_id))
        assert raw_private.hex() not in text
        assert key.public_key.public_bytes.hex() not in text


def test_rotate_when_purpose_has_no_key_then_creates_first_and_records_created(
    db_session: Session, manager: SigningKeyManager, events: MemoryKeyEventRecorder
) -> None:
    key = manager.rotate(db_session, TOKEN)
    assert manager.active(db_session, TOKEN).key_id == key.key_id
    assert [(kind, data["key_id"]) for kind, data in events.events] == [
        ("key.signing.created", key.key_id)
    ]


def _advisory_lock_free(other: Connection, purpose: SigningPurpose) -> bool:
    statement = text("SELECT pg_try_advisory_xact_lock(:lock_key)")
    return bool(other.execute(statement, {"lock_key": signing._lock_key(purpose)}).scalar_one())


def _sqlite_write_lock_free(other: Connection) -> bool:
    other.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        other.execute(update(SigningKeyRecord).values(active=SigningKeyRecord.active))
    except OperationalError as exc:
        return "database is locked" not in str(exc)
    return True


def _assert_only_purpose_locked(database, purpose: SigningPurpose, free: SigningPurpose) -> None:
    with database.engine.connect() as other:
        if database.backend == "postgresql":
            assert not _advisory_lock_free(other, purpose)
            assert _advisory_lock_free(other, free)
        else:
            assert not _sqlite_write_lock_free(other)
        other.invalidate()


def test_lock_purpose_when_taken_then_other_transactions_cannot_create_keys(
    database, db_session: Session
) -> None:
    signing._lock_purpose(db_session, AUDIT)
    _assert_only_purpose_locked(database, AUDIT, free=TOKEN)


@pytest.mark.parametrize("operation", ["ensure_active", "rotate"])
def test_key_creation_when_transaction_open_then_purpose_stays_locked(
    database, db_session: Session, manager: SigningKeyManager, operation: str
) -> None:
    getattr(manager, operation)(db_session, TOKEN)
    _assert_only_purpose_locked(database, TOKEN, free=AUDIT)
