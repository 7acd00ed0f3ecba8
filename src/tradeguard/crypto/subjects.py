"""Per-subject keys: each person's personal data under a key of their own.

Destroying a subject's key (crypto-shredding) makes every value encrypted under
it unreadable wherever it is stored, while the rows themselves remain. Subject
keysets are wrapped by their data class's key, so class rotation re-wraps them.
The wrapped keyset is read from the database on every use (a primary-key lookup
in the caller's transaction), so a shred or a rollback takes effect at once on
every node; only the unwrapping of a given wrapped blob is cached.
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

import tink
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from tink import aead, proto_keyset_format, secret_key_access

from tradeguard.core.clock import Clock
from tradeguard.core.errors import TradeGuardError
from tradeguard.crypto.events import KeyEventRecorder
from tradeguard.crypto.keyring import DataClass, Keyring
from tradeguard.crypto.models import SubjectKey

UNWRAPPED_CACHE_SIZE = 10_000


class SubjectErasedError(TradeGuardError):
    """The subject's key was destroyed: their data can no longer be written or read."""


def subject_key_context(subject_id: str, data_class: DataClass) -> bytes:
    """Associated data binding a wrapped subject keyset to its subject and class."""
    return f"tradeguard/subject-key/v1|{subject_id}|{data_class.value}".encode()


class SubjectKeys:
    """Creates, opens and destroys per-subject keysets."""

    def __init__(self, keyring: Keyring, clock: Clock, events: KeyEventRecorder) -> None:
        self._keyring = keyring
        self._clock = clock
        self._events = events
        self._unwrapped: OrderedDict[bytes, aead.Aead] = OrderedDict()
        self._lock = Lock()

    def for_writing(self, session: Session, subject_id: str, data_class: DataClass) -> aead.Aead:
        """The subject's AEAD, created on first use; refuses a shredded subject."""
        primitive = self.for_reading(session, subject_id, data_class)
        if primitive is not None:
            return primitive
        if self._is_destroyed(session, subject_id, data_class):
            raise SubjectErasedError(f"subject {subject_id} was erased; {data_class} not writable")
        return self._create(session, subject_id, data_class)

    def for_reading(
        self, session: Session, subject_id: str, data_class: DataClass
    ) -> aead.Aead | None:
        """The subject's AEAD, or None if they have no key or it was destroyed."""
        wrapped = (
            session.connection()
            .execute(
                select(SubjectKey.wrapped).where(
                    SubjectKey.subject_id == subject_id, SubjectKey.data_class == data_class.value
                )
            )
            .scalar_one_or_none()
        )
        if wrapped is None:
            return None
        return self._open(wrapped, subject_id, data_class)

    def shred(self, session: Session, subject_id: str) -> list[DataClass]:
        """Destroy every key of the subject; returns the classes whose keys were destroyed."""
        connection = session.connection()
        rows = connection.execute(
            select(SubjectKey.data_class).where(
                SubjectKey.subject_id == subject_id, SubjectKey.wrapped.is_not(None)
            )
        ).scalars()
        classes = [DataClass(value) for value in rows]
        connection.execute(
            update(SubjectKey)
            .where(SubjectKey.subject_id == subject_id)
            .values(wrapped=None, destroyed_at_ns=self._clock.now_ns())
        )
        self._events.record(
            "key.subject.shredded",
            {"subject_id": subject_id, "data_classes": [c.value for c in classes]},
            session,
        )
        return classes

    def _open(self, wrapped: bytes, subject_id: str, data_class: DataClass) -> aead.Aead:
        with self._lock:
            cached = self._unwrapped.get(wrapped)
            if cached is not None:
                self._unwrapped.move_to_end(wrapped)
                return cached
        raw = self._keyring.unwrap_key_material(
            data_class, wrapped, subject_key_context(subject_id, data_class)
        )
        primitive = proto_keyset_format.parse(raw, secret_key_access.TOKEN).primitive(aead.Aead)
        with self._lock:
            self._unwrapped[wrapped] = primitive
            while len(self._unwrapped) > UNWRAPPED_CACHE_SIZE:
                self._unwrapped.popitem(last=False)
        return primitive

    def _is_destroyed(self, session: Session, subject_id: str, data_class: DataClass) -> bool:
        destroyed = (
            session.connection()
            .execute(
                select(SubjectKey.destroyed_at_ns).where(
                    SubjectKey.subject_id == subject_id, SubjectKey.data_class == data_class.value
                )
            )
            .scalar_one_or_none()
        )
        return destroyed is not None

    def _create(self, session: Session, subject_id: str, data_class: DataClass) -> aead.Aead:
        handle = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM)
        raw = proto_keyset_format.serialize(handle, secret_key_access.TOKEN)
        wrapped = self._keyring.wrap_key_material(
            data_class, raw, subject_key_context(subject_id, data_class)
        )
        session.connection().execute(
            insert(SubjectKey).values(
                subject_id=subject_id,
                data_class=data_class.value,
                wrapped=wrapped,
                created_at_ns=self._clock.now_ns(),
                destroyed_at_ns=None,
            )
        )
        self._events.record(
            "key.subject.created",
            {"subject_id": subject_id, "data_class": data_class.value},
            session,
        )
        return handle.primitive(aead.Aead)
