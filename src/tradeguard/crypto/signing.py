"""Ed25519 signing keys per purpose: one active key each, rotation, published public keys.

The audit trail signs its checkpoints and the token issuer signs JWTs (EdDSA with
``kid``) using the active key of their purpose. A private key is stored only wrapped
by the KEK, bound to its key id and purpose; the public key is stored raw and
published as a JWK set. Retired keys stay published, so signatures made before a
rotation keep verifying, but they never sign again.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import false, select, text, update
from sqlalchemy.orm import Session

from tradeguard.core.clock import Clock
from tradeguard.core.errors import TradeGuardError
from tradeguard.core.ids import new_id
from tradeguard.crypto.events import KeyEventRecorder
from tradeguard.crypto.kek import KeyEncryptionKey, UnwrapError
from tradeguard.crypto.models import SigningKeyRecord

ALGORITHM = "Ed25519"
JWS_ALGORITHM = "EdDSA"
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
ASSOCIATED_DATA_PREFIX = b"tradeguard/signing-key/v1"
EVENT_CREATED = "key.signing.created"
EVENT_ROTATED = "key.signing.rotated"


class SigningPurpose(StrEnum):
    """What a signing key signs; each purpose has its own keys and exactly one active key."""

    AUDIT = "audit"
    TOKEN = "token"  # noqa: S105 - a purpose name, not a credential


class SigningKeyError(TradeGuardError):
    """A signing key is missing, unknown, retired, inconsistent or cannot be opened."""


class NoActiveSigningKeyError(SigningKeyError):
    """A purpose has no active signing key yet."""


class UnknownSigningKeyError(SigningKeyError):
    """No signing key has the requested id (for the requested purpose)."""


class RetiredSigningKeyError(SigningKeyError):
    """A key rotated out was asked to sign; it may only verify."""


class SigningKeyUnwrapError(SigningKeyError, UnwrapError):
    """A stored private key does not open under the KEK, or opens to the wrong key."""


@dataclass(frozen=True, slots=True)
class PublicSigningKey:
    """The public half of a signing key as published: verifies signatures, renders a JWK."""

    key_id: str
    purpose: SigningPurpose
    public_bytes: bytes
    created_at_ns: int
    retired_at_ns: int | None
    active: bool

    def __post_init__(self) -> None:
        if len(self.public_bytes) != PUBLIC_KEY_BYTES:
            raise SigningKeyError(f"signing key {self.key_id} has a malformed public key")

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` is this key's Ed25519 signature of ``message``."""
        if len(signature) != SIGNATURE_BYTES:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_bytes).verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def to_jwk(self) -> dict[str, str]:
        """The RFC 8037 JWK of this key: OKP, Ed25519, for EdDSA signatures."""
        return {
            "kty": "OKP",
            "crv": ALGORITHM,
            "x": base64.urlsafe_b64encode(self.public_bytes).rstrip(b"=").decode("ascii"),
            "kid": self.key_id,
            "use": "sig",
            "alg": JWS_ALGORITHM,
        }


class _UnwrappedKey:
    """A private key opened in memory, shared by the handles of its key; retired on rotation."""

    __slots__ = ("private", "public_bytes", "retired")

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self.private = private
        self.public_bytes = private.public_key().public_bytes_raw()
        self.retired = False

    @classmethod
    def from_private_bytes(cls, private_bytes: bytes) -> _UnwrappedKey:
        """Load a raw 32-byte Ed25519 private key; ValueError when malformed."""
        return cls(Ed25519PrivateKey.from_private_bytes(private_bytes))

    def __repr__(self) -> str:
        return "_UnwrappedKey(<private>)"


