"""Builds the audit trail from settings and routes key events into it."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.checkpoints import Witness
from tradeguard.audit.recorder import AuditTrail, CheckpointPolicy
from tradeguard.audit.records import Actor
from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.crypto.events import LogKeyEventRecorder
from tradeguard.crypto.runtime import Crypto
from tradeguard.db.session import transaction

SUBJECT_FIELDS = ("keyset", "key_id", "subject_id", "backup_id")


class AuditKeyEvents:
    """Key events as audit events; logs them until the trail is attached."""

    def __init__(self) -> None:
        self._trail: AuditTrail | None = None
        self._sessions: sessionmaker[Session] | None = None
        self._fallback = LogKeyEventRecorder()

    def attach(self, trail: AuditTrail, sessions: sessionmaker[Session]) -> None:
        """From now on, record into ``trail``."""
        self._trail, self._sessions = trail, sessions

    def record(
        self, event_type: str, data: Mapping[str, object], session: Session | None = None
    ) -> None:
        """Record in the caller's transaction, or in a transaction of its own."""
        if self._trail is None or self._sessions is None:
            self._fallback.record(event_type, data, session)
            return
        if session is not None:
            self._record(self._trail, session, event_type, data)
            return
        with transaction(self._sessions) as own:
            self._record(self._trail, own, event_type, data)

    @staticmethod
    def _record(
        trail: AuditTrail, session: Session, event_type: str, data: Mapping[str, object]
    ) -> None:
        subject = next((f"{name}:{data[name]}" for name in SUBJECT_FIELDS if name in data), None)
        trail.record(session, event_type, Actor.system("keys"), subject, _jsonable(data))


def _jsonable(data: Mapping[str, object]) -> dict[str, object]:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in data.items()}


def build_audit_trail(settings: Settings, clock: Clock, crypto: Crypto) -> AuditTrail:
    """The audit trail with the configured witness and checkpoint policy."""
    policy = CheckpointPolicy(settings.audit_checkpoint_events, settings.audit_checkpoint_seconds)
    witness = Witness(settings.effective_witness_file)
    return AuditTrail(clock, crypto.subjects, crypto.signing, witness, policy)
