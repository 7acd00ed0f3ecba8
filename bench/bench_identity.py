"""The per-request identity check: token, claims and session state (issue: identity).

Measures ``principal.authenticate`` on a real application over SQLite: the signature
and claims of the access token, then the session's state from the per-process cache
(revocation still takes effect within a second: the cache lives one second), the idle
and allowlist checks. The clock stands still so no activity write happens.
"""

from __future__ import annotations

from apps import add_user, new_sessions, request_with, scratch_app
from measure import Measurement, microseconds_per_call
from tradeguard.db.session import transaction
from tradeguard.identity.kit import Identity
from tradeguard.identity.models import AuthSession, User
from tradeguard.identity.principal import authenticate


def _reissued(identity: Identity, user: User, token: str, count: int) -> list[str]:
    """``count`` more access tokens of the session ``token`` belongs to."""
    session_id = identity.verifier.verify(token).sid
    with transaction(identity.sessions_factory) as db:
        row = db.get(AuthSession, session_id)
        assert row is not None
        return [identity.sessions.reissue(db, row, user).access_token for _ in range(count)]


def _measure(identity: Identity) -> list[Measurement]:
    user = add_user(identity)
    warm, *others = new_sessions(identity, user, 2_100)
    unseen_sessions = iter(others)
    unseen_tokens = iter(_reissued(identity, user, warm, 2_100))
    return [
        Measurement(
            "request check: token + claims + session (warm caches)",
            microseconds_per_call(lambda: authenticate(identity, request_with(warm)), calls=20_000),
            "µs/request",
            100,
        ),
        Measurement(
            "request check: token first seen (Ed25519), session cached",
            microseconds_per_call(
                lambda: authenticate(identity, request_with(next(unseen_tokens))), calls=400
            ),
            "µs/request",
        ),
        Measurement(
            "request check: token and session first seen (one DB read)",
            microseconds_per_call(
                lambda: authenticate(identity, request_with(next(unseen_sessions))), calls=400
            ),
            "µs/request",
        ),
    ]


def run() -> list[Measurement]:
    with scratch_app() as app:
        return _measure(app.state.registry.identity)
