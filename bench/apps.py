"""A real application over a scratch SQLite database, and signed-in callers, for benchmarks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

from fastapi import FastAPI
from starlette.requests import Request

from tradeguard.app import create_app
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock, SystemClock
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.master_key import ensure_master_key
from tradeguard.crypto.runtime import build_crypto, provision_keys
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine
from tradeguard.db.session import session_factory, transaction
from tradeguard.identity.kit import Identity
from tradeguard.identity.models import User
from tradeguard.identity.origin import Origin
from tradeguard.notify.notifier import MemorySender, Notifier
from tradeguard.wiring import Core, build_core

START = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
CLIENT = ("203.0.113.7", 50000)
USER_ID = "0190f3e2-7c1a-7000-8000-000000000001"


@contextmanager
def scratch_app(**overrides: object) -> Iterator[FastAPI]:
    """The application on a fresh SQLite database with keys, its clock standing still."""
    clock = FixedClock(START)
    with TemporaryDirectory() as directory:
        settings = Settings(_env_file=None, var_dir=Path(directory), **overrides)  # type: ignore[call-arg]
        ensure_master_key(settings.effective_master_key_file, clock, settings.env)
        engine = build_engine(settings.effective_database_url)
        migrate.upgrade(engine)
        crypto = build_crypto(settings, clock, MemoryKeyEventRecorder())
        with session_factory(engine).begin() as session:
            provision_keys(crypto, session)
        memory = MemorySender()
        yield create_app(settings, clock=clock, engine=engine, notifier=Notifier(memory, memory))
        engine.dispose()


@contextmanager
def scratch_core() -> Iterator[tuple[Core, Settings]]:
    """Core services (sessions, audit trail, keys) on a fresh SQLite database, system clock."""
    clock = SystemClock()
    with TemporaryDirectory() as directory:
        settings = Settings(_env_file=None, var_dir=Path(directory))  # type: ignore[call-arg]
        ensure_master_key(settings.effective_master_key_file, clock, settings.env)
        engine = build_engine(settings.effective_database_url)
        migrate.upgrade(engine)
        core = build_core(settings, clock, engine)
        with transaction(core.sessions) as session:
            provision_keys(core.crypto, session)
        yield core, settings
        engine.dispose()


def request_with(token: str, path: str = "/v1/me", app: FastAPI | None = None) -> Request:
    """A request carrying ``token`` as its bearer credential (to ``app``, when given)."""
    scope: dict[str, object] = {
        "app": app,
        "type": "http",
        "method": "GET",
        "path": path,
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "client": CLIENT,
        "state": {},
        "path_params": {},
    }
    return Request(scope)


def add_user(identity: Identity, role: str = "TRADER") -> User:
    """A user who never signs in with a password (sessions are opened directly)."""
    with transaction(identity.sessions_factory) as db:
        user = User(
            id=USER_ID,
            username="bench",
            email="bench@example.com",
            password_hash="!",  # noqa: S106 - no password: the bench never signs in
            password_changed_at_ns=0,
            role=role,
            status="active",
            permission_version=1,
            created_at_ns=0,
        )
        db.add(user)
    return user


def new_sessions(identity: Identity, user: User, count: int) -> list[str]:
    """The first access token of ``count`` new sessions of ``user``."""
    origin = Origin(ip=CLIENT[0], user_agent="bench", accept_language="en", request_id=None)
    with transaction(identity.sessions_factory) as db:
        return [
            identity.sessions.start(
                db, user, origin, amr=("pwd", "otp", "mfa"), device_id=None, strong=True
            ).access_token
            for _ in range(count)
        ]
