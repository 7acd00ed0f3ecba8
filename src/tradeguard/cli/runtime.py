"""What commands that touch keys and data need: settings, engine, crypto, sessions."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.config import Settings, load_settings
from tradeguard.core.clock import Clock, SystemClock
from tradeguard.crypto.runtime import Crypto, load_keys
from tradeguard.db.engine import build_engine
from tradeguard.db.migrate import require_current
from tradeguard.wiring import build_core


@dataclass(frozen=True, slots=True)
class CommandRuntime:
    """The collaborators of one command run."""

    settings: Settings
    clock: Clock
    engine: Engine
    crypto: Crypto
    sessions: sessionmaker[Session]
    audit: AuditTrail


@contextmanager
def command_runtime() -> Iterator[CommandRuntime]:
    """Open the configured database and load the keyring; refuses an unmigrated database."""
    settings, clock = load_settings(), SystemClock()
    engine = build_engine(settings.effective_database_url)
    try:
        core = build_core(settings, clock, engine)  # reads the KEK; touches no database yet
        require_current(engine)
        with core.sessions() as session:
            load_keys(core.crypto, session)
        yield CommandRuntime(settings, clock, engine, core.crypto, core.sessions, core.audit)
    finally:
        engine.dispose()


def operator() -> Actor:
    """The person running the command, as the audit trail names them."""
    return Actor("staff", f"cli:{getpass.getuser()}")
