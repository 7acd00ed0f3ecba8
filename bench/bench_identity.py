"""The per-request identity check: token, claims and session state (issue: identity).

Measures ``principal.authenticate`` on a real application over SQLite: the signature
and claims of the access token, then the session's state from the per-process cache
(revocation still takes effect within a second: the cache lives one second), the idle
and allowlist checks. The clock stands still so no activity write happens.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

from starlette.requests import Request

from measure import Measurement, microseconds_per_call
from tradeguard.app import create_app
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.master_key import ensure_master_key
from tradeguard.crypto.runtime import build_crypto, provision_keys
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine
from tradeguard.db.session import session_factory, transaction
from tradeguard.identity.kit import Identity
from tradeguard.identity.models import AuthSession, User
from tradeguard.identity.origin import Origin
from tradeguard.identity.principal import authenticate
from tradeguard.notify.notifier import MemorySender, Notifier

START = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
CLIENT = ("203.0.113.7", 50000)


def _request(token: str) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/v1/me",
        "headers": [(b"authorization", f"Bearer {token}".encode())],
        "client": CLIENT,
        "state": {},
    }
    return Request(scope)


def _user(identity: Identity) -> User:
    with transaction(identity.sessions_factory) as db:
        user = User(
            id="0190f3e2-7c1a-7000-8000-000000000001",
            username="bench",
            email="bench@example.com",
            password_hash="!",  # noqa: S106 - no password: the bench never signs in
            password_changed_at_ns=0,
            role="TRADER",
            status="active",
            permission_version=1,
            created_at_ns=0,
        )
        db.add(user)
    return user


def _sessions(identity: Identity, user: User, count: int) -> list[str]:
    """The first access token of ``count`` new sessions."""
    origin = Origin(ip=CLIENT[0], user_agent="bench", accept_language="en", request_id=None)
    with transaction(identity.sessions_factory) as db:
        return [
            identity.sessions.start(
                db, user, origin, amr=("pwd", "otp", "mfa"), device_id=None, strong=True
            ).access_token
            for _ in range(count)
        ]


def _reissued(identity: Identity, user: User, token: str, count: int) -> list[str]:
    """``count`` more access tokens of the session ``token`` belongs to."""
    session_id = identity.verifier.verify(token).sid
    with transaction(identity.sessions_factory) as db:
        row = db.get(AuthSession, session_id)
        assert row is not None
        return [identity.sessions.reissue(db, row, user).access_token for _ in range(count)]


def _measure(identity: Identity) -> list[Measurement]:
    user = _user(identity)
    warm, *new_sessions = _sessions(identity, user, 2_100)
    unseen_sessions = iter(new_sessions)
    unseen_tokens = iter(_reissued(identity, user, warm, 2_100))
    return [
        Measurement(
            "request check: token + claims + session (warm caches)",
            microseconds_per_call(lambda: authenticate(identity, _request(warm)), calls=20_000),
            "µs/request",
            100,
        ),
        Measurement(
            "request check: token first seen (Ed25519), session cached",
            microseconds_per_call(
                lambda: authenticate(identity, _request(next(unseen_tokens))), calls=400
            ),
            "µs/request",
        ),
        Measurement(
            "request check: token and session first seen (one DB read)",
            microseconds_per_call(
                lambda: authenticate(identity, _request(next(unseen_sessions))), calls=400
            ),
            "µs/request",
        ),
    ]


def run() -> list[Measurement]:
    clock = FixedClock(START)
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(_env_file=None, var_dir=Path(directory))  # type: ignore[call-arg]
        ensure_master_key(settings.effective_master_key_file, clock, settings.env)
        engine = build_engine(settings.effective_database_url)
        migrate.upgrade(engine)
        crypto = build_crypto(settings, clock, MemoryKeyEventRecorder())
        with session_factory(engine).begin() as session:
            provision_keys(crypto, session)
        memory = MemorySender()
        app = create_app(settings, clock=clock, engine=engine, notifier=Notifier(memory, memory))
        results = _measure(app.state.identity)
        engine.dispose()
    return results
