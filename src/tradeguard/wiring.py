"""The collaborators every entry point shares: crypto, sessions and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.wiring import AuditKeyEvents, build_audit_trail
from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.crypto.fields import FIELD_CRYPTO_KEY
from tradeguard.crypto.runtime import Crypto, build_crypto
from tradeguard.db.session import session_factory


@dataclass(frozen=True, slots=True)
class Core:
    """Crypto, a session factory with field encryption, and the audit trail."""

    crypto: Crypto
    sessions: sessionmaker[Session]
    audit: AuditTrail


def build_core(settings: Settings, clock: Clock, engine: Engine) -> Core:
    """Wire crypto and audit together; key events are audited from here on."""
    events = AuditKeyEvents()
    crypto = build_crypto(settings, clock, events)
    sessions = session_factory(engine, {FIELD_CRYPTO_KEY: crypto.field_crypto})
    audit = build_audit_trail(settings, clock, crypto)
    events.attach(audit, sessions)
    return Core(crypto, sessions, audit)
