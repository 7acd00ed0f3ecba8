"""The keyring: one Tink keyset per data class, stored wrapped by the key-encryption key.

Each data class (account numbers, tax ids, personal data, ...) has its own
AES-256-GCM keyset; ciphertexts carry Tink's 5-byte prefix naming the key id, so
old ciphertexts stay readable after rotation until the re-encryption job moves
them to the primary key. Classes that need equality lookups also get an
HMAC-SHA256 keyset for blind indexes. Keysets reach the database only wrapped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from threading import RLock

import tink
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session
from tink import aead as tink_aead
from tink import mac as tink_mac
from tink import proto_keyset_format, secret_key_access
from tink import streaming_aead as tink_streaming
from tink.proto import tink_pb2

from tradeguard.core.clock import NS_PER_SECOND, Clock
from tradeguard.core.errors import TradeGuardError
from tradeguard.crypto.events import KeyEventRecorder
from tradeguard.crypto.kek import KeyEncryptionKey, UnwrapError
from tradeguard.crypto.models import KeyVersion, StoredKeyset

tink_aead.register()
tink_mac.register()
tink_streaming.register()

BLIND_INDEX_BYTES = 16
TINK_PREFIX_BYTES = 5
NS_PER_DAY = 86_400 * NS_PER_SECOND
REFRESH_INTERVAL_NS = 30 * NS_PER_SECOND


class DataClass(StrEnum):
    """Kinds of sensitive data, each under keys of its own."""

    ACCOUNT_NUMBER = "account_number"
    TAX_ID = "tax_id"
    BANK_DETAILS = "bank_details"
    PII = "pii"
    DOCUMENTS = "documents"
    AUDIT_PII = "audit_pii"
    BACKUP = "backup"
    API_SECRET = "api_secret"  # noqa: S105 - the name of a data class, not a secret


class KeysetKind(StrEnum):
    """What a keyset's keys do."""

    AEAD = "aead"
    STREAMING_AEAD = "streaming_aead"
    BLIND_INDEX = "blind_index"


class KeyStatus(StrEnum):
    """Status of one key in a keyset."""

    PRIMARY = "primary"
    ENABLED = "enabled"
    DISABLED = "disabled"


STREAMING_CLASSES = frozenset({DataClass.BACKUP})
INDEXED_CLASSES = frozenset(
    {DataClass.ACCOUNT_NUMBER, DataClass.TAX_ID, DataClass.BANK_DETAILS, DataClass.PII}
)
TEMPLATES = {
    KeysetKind.AEAD: tink_aead.aead_key_templates.AES256_GCM,
    KeysetKind.STREAMING_AEAD: tink_streaming.streaming_aead_key_templates.AES256_GCM_HKDF_1MB,
    KeysetKind.BLIND_INDEX: tink_mac.mac_key_templates.HMAC_SHA256_256BITTAG,
}


class KeyringError(TradeGuardError):
    """A keyset is missing, damaged or asked to do something unsafe."""


@dataclass(frozen=True, slots=True)
class KeysetSpec:
    """A keyset the keyring keeps: its name, kind and data class."""

    name: str
    kind: KeysetKind
    data_class: DataClass

    @property
    def rotates(self) -> bool:
        """Blind-index keys stay fixed: rotating them would need every index recomputed."""
        return self.kind is not KeysetKind.BLIND_INDEX


def keyset_specs() -> list[KeysetSpec]:
    """Every keyset the keyring holds, in a stable order."""
    specs = []
    for data_class in DataClass:
        kind = KeysetKind.STREAMING_AEAD if data_class in STREAMING_CLASSES else KeysetKind.AEAD
        specs.append(KeysetSpec(data_class.value, kind, data_class))
        if data_class in INDEXED_CLASSES:
            specs.append(
                KeysetSpec(blind_index_name(data_class), KeysetKind.BLIND_INDEX, data_class)
            )
    return specs


def blind_index_name(data_class: DataClass) -> str:
    """The name of a class's blind-index keyset."""
    return f"{data_class.value}.blind_index"


def ciphertext_key_id(ciphertext: bytes) -> int:
    """The Tink key id named in a ciphertext's prefix."""
    if len(ciphertext) < TINK_PREFIX_BYTES or ciphertext[0] != 1:
        raise KeyringError("ciphertext has no Tink key prefix")
    return int.from_bytes(ciphertext[1:TINK_PREFIX_BYTES], "big")


@dataclass(frozen=True, slots=True)
class KeysetStatus:
    """What ``tradeguard keys status`` reports for one keyset."""

    name: str
    kind: KeysetKind
    primary_key_id: int
    primary_age_days: float
    keys_in_use: tuple[int, ...]
    rotation_due_ns: int | None
    overdue: bool