class SigningKey:
    """The active key of a purpose: signs with Ed25519; its private half never leaves it."""

    __slots__ = ("_unwrapped", "public_key")

    def __init__(self, public_key: PublicSigningKey, unwrapped: _UnwrappedKey) -> None:
        self.public_key = public_key
        self._unwrapped = unwrapped

    @classmethod
    def _from_private_bytes(
        cls, key_id: str, purpose: SigningPurpose, private_bytes: bytes, created_at_ns: int
    ) -> SigningKey:
        """A handle on a known raw private key (test vectors); not stored anywhere."""
        unwrapped = _UnwrappedKey.from_private_bytes(private_bytes)
        public = PublicSigningKey(
            key_id=key_id,
            purpose=purpose,
            public_bytes=unwrapped.public_bytes,
            created_at_ns=created_at_ns,
            retired_at_ns=None,
            active=True,
        )
        return cls(public, unwrapped)

    @property
    def key_id(self) -> str:
        """The key's id, published as the JWK ``kid``."""
        return self.public_key.key_id

    @property
    def purpose(self) -> SigningPurpose:
        """What the key signs."""
        return self.public_key.purpose

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``; refused once the key is retired."""
        if self._unwrapped.retired:
            raise RetiredSigningKeyError(
                f"signing key {self.key_id} was rotated out; sign with the active key"
            )
        return self._unwrapped.private.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey(key_id={self.key_id!r}, purpose={self.purpose.value!r})"


class SigningKeyManager:
    """Creates, rotates and publishes the signing keys of each purpose.

    Methods take the caller's session and only flush; the caller commits. Unwrapped
    private keys are cached per key id; a key rotated out here is dropped from the
    cache and every handle on it refuses to sign. Fetch the key with ``active`` for
    each signing operation so rotations made by other processes are picked up.
    """

    def __init__(self, kek: KeyEncryptionKey, clock: Clock, events: KeyEventRecorder) -> None:
        self._kek = kek
        self._clock = clock
        self._events = events
        self._cache: dict[str, _UnwrappedKey] = {}
        self._cache_lock = threading.Lock()

    def ensure_active(self, session: Session, purpose: SigningPurpose) -> SigningKey:
        """The active key of ``purpose``, created (and recorded) when the purpose has none."""
        record = _active_record(session, purpose)
        if record is None:  # lock only to create, so the common call stays read-only
            _lock_purpose(session, purpose)
            record = _active_record(session, purpose)
        if record is not None:
            return self._signing_key(record)
        return self._create_first(session, purpose)

    def active(self, session: Session, purpose: SigningPurpose) -> SigningKey:
        """The active key of ``purpose``; NoActiveSigningKeyError when there is none."""
        record = _active_record(session, purpose)
        if record is None:
            raise NoActiveSigningKeyError(
                f"no active {purpose.value} signing key: create one with ensure_active or rotate"
            )
        return self._signing_key(record)

    def rotate(self, session: Session, purpose: SigningPurpose) -> SigningKey:
        """Make a new active key for ``purpose`` and retire the old one (kept to verify)."""
        _lock_purpose(session, purpose)
        old = _active_record(session, purpose)
        if old is None:
            return self._create_first(session, purpose)
        old.active = False
        old.retired_at_ns = self._clock.now_ns()
        new = self._create(session, purpose)
        self._retire_cached(old.key_id)
        self._events.record(
            EVENT_ROTATED,
            {
                "purpose": purpose.value,
                "old_key_id": old.key_id,
                "new_key_id": new.key_id,
                "algorithm": ALGORITHM,
                "kek_id": self._kek.kek_id,
            },
            session,
        )
        return new

    def public_keys(
        self, session: Session, purpose: SigningPurpose | None = None
    ) -> list[PublicSigningKey]:
        """Every key's public half (retired ones too), oldest first; optionally one purpose."""
        query = select(SigningKeyRecord).order_by(
            SigningKeyRecord.purpose, SigningKeyRecord.created_at_ns, SigningKeyRecord.key_id
        )
        if purpose is not None:
            query = query.where(SigningKeyRecord.purpose == purpose.value)
        return [_public_key_of(record) for record in session.scalars(query)]

    def public_key(
        self, session: Session, key_id: str, *, purpose: SigningPurpose | None = None
    ) -> PublicSigningKey:
        """The public half of ``key_id``; UnknownSigningKeyError if absent or of another purpose."""
        record = session.get(SigningKeyRecord, key_id)
        if record is None or (purpose is not None and record.purpose != purpose.value):
            scope = "" if purpose is None else f" {purpose.value}"
            raise UnknownSigningKeyError(f"unknown{scope} signing key {key_id[:80]!r}")
        return _public_key_of(record)

    def jwks(self, session: Session, purpose: SigningPurpose) -> dict[str, list[dict[str, str]]]:
        """The RFC 7517 JWK set of ``purpose``, retired keys included so old signatures verify."""
        return {"keys": [key.to_jwk() for key in self.public_keys(session, purpose)]}

    def _create_first(self, session: Session, purpose: SigningPurpose) -> SigningKey:
        key = self._create(session, purpose)
        self._events.record(
            EVENT_CREATED,
            {
                "key_id": key.key_id,
                "purpose": purpose.value,
                "algorithm": ALGORITHM,
                "kek_id": self._kek.kek_id,
            },
            session,
        )
        return key

    def _create(self, session: Session, purpose: SigningPurpose) -> SigningKey:
        key_id = f"sk-{purpose.value}-{new_id(self._clock)}"
        private = Ed25519PrivateKey.generate()
        record = SigningKeyRecord(
            key_id=key_id,
            purpose=purpose.value,
            algorithm=ALGORITHM,
            public_key=private.public_key().public_bytes_raw(),
            wrapped_private_key=self._kek.wrap(
                private.private_bytes_raw(), _associated_data(key_id, purpose.value)
            ),
            kek_id=self._kek.kek_id,
            created_at_ns=self._clock.now_ns(),
            retired_at_ns=None,
            active=True,
        )
        session.add(record)
        session.flush()
        # Open the stored form rather than keep the generated key: a KEK that cannot
        # unwrap what it wrapped fails here, before the key is committed and published.
        return self._signing_key(record)

    def _signing_key(self, record: SigningKeyRecord) -> SigningKey:
        public = _public_key_of(record)
        with self._cache_lock:
            cached = self._cache.get(record.key_id)
        if cached is None or cached.public_bytes != public.public_bytes:
            cached = self._remember(record.key_id, self._open(record))
        return SigningKey(public, cached)

    def _open(self, record: SigningKeyRecord) -> _UnwrappedKey:
        associated_data = _associated_data(record.key_id, record.purpose)
        try:
            raw = self._kek.unwrap(record.wrapped_private_key, associated_data)
            unwrapped = _UnwrappedKey.from_private_bytes(raw)
        except (UnwrapError, ValueError) as exc:
            raise SigningKeyUnwrapError(
                f"signing key {record.key_id} cannot be unwrapped with KEK {self._kek.kek_id}"
                f" (stored under KEK {record.kek_id}): {exc}"
            ) from exc
        if unwrapped.public_bytes != record.public_key:
            raise SigningKeyUnwrapError(
                f"signing key {record.key_id} unwraps to a private key that does not match"
                " its stored public key"
            )
        return unwrapped

    def _remember(self, key_id: str, opened: _UnwrappedKey) -> _UnwrappedKey:
        with self._cache_lock:
            cached = self._cache.get(key_id)
            # Keep the entry another thread cached first, so rotation retires every handle.
            if cached is None or cached.public_bytes != opened.public_bytes:
                self._cache[key_id] = cached = opened
            return cached

    def _retire_cached(self, key_id: str) -> None:
        with self._cache_lock:
            cached = self._cache.pop(key_id, None)
        if cached is not None:
            cached.retired = True


