"""Access tokens: verify (token seen before, and first sight) and issue (issue: identity)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import jwt
from sqlalchemy.orm import Session, sessionmaker

from measure import Measurement, microseconds_per_call
from tradeguard.core.clock import NS_PER_SECOND, SystemClock
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.crypto.signing import SigningKeyManager, SigningPurpose
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine
from tradeguard.db.session import session_factory, transaction
from tradeguard.identity.tokens import TokenIssuer, TokenSettings, TokenVerifier

SETTINGS = TokenSettings(issuer="https://tradeguard.example", audience="tradeguard-api")
FIRST_SIGHT_CALLS = 400
ROUNDS = 5
CLAIMS = {
    "sub": "0190f3e2-7c1a-7000-8000-000000000001",
    "sid": "0190f3e2-7c1a-7000-8000-000000000002",
    "role": "trader",
    "permissions": ("orders:place", "orders:cancel", "positions:read", "quotes:read"),
    "amr": ("pwd", "otp", "mfa"),
    "enrollment_only": False,
    "pv": 3,
}


def _issue_many(issuer: TokenIssuer, session: Session, count: int) -> list[str]:
    clock = SystemClock()
    auth_time = clock.now_ns() // NS_PER_SECOND
    return [
        issuer.issue(session, auth_time=auth_time, **CLAIMS)[0]  # type: ignore[arg-type]
        for _ in range(count)
    ]


def _first_sight_us(verify: Callable[[str], object], tokens: list[str]) -> float:
    unseen: Iterator[str] = iter(tokens)
    return microseconds_per_call(lambda: verify(next(unseen)), calls=FIRST_SIGHT_CALLS)


def _pyjwt_decoder(
    signing: SigningKeyManager, sessions: sessionmaker[Session]
) -> Callable[[str], object]:
    with transaction(sessions) as session:
        [published] = signing.jwks(session, SigningPurpose.TOKEN)["keys"]
    key = jwt.PyJWK(published).key

    def decode(token: str) -> object:
        return jwt.decode(
            token, key, algorithms=["EdDSA"], audience=SETTINGS.audience, issuer=SETTINGS.issuer
        )

    return decode


def _measure(signing: SigningKeyManager, sessions: sessionmaker[Session]) -> list[Measurement]:
    clock = SystemClock()
    issuer = TokenIssuer(signing, clock, SETTINGS)
    verifier = TokenVerifier(signing, sessions, clock, SETTINGS)
    with transaction(sessions) as session:
        token = _issue_many(issuer, session, 1)[0]
        issue_us = microseconds_per_call(
            lambda: issuer.issue(session, auth_time=0, **CLAIMS),  # type: ignore[arg-type]
            calls=1_000,
        )
        fresh = _issue_many(issuer, session, 2 * (FIRST_SIGHT_CALLS * ROUNDS + 1))
    verifier.verify(token)
    half = len(fresh) // 2
    return [
        Measurement(
            "token verify, token seen before (warm caches)",
            microseconds_per_call(lambda: verifier.verify(token), calls=100_000),
            "µs/op",
            100,
        ),
        Measurement(
            "token verify, first sight (Ed25519 check, keys cached)",
            _first_sight_us(verifier.verify, fresh[:half]),
            "µs/op",
        ),
        Measurement(
            "PyJWT jwt.decode, first sight (comparison)",
            _first_sight_us(_pyjwt_decoder(signing, sessions), fresh[half:]),
            "µs/op",
        ),
        Measurement("token issue (active key lookup + sign)", issue_us, "µs/op"),
    ]


def run() -> list[Measurement]:
    clock = SystemClock()
    with tempfile.TemporaryDirectory() as directory:
        engine = build_engine(f"sqlite:///{Path(directory) / 'tokens.db'}")
        migrate.upgrade(engine)
        kek = LocalKek(generate_master_key(clock, "development"))
        signing = SigningKeyManager(kek, clock, MemoryKeyEventRecorder())
        results = _measure(signing, session_factory(engine))
        engine.dispose()
    return results