class _KekAead(tink_aead.Aead):  # type: ignore[misc]  # tink ships no type information
    """Presents the key-encryption key to Tink as the AEAD that wraps keysets."""

    def __init__(self, kek: KeyEncryptionKey) -> None:
        self._kek = kek

    def encrypt(self, plaintext: bytes, associated_data: bytes) -> bytes:
        return self._kek.wrap(plaintext, associated_data)

    def decrypt(self, ciphertext: bytes, associated_data: bytes) -> bytes:
        try:
            return self._kek.unwrap(ciphertext, associated_data)
        except UnwrapError as exc:
            raise tink.TinkError(str(exc)) from None


class Keyring:
    """Holds the unwrapped keysets in memory and manages them in the database."""

    def __init__(
        self,
        kek: KeyEncryptionKey,
        clock: Clock,
        events: KeyEventRecorder,
        rotation_period: timedelta = timedelta(days=90),
    ) -> None:
        self._kek_aead = _KekAead(kek)
        self._kek_id = kek.kek_id
        self._clock = clock
        self._events = events
        self._rotation_ns = int(rotation_period.total_seconds()) * NS_PER_SECOND
        self._lock = RLock()
        self._handles: dict[str, tink.KeysetHandle] = {}
        self._versions: dict[str, int] = {}
        self._primitives: dict[str, object] = {}
        self._checked_at_ns = clock.now_ns()

    # Loading -----------------------------------------------------------------

    def load(self, session: Session) -> None:
        """Read and unwrap every stored keyset; a missing or damaged one is an error."""
        rows = {row.name: row for row in session.scalars(select(StoredKeyset))}
        missing = [spec.name for spec in keyset_specs() if spec.name not in rows]
        if missing:
            raise KeyringError(f"keysets missing: {', '.join(missing)}; run `tradeguard init`")
        with self._lock:
            for row in rows.values():
                self._install(row.name, self._unwrap(row), row.version)

    def refresh(self, connection: Connection) -> bool:
        """Reload keysets another process changed; True if any was reloaded."""
        table = StoredKeyset.__table__
        rows = connection.execute(
            select(table.c.name, table.c.version, table.c.wrapped, table.c.kek_id)
        ).all()
        stale = [row for row in rows if self._versions.get(row.name) != row.version]
        for row in stale:
            handle = self._unwrap_blob(row.name, row.wrapped, row.kek_id)
            with self._lock:
                self._install(row.name, handle, row.version)
        return bool(stale)

    def refresh_if_due(self, connection: Connection) -> None:
        """Pick up another node's rotation within ``REFRESH_INTERVAL_NS`` of it happening."""
        now = self._clock.now_ns()
        if now - self._checked_at_ns < REFRESH_INTERVAL_NS:
            return
        self._checked_at_ns = now
        self.refresh(connection)

    def ensure_keysets(self, session: Session) -> list[str]:
        """Create every keyset that does not exist yet, then load all; returns created names."""
        existing = set(session.scalars(select(StoredKeyset.name)))
        created = []
        for spec in keyset_specs():
            if spec.name not in existing:
                self._create(session, spec)
                created.append(spec.name)
        self.load(session)
        return created

    # Use -----------------------------------------------------------------------

    def aead(self, data_class: DataClass) -> tink_aead.Aead:
        """The AEAD primitive of a data class (encrypts with the primary key)."""
        primitive = self._primitive(data_class.value)
        if not isinstance(primitive, tink_aead.Aead):
            raise KeyringError(f"{data_class} is not an AEAD class")
        return primitive

    def streaming_aead(self, data_class: DataClass) -> tink_streaming.StreamingAead:
        """The streaming AEAD primitive of a data class (backups)."""
        primitive = self._primitive(data_class.value)
        if not isinstance(primitive, tink_streaming.StreamingAead):
            raise KeyringError(f"{data_class} is not a streaming class")
        return primitive

    def blind_index(self, data_class: DataClass, value: str | bytes) -> bytes:
        """A truncated HMAC-SHA256 of ``value`` for equality lookups of encrypted data."""
        primitive = self._primitive(blind_index_name(data_class))
        if not isinstance(primitive, tink_mac.Mac):
            raise KeyringError(f"{data_class} has no blind index")
        data = value.encode("utf-8") if isinstance(value, str) else value
        tag: bytes = primitive.compute_mac(data)
        return tag[TINK_PREFIX_BYTES : TINK_PREFIX_BYTES + BLIND_INDEX_BYTES]

    def wrapped_keyset(self, session: Session, name: str) -> tuple[bytes, str]:
        """A keyset exactly as stored (wrapped) and the id of the KEK that wrapped it."""
        row = session.get(StoredKeyset, name)
        if row is None:
            raise KeyringError(f"no keyset named {name!r}")
        return row.wrapped, row.kek_id

    def streaming_aead_from_wrapped(
        self, name: str, wrapped: bytes, kek_id: str
    ) -> tink_streaming.StreamingAead:
        """Open a wrapped streaming keyset carried elsewhere (a backup's manifest)."""
        if _spec(name).kind is not KeysetKind.STREAMING_AEAD:
            raise KeyringError(f"{name} is not a streaming keyset")
        return self._unwrap_blob(name, wrapped, kek_id).primitive(tink_streaming.StreamingAead)

    def primary_key_id(self, name: str) -> int:
        """The primary key id of a keyset."""
        return int(self._handle(name).keyset_info().primary_key_id)

    def wrap_key_material(self, data_class: DataClass, secret: bytes, context: bytes) -> bytes:
        """Encrypt a smaller key (a subject's keyset) under the class's AEAD."""
        wrapped: bytes = self.aead(data_class).encrypt(secret, context)
        return wrapped

    def unwrap_key_material(self, data_class: DataClass, wrapped: bytes, context: bytes) -> bytes:
        """Decrypt a key wrapped by ``wrap_key_material``."""
        try:
            secret: bytes = self.aead(data_class).decrypt(wrapped, context)
        except tink.TinkError:
            raise KeyringError(f"a {data_class} key does not open: tampered or wrong key") from None
        return secret

    # Management ------------------------------------------------------------

    def rotate(self, session: Session, name: str) -> int:
        """Add a new key to a keyset and make it primary; returns its id."""
        spec = _spec(name)
        if not spec.rotates:
            raise KeyringError(f"{name} keys are fixed (rotating would orphan every index)")
        row = self._locked_row(session, name)
        keyset = _keyset_proto(self._unwrap(row))
        old_primary = keyset.primary_key_id
        new_key = _fresh_key(spec.kind, {key.key_id for key in keyset.key})
        keyset.key.append(new_key)
        keyset.primary_key_id = new_key.key_id
        self._store(session, row, keyset)
        self._upsert_version(session, name, old_primary, KeyStatus.ENABLED)
        self._upsert_version(session, name, new_key.key_id, KeyStatus.PRIMARY)
        self._events.record(
            "key.rotated",
            {"keyset": name, "old_key_id": old_primary, "new_key_id": new_key.key_id},
            session,
        )
        return int(new_key.key_id)

    def disable_keys(self, session: Session, name: str, key_ids: Iterable[int]) -> list[int]:
        """Disable non-primary keys (after re-encryption); returns the ids disabled."""
        row = self._locked_row(session, name)
        keyset = _keyset_proto(self._unwrap(row))
        wanted = set(key_ids) - {keyset.primary_key_id}
        disabled = [key.key_id for key in keyset.key if key.key_id in wanted and key.status == 1]
        if not disabled:
            return []
        for key in keyset.key:
            if key.key_id in disabled:
                key.status = tink_pb2.KeyStatusType.DISABLED
        self._store(session, row, keyset)
        for key_id in disabled:
            self._upsert_version(session, name, key_id, KeyStatus.DISABLED)
        self._events.record("key.disabled", {"keyset": name, "key_ids": disabled}, session)
        return disabled

    def self_test(self) -> list[str]:
        """Names of AEAD keysets that fail an encrypt/decrypt round trip (empty when healthy)."""
        return [
            spec.name
            for spec in keyset_specs()
            if spec.kind is KeysetKind.AEAD and not self._round_trips(spec.data_class)
        ]

    def _round_trips(self, data_class: DataClass) -> bool:
        probe = b"tradeguard self-test"
        try:
            primitive = self.aead(data_class)
            opened: bytes = primitive.decrypt(primitive.encrypt(probe, b"self-test"), b"self-test")
        except (tink.TinkError, KeyringError):
            return False
        return opened == probe

    def enabled_key_ids(self, name: str) -> list[int]:
        """Ids of the keys that can still decrypt."""
        info = self._handle(name).keyset_info()
        return [int(key.key_id) for key in info.key_info if key.status == 1]

    def status(self, session: Session) -> list[KeysetStatus]:
        """Rotation report for every keyset."""
        now = self._clock.now_ns()
        versions = session.scalars(select(KeyVersion)).all()
        created = {(v.keyset_name, v.key_id): v.created_at_ns for v in versions}
        return [self._status_of(spec, created, now) for spec in keyset_specs()]

    # Internals -------------------------------------------------------------

    def _status_of(
        self, spec: KeysetSpec, created: dict[tuple[str, int], int], now: int
    ) -> KeysetStatus:
        primary = self.primary_key_id(spec.name)
        born = created.get((spec.name, primary), now)
        due = born + self._rotation_ns if spec.rotates else None
        return KeysetStatus(
            name=spec.name,
            kind=spec.kind,
            primary_key_id=primary,
            primary_age_days=(now - born) / NS_PER_DAY,
            keys_in_use=tuple(self.enabled_key_ids(spec.name)),
            rotation_due_ns=due,
            overdue=due is not None and now >= due,
        )

    def _create(self, session: Session, spec: KeysetSpec) -> None:
        handle = tink.new_keyset_handle(TEMPLATES[spec.kind])
        now = self._clock.now_ns()
        row = StoredKeyset(
            name=spec.name,
            kind=spec.kind.value,
            wrapped=self._wrap(spec.name, handle),
            kek_id=self._kek_id,
            version=1,
            updated_at_ns=now,
        )
        session.add(row)
        session.flush()
        primary = int(handle.keyset_info().primary_key_id)
        self._upsert_version(session, spec.name, primary, KeyStatus.PRIMARY)
        self._events.record(
            "key.keyset.created",
            {"keyset": spec.name, "kind": spec.kind.value, "key_id": primary},
            session,
        )

    def _store(self, session: Session, row: StoredKeyset, keyset: tink_pb2.Keyset) -> None:
        handle = proto_keyset_format.parse(keyset.SerializeToString(), secret_key_access.TOKEN)
        row.wrapped = self._wrap(row.name, handle)
        row.kek_id = self._kek_id
        row.version += 1
        row.updated_at_ns = self._clock.now_ns()
        session.flush()
        with self._lock:
            self._install(row.name, handle, row.version)

    def _upsert_version(self, session: Session, name: str, key_id: int, status: KeyStatus) -> None:
        version = session.get(KeyVersion, (name, key_id))
        now = self._clock.now_ns()
        if version is None:
            version = KeyVersion(keyset_name=name, key_id=key_id, created_at_ns=now)
            session.add(version)
        version.status = status.value
        version.disabled_at_ns = now if status is KeyStatus.DISABLED else None
        session.flush()

    def _locked_row(self, session: Session, name: str) -> StoredKeyset:
        row = session.scalars(
            select(StoredKeyset).where(StoredKeyset.name == name).with_for_update()
        ).one_or_none()
        if row is None:
            raise KeyringError(f"no keyset named {name!r}")
        return row

    def _wrap(self, name: str, handle: tink.KeysetHandle) -> bytes:
        wrapped: bytes = proto_keyset_format.serialize_encrypted(
            handle, self._kek_aead, _context(name)
        )
        return wrapped

    def _unwrap(self, row: StoredKeyset) -> tink.KeysetHandle:
        return self._unwrap_blob(row.name, row.wrapped, row.kek_id)

    def _unwrap_blob(self, name: str, wrapped: bytes, kek_id: str) -> tink.KeysetHandle:
        try:
            return proto_keyset_format.parse_encrypted(wrapped, self._kek_aead, _context(name))
        except tink.TinkError:
            raise KeyringError(
                f"keyset {name} does not open with key-encryption key {self._kek_id} "
                f"(it was wrapped by {kek_id}); wrong master key or tampered row"
            ) from None

    def _install(self, name: str, handle: tink.KeysetHandle, version: int) -> None:
        self._handles[name] = handle
        self._versions[name] = version
        self._primitives[name] = handle.primitive(_primitive_class(_spec(name).kind))

    def _handle(self, name: str) -> tink.KeysetHandle:
        handle = self._handles.get(name)
        if handle is None:
            raise KeyringError(f"keyset {name} is not loaded")
        return handle

    def _primitive(self, name: str) -> object:
        primitive = self._primitives.get(name)
        if primitive is None:
            raise KeyringError(f"keyset {name} is not loaded")
        return primitive


def _context(name: str) -> bytes:
    return f"tradeguard/keyset/v1|{name}".encode()


def _spec(name: str) -> KeysetSpec:
    for spec in keyset_specs():
        if spec.name == name:
            return spec
    raise KeyringError(f"no keyset named {name!r}")


def _primitive_class(kind: KeysetKind) -> type:
    classes: dict[KeysetKind, type] = {
        KeysetKind.AEAD: tink_aead.Aead,
        KeysetKind.STREAMING_AEAD: tink_streaming.StreamingAead,
        KeysetKind.BLIND_INDEX: tink_mac.Mac,
    }
    return classes[kind]


def _keyset_proto(handle: tink.KeysetHandle) -> tink_pb2.Keyset:
    keyset = tink_pb2.Keyset()
    keyset.ParseFromString(proto_keyset_format.serialize(handle, secret_key_access.TOKEN))
    return keyset


def _fresh_key(kind: KeysetKind, taken: set[int]) -> tink_pb2.Keyset.Key:
    while True:
        key = _keyset_proto(tink.new_keyset_handle(TEMPLATES[kind])).key[0]
        if key.key_id not in taken:
            return key
