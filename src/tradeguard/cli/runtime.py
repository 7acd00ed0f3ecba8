"""What commands that touch keys and data need: settings, engine, crypto, sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.config import Settings, load_settings
from tradeguard.core.clock import Clock, SystemClock
from tradeguard.crypto.events import LogKeyEventRecorder
from tradeguard.crypto.fields import FIELD_CRYPTO_KEY
from tradeguard.crypto.runtime import Crypto, build_crypto, load_keys
from tradeguard.db.engine import build_engine
from tradeguard.db.migrate import require_current
from tradeguard.db.session import session_factory


@dataclass(frozen=True, slots=True)
class CommandRuntime:
    """The collaborators of one command run."""

    settings: Settings
    clock: Clock
    engine: Engine
    crypto: Crypto
    sessions: sessionmaker[Session]


@contextmanager
def command_runtime() -> Iterator[CommandRuntime]:
    """Open the configured database and load the keyring; refuses an unmigrated database."""
    settings, clock = load_settings(), SystemClock()
    crypto = build_crypto(settings, clock, LogKeyEventRecorder())
    engine = build_engine(settings.effective_database_url)
    try:
        require_current(engine)
        sessions = session_factory(engine, {FIELD_CRYPTO_KEY: crypto.field_crypto})
        with sessions() as session:
            load_keys(crypto, session)
        yield CommandRuntime(settings, clock, engine, crypto, sessions)
    finally:
        engine.dispose()