def _active_record(session: Session, purpose: SigningPurpose) -> SigningKeyRecord | None:
    """The purpose's active row; SigningKeyError when the table holds more than one."""
    query = select(SigningKeyRecord).where(
        SigningKeyRecord.purpose == purpose.value, SigningKeyRecord.active.is_(True)
    )
    records = session.scalars(query).all()
    if len(records) > 1:
        ids = ", ".join(sorted(record.key_id for record in records))
        raise SigningKeyError(f"{purpose.value} has {len(records)} active signing keys: {ids}")
    return records[0] if records else None


def _public_key_of(record: SigningKeyRecord) -> PublicSigningKey:
    """The published view of a row; SigningKeyError for a row this version cannot use."""
    if record.algorithm != ALGORITHM:
        raise SigningKeyError(f"signing key {record.key_id} has algorithm {record.algorithm!r}")
    try:
        purpose = SigningPurpose(record.purpose)
    except ValueError:
        raise SigningKeyError(
            f"signing key {record.key_id} has unknown purpose {record.purpose!r}"
        ) from None
    return PublicSigningKey(
        key_id=record.key_id,
        purpose=purpose,
        public_bytes=record.public_key,
        created_at_ns=record.created_at_ns,
        retired_at_ns=record.retired_at_ns,
        active=record.active,
    )


def _associated_data(key_id: str, purpose: str) -> bytes:
    """What a wrapped private key is bound to: format version, key id and purpose."""
    return b"|".join((ASSOCIATED_DATA_PREFIX, key_id.encode("ascii"), purpose.encode("ascii")))


def _lock_purpose(session: Session, purpose: SigningPurpose) -> None:
    """Serialize key creation for ``purpose`` until the caller's transaction ends.

    PostgreSQL takes a transaction-scoped advisory lock per purpose. SQLite has one
    writer: a no-op UPDATE takes the database write lock before the active key is read.
    """
    bind_arguments = {"mapper": SigningKeyRecord}
    if session.get_bind(SigningKeyRecord).dialect.name == "postgresql":
        statement = text("SELECT pg_advisory_xact_lock(:lock_key)")
        session.execute(statement, {"lock_key": _lock_key(purpose)}, bind_arguments=bind_arguments)
        return
    no_op = update(SigningKeyRecord).where(false()).values(active=SigningKeyRecord.active)
    session.execute(no_op, execution_options={"synchronize_session": False})


def _lock_key(purpose: SigningPurpose) -> int:
    """A stable signed 64-bit advisory lock key for the purpose."""
    digest = hashlib.blake2b(f"tradeguard/signing-key/{purpose.value}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)
