"""Field-level encryption: the ``Encrypted(data_class)`` column type and the ORM hooks.

A model declares ``mapped_column(Encrypted(DataClass.TAX_ID))``. On flush the
plaintext is encrypted with associated data naming the table, column and row id
(so a ciphertext copied to another row or column does not decrypt); on load it
is decrypted. The column type itself refuses anything but ciphertext, so a
write that bypasses the ORM hooks fails instead of storing plaintext.

Options: ``subject="user_id"`` encrypts under that subject's own key (for
crypto-shredding); ``blind_index="email_index"`` also fills that column with a
blind index of the normalized value, for equality lookups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import tink
from sqlalchemy import Connection, LargeBinary, event, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapper, Session, object_session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeDecorator
from tink import aead

from tradeguard.core.errors import TradeGuardError
from tradeguard.crypto.keyring import DataClass, Keyring, KeyringError, ciphertext_key_id
from tradeguard.crypto.subjects import SubjectErasedError, SubjectKeys

FIELD_CRYPTO_KEY = "tradeguard.field_crypto"
_PLAINTEXTS_KEY = "tradeguard.plaintexts"
_ATTRIBUTES: WeakKeyDictionary[Mapper[Any], list[_EncryptedAttribute]] = WeakKeyDictionary()


class Ciphertext(bytes):
    """Bytes known to be a field ciphertext, exactly as stored."""

    __slots__ = ()


class ErasedValue(str):
    """Stands in for a value whose subject key was destroyed."""

    __slots__ = ()


ERASED = ErasedValue("[erased]")


class FieldEncryptionError(TradeGuardError):
    """A field could not be encrypted, or would have been stored in clear."""


class FieldDecryptionError(TradeGuardError):
    """A stored field does not decrypt: corrupted, moved, or under an unknown key."""


class Encrypted(TypeDecorator[bytes]):
    """Column type for a sensitive value, stored only as ciphertext of its data class."""

    impl = LargeBinary
    cache_ok = True

    def __init__(
        self,
        data_class: DataClass,
        *,
        subject: str | None = None,
        blind_index: str | None = None,
        normalize: Callable[[str], str] | None = None,
        binary: bool = False,
    ) -> None:
        super().__init__()
        self.data_class = data_class
        self.subject = subject
        self.blind_index = blind_index
        self.normalize = normalize
        self.binary = binary

    def process_bind_param(self, value: Any, dialect: Dialect) -> bytes | None:  # noqa: ANN401 - SQLAlchemy's signature
        """Pass ciphertext through; refuse anything else (it would be stored in clear)."""
        del dialect
        if value is None or isinstance(value, Ciphertext):
            return value
        raise FieldEncryptionError(
            f"refusing to store a {self.data_class} value that was not encrypted "
            "(write it through an ORM session opened with field encryption)"
        )

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> Ciphertext | None:
        """Mark stored bytes as ciphertext; the load hook decrypts them."""
        del dialect
        return None if value is None else Ciphertext(value)


@dataclass(frozen=True, slots=True)
class FieldCrypto:
    """What the hooks need: the keyring and the per-subject keys."""

    keyring: Keyring
    subjects: SubjectKeys


@dataclass(frozen=True, slots=True)
class _EncryptedAttribute:
    key: str
    table: str
    column: str
    spec: Encrypted

    def context(self, row_id: str) -> bytes:
        return field_context(self.table, self.column, row_id)


def install_field_encryption() -> None:
    """Register the ORM hooks for every mapper (idempotent)."""
    hooks: list[tuple[Any, str, Callable[..., None]]] = [
        (Mapper, "before_insert", _seal),
        (Mapper, "before_update", _seal),
        (Mapper, "after_insert", _restore),
        (Mapper, "after_update", _restore),
        (Mapper, "load", _open_on_load),
        (Mapper, "refresh", _open_on_refresh),
    ]
    for target, name, hook in hooks:
        if not event.contains(target, name, hook):
            event.listen(target, name, hook)


def encrypted_attributes(mapper: Mapper[Any]) -> list[_EncryptedAttribute]:
    """The encrypted columns of a mapped class (computed once per mapper)."""
    cached = _ATTRIBUTES.get(mapper)
    if cached is None:
        cached = [
            _EncryptedAttribute(prop.key, _table_name(mapper), column.name, column.type)
            for prop in mapper.column_attrs
            for column in prop.columns[:1]
            if isinstance(column.type, Encrypted)
        ]
        _ATTRIBUTES[mapper] = cached
    return cached


def _table_name(mapper: Mapper[Any]) -> str:
    return str(mapper.local_table.description)


def field_context(table: str, column: str, row_id: str) -> bytes:
    """Associated data of a field ciphertext (used by re-encryption too)."""
    return f"tradeguard/field/v1|{table}|{column}|{row_id}".encode()


# Write path ------------------------------------------------------------------


def _seal(mapper: Mapper[Any], connection: Connection, target: object) -> None:
    attributes = encrypted_attributes(mapper)
    if not attributes:
        return
    crypto = _crypto(object_session(target))
    crypto.keyring.refresh_if_due(connection)
    row_id = _row_id_for_write(mapper, target)
    state = inspect(target)
    plaintexts: dict[str, object] = {}
    for attribute in attributes:
        value = state.dict.get(attribute.key)
        if value is None or isinstance(value, Ciphertext):
            continue
        if not state.attrs[attribute.key].history.has_changes():
            continue
        if isinstance(value, ErasedValue):
            raise SubjectErasedError(f"{attribute.table}.{attribute.column} was erased")
        sealed = _encrypt(crypto, attribute, target=target, row_id=row_id, value=value)
        plaintexts[attribute.key] = value
        setattr(target, attribute.key, Ciphertext(sealed))
        _set_blind_index(crypto.keyring, attribute, target, value)
    state.info[_PLAINTEXTS_KEY] = plaintexts


def _restore(mapper: Mapper[Any], connection: Connection, target: object) -> None:
    del mapper, connection
    state = inspect(target)
    for key, plaintext in state.info.pop(_PLAINTEXTS_KEY, {}).items():
        set_committed_value(target, key, plaintext)


def _encrypt(
    crypto: FieldCrypto,
    attribute: _EncryptedAttribute,
    *,
    target: object,
    row_id: str,
    value: object,
) -> bytes:
    data = _to_bytes(attribute, value)
    primitive = _aead_for_write(crypto, attribute, target)
    sealed: bytes = primitive.encrypt(data, attribute.context(row_id))
    return sealed


def _aead_for_write(
    crypto: FieldCrypto, attribute: _EncryptedAttribute, target: object
) -> aead.Aead:
    spec = attribute.spec
    if spec.subject is None:
        return crypto.keyring.aead(spec.data_class)
    session = object_session(target)
    if session is None:
        raise FieldEncryptionError(f"{attribute.table} row is not attached to a session")
    return crypto.subjects.for_writing(session, _subject_of(target, attribute), spec.data_class)


def _set_blind_index(
    keyring: Keyring, attribute: _EncryptedAttribute, target: object, value: object
) -> None:
    spec = attribute.spec
    if spec.blind_index is None:
        return
    text = value if isinstance(value, str) else _to_bytes(attribute, value).hex()
    normalized = spec.normalize(text) if spec.normalize else text
    setattr(target, spec.blind_index, keyring.blind_index(spec.data_class, normalized))


def _to_bytes(attribute: _EncryptedAttribute, value: object) -> bytes:
    if attribute.spec.binary and isinstance(value, bytes):
        return value
    if not attribute.spec.binary and isinstance(value, str):
        return value.encode("utf-8")
    expected = "bytes" if attribute.spec.binary else "str"
    raise FieldEncryptionError(
        f"{attribute.table}.{attribute.column} takes {expected}, not {type(value).__name__}"
    )


def _row_id_for_write(mapper: Mapper[Any], target: object) -> str:
    parts = []
    for column in mapper.primary_key:
        key = mapper.get_property_by_column(column).key
        value = getattr(target, key)
        if value is None and column.default is not None and column.default.is_callable:
            value = column.default.arg(None)
            setattr(target, key, value)
        if value is None:
            raise FieldEncryptionError(
                f"{_table_name(mapper)} rows with encrypted fields need an id before flush"
            )
        parts.append(str(value))
    return "/".join(parts)


# Read path -------------------------------------------------------------------


def _open_on_load(target: object, context: Any) -> None:  # noqa: ANN401 - SQLAlchemy's QueryContext
    # ``Session.merge`` fires the load event without a query context; the object then
    # belongs to the session it was merged into.
    session = context.session if context is not None else object_session(target)
    if session is not None:
        _open(target, session, None)


def _open_on_refresh(target: object, context: Any, keys: Any) -> None:  # noqa: ANN401 - SQLAlchemy's signature
    _open(target, context.session, set(keys) if keys else None)


def _open(target: object, session: Session, only: set[str] | None) -> None:
    state = inspect(target)
    attributes = encrypted_attributes(state.mapper)
    pending = [
        attribute
        for attribute in attributes
        if isinstance(state.dict.get(attribute.key), Ciphertext)
        and (only is None or attribute.key in only)
    ]
    if not pending:
        return
    crypto = _crypto(session)
    row_id = "/".join(str(value) for value in state.mapper.primary_key_from_instance(target))
    for attribute in pending:
        stored = state.dict[attribute.key]
        value = _decrypt(crypto, session, attribute, target=target, row_id=row_id, stored=stored)
        set_committed_value(target, attribute.key, value)


def _decrypt(  # noqa: PLR0913 - the row, the column and the crypto all matter
    crypto: FieldCrypto,
    session: Session,
    attribute: _EncryptedAttribute,
    *,
    target: object,
    row_id: str,
    stored: bytes,
) -> object:
    spec = attribute.spec
    if spec.subject is not None:
        subject = _subject_of(target, attribute)
        primitive = crypto.subjects.for_reading(session, subject, spec.data_class)
        if primitive is None:
            return ERASED
        return _from_bytes(attribute, _open_with(primitive, attribute, row_id, stored))
    try:
        data = _open_with(crypto.keyring.aead(spec.data_class), attribute, row_id, stored)
    except FieldDecryptionError:
        if not crypto.keyring.refresh(session.connection()):
            raise
        data = _open_with(crypto.keyring.aead(spec.data_class), attribute, row_id, stored)
    return _from_bytes(attribute, data)


def _open_with(
    primitive: aead.Aead, attribute: _EncryptedAttribute, row_id: str, stored: bytes
) -> bytes:
    try:
        opened: bytes = primitive.decrypt(bytes(stored), attribute.context(row_id))
    except tink.TinkError:
        raise FieldDecryptionError(
            f"{attribute.table}.{attribute.column} of row {row_id} does not decrypt "
            f"(key {_key_id_text(stored)}): corrupted, copied from elsewhere, or key unavailable"
        ) from None
    return opened


def _key_id_text(stored: bytes) -> str:
    try:
        return str(ciphertext_key_id(stored))
    except KeyringError:
        return "unknown"


def _from_bytes(attribute: _EncryptedAttribute, data: bytes) -> object:
    return data if attribute.spec.binary else data.decode("utf-8")


def _subject_of(target: object, attribute: _EncryptedAttribute) -> str:
    subject = getattr(target, attribute.spec.subject or "")
    if subject is None:
        raise FieldEncryptionError(
            f"{attribute.table}.{attribute.column} needs {attribute.spec.subject} to be set"
        )
    return str(subject)


def _crypto(session: Session | None) -> FieldCrypto:
    crypto = None if session is None else session.info.get(FIELD_CRYPTO_KEY)
    if not isinstance(crypto, FieldCrypto):
        raise FieldEncryptionError("this session has no field encryption configured")
    return crypto
