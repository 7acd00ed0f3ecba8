"""Access tokens: claims round trip, time rules, issuer/audience, rotation, JWKS, PyJWT."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.core.clock import NS_PER_SECOND, FixedClock
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.crypto.signing import SigningKeyManager, SigningPurpose
from tradeguard.identity.tokens import (
    AccessClaims,
    TokenError,
    TokenErrorReason,
    TokenIssuer,
    TokenSettings,
    TokenVerifier,
)

TOKEN = SigningPurpose.TOKEN
SETTINGS = TokenSettings(issuer="https://tradeguard.test", audience="tradeguard-api")
AUTH_TIME = 1_795_000_000


@pytest.fixture
def signing(clock: FixedClock) -> SigningKeyManager:
    kek = LocalKek(generate_master_key(clock, "development"))
    return SigningKeyManager(kek, clock, MemoryKeyEventRecorder())


@pytest.fixture
def sessions(db_session: Session) -> sessionmaker[Session]:
    """Sessions on the test's connection, so the verifier sees the test's uncommitted keys."""
    return sessionmaker(bind=db_session.connection(), join_transaction_mode="create_savepoint")


@pytest.fixture
def issuer(signing: SigningKeyManager, clock: FixedClock) -> TokenIssuer:
    return TokenIssuer(signing, clock, SETTINGS)


@pytest.fixture
def verifier_for(
    signing: SigningKeyManager, sessions: sessionmaker[Session], clock: FixedClock
) -> Callable[..., TokenVerifier]:
    """Build a verifier over the test's keys with other settings or memory size."""

    def build(settings: TokenSettings = SETTINGS, cache_size: int = 10_000) -> TokenVerifier:
        return TokenVerifier(signing, sessions, clock, settings, verified_cache_size=cache_size)

    return build


@pytest.fixture
def verifier(verifier_for: Callable[..., TokenVerifier]) -> TokenVerifier:
    return verifier_for()


@pytest.fixture(params=["remembering", "not-remembering"])
def any_verifier(
    request: pytest.FixtureRequest, verifier_for: Callable[..., TokenVerifier]
) -> TokenVerifier:
    """A verifier with, and one without, the memory of tokens already verified."""
    return verifier_for(cache_size=10 if request.param == "remembering" else 0)


def _issue(issuer: TokenIssuer, session: Session, **changes: Any) -> tuple[str, AccessClaims]:
    claims: dict[str, Any] = {
        "sub": "user-7",
        "sid": "session-9",
        "role": "trader",
        "permissions": ("orders:place", "positions:read"),
        "amr": ("pwd", "otp", "mfa"),
        "auth_time": AUTH_TIME,
        "enrollment_only": False,
        "pv": 4,
    }
    claims.update(changes)
    return issuer.issue(session, **claims)


def _now(clock: FixedClock) -> int:
    return clock.now_ns() // NS_PER_SECOND


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment_json(token: str, index: int) -> Any:
    segment = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def _refused(verifier: TokenVerifier, token: str, reason: TokenErrorReason) -> None:
    with pytest.raises(TokenError) as refused:
        verifier.verify(token)
    assert refused.value.reason == reason


def test_issue_and_verify_when_all_claims_set_then_round_trip(
    db_session: Session, issuer: TokenIssuer, verifier: TokenVerifier, clock: FixedClock
) -> None:
    token, issued = _issue(issuer, db_session)
    claims = verifier.verify(token)
    assert claims == issued
    assert claims == AccessClaims(
        sub="user-7",
        sid="session-9",
        role="trader",
        permissions=("orders:place", "positions:read"),
        amr=("pwd", "otp", "mfa"),
        auth_time=AUTH_TIME,
        iat=_now(clock),
        nbf=_now(clock),
        exp=_now(clock) + 900,
        jti=issued.jti,
        iss="https://tradeguard.test",
        aud="tradeguard-api",
        enrollment_only=False,
        pv=4,
    )
    assert uuid.UUID(claims.jti).version == 7


def test_issue_when_enrollment_only_then_flag_and_empty_permissions_survive(
    db_session: Session, issuer: TokenIssuer, verifier: TokenVerifier
) -> None:
    token, _ = _issue(issuer, db_session, enrollment_only=True, permissions=(), amr=("pwd",))
    claims = verifier.verify(token)
    assert claims.enrollment_only is True
    assert claims.permissions == ()
    assert claims.amr == ("pwd",)


def test_issue_when_called_twice_then_each_token_has_its_own_jti(
    db_session: Session, issuer: TokenIssuer
) -> None:
    first, first_claims = _issue(issuer, db_session)
    second, second_claims = _issue(issuer, db_session)
    assert first != second
    assert first_claims.jti != second_claims.jti


def test_issue_when_signed_then_header_is_exactly_eddsa_kid_at_jwt(
    db_session: Session, issuer: TokenIssuer, signing: SigningKeyManager
) -> None:
    token, _ = _issue(issuer, db_session)
    kid = signing.active(db_session, TOKEN).key_id
    header = base64.urlsafe_b64decode(token.split(".")[0] + "==")
    assert header == f'{{"alg":"EdDSA","kid":"{kid}","typ":"at+jwt"}}'.encode()
    payload_segment = token.split(".")[1]
    payload = base64.urlsafe_b64decode(payload_segment + "=" * (-len(payload_segment) % 4))
    assert b" " not in payload
    assert "=" not in token


def test_issue_when_no_token_key_yet_then_creates_one(
    db_session: Session, issuer: TokenIssuer, signing: SigningKeyManager
) -> None:
    assert signing.public_keys(db_session, TOKEN) == []
    token, _ = _issue(issuer, db_session)
    [key] = signing.public_keys(db_session, TOKEN)
    assert _segment_json(token, 0)["kid"] == key.key_id


@pytest.mark.parametrize(
    "changes",
    [
        {"pv": True},
        {"auth_time": 1.5},
        {"enrollment_only": 1},
        {"permissions": ["orders:place"]},
        {"permissions": ("orders:place", 3)},
        {"amr": ()},
        {"sub": ""},
        {"role": None},
    ],
)
def test_issue_when_claim_ill_typed_then_refused_before_signing(
    db_session: Session, issuer: TokenIssuer, changes: dict[str, Any]
) -> None:
    with pytest.raises((TypeError, ValueError)):
        _issue(issuer, db_session, **changes)


def test_exp_when_reached_exactly_then_expired_and_one_ns_before_valid(
    db_session: Session, issuer: TokenIssuer, any_verifier: TokenVerifier, clock: FixedClock
) -> None:
    token, claims = _issue(issuer, db_session)
    clock.set(claims.exp * NS_PER_SECOND - 1)
    assert any_verifier.verify(token) == claims
    clock.set(claims.exp * NS_PER_SECOND)
    _refused(any_verifier, token, TokenErrorReason.EXPIRED)
    clock.advance(seconds=3600)
    _refused(any_verifier, token, TokenErrorReason.EXPIRED)


def test_not_before_when_future_within_leeway_then_accepted_beyond_then_invalid(
    db_session: Session, issuer: TokenIssuer, any_verifier: TokenVerifier, clock: FixedClock
) -> None:
    token, claims = _issue(issuer, db_session)
    clock.set((claims.nbf - 5) * NS_PER_SECOND)
    assert any_verifier.verify(token) == claims
    clock.set((claims.nbf - 5) * NS_PER_SECOND - 1)
    _refused(any_verifier, token, TokenErrorReason.INVALID)


def test_not_before_when_only_nbf_in_future_then_same_leeway_applies(
    db_session: Session, signing: SigningKeyManager, verifier: TokenVerifier, clock: FixedClock
) -> None:
    key = signing.ensure_active(db_session, TOKEN)
    header = {"alg": "EdDSA", "kid": key.key_id, "typ": "at+jwt"}

    def signed(nbf: int) -> str:
        payload = {
            "sub": "u",
            "sid": "s",
            "role": "trader",
            "permissions": [],
            "amr": ["pwd"],
            "auth_time": _now(clock),
            "iat": _now(clock),
            "nbf": nbf,
            "exp": _now(clock) + 900,
            "jti": "j",
            "iss": SETTINGS.issuer,
            "aud": SETTINGS.audience,
            "enrollment_only": False,
            "pv": 0,
        }
        encoded = (_b64url(json.dumps(part).encode()) for part in (header, payload))
        signing_input = ".".join(encoded)
        return f"{signing_input}.{_b64url(key.sign(signing_input.encode()))}"

    assert verifier.verify(signed(_now(clock) + 5)).nbf == _now(clock) + 5
    _refused(verifier, signed(_now(clock) + 6), TokenErrorReason.INVALID)


@pytest.mark.parametrize(
    "settings",
    [
        TokenSettings(issuer="https://other.test", audience="tradeguard-api"),
        TokenSettings(issuer="https://tradeguard.test", audience="other-api"),
    ],
    ids=["issuer", "audience"],
)
def test_verify_when_issuer_or_audience_differs_then_invalid(
    db_session: Session,
    issuer: TokenIssuer,
    verifier_for: Callable[..., TokenVerifier],
    settings: TokenSettings,
) -> None:
    token, _ = _issue(issuer, db_session)
    elsewhere = verifier_for(settings)
    _refused(elsewhere, token, TokenErrorReason.INVALID)


def test_rotation_when_key_rotated_then_old_tokens_verify_and_new_use_new_kid(
    db_session: Session,
    issuer: TokenIssuer,
    verifier_for: Callable[..., TokenVerifier],
    signing: SigningKeyManager,
    clock: FixedClock,
) -> None:
    verifier = verifier_for()
    old_token, old_claims = _issue(issuer, db_session)
    old_kid = _segment_json(old_token, 0)["kid"]
    verifier.verify(old_token)
    clock.advance(seconds=60)
    new_kid = signing.rotate(db_session, TOKEN).key_id
    new_token, new_claims = _issue(issuer, db_session)
    assert _segment_json(new_token, 0)["kid"] == new_kid != old_kid
    assert verifier.verify(new_token) == new_claims
    assert verifier.verify(old_token) == old_claims
    fresh = verifier_for(cache_size=0)
    assert fresh.verify(old_token) == old_claims
    assert fresh.verify(new_token) == new_claims


def test_rotation_when_new_key_appears_within_a_second_of_a_reload_then_picked_up_after(
    db_session: Session,
    issuer: TokenIssuer,
    verifier: TokenVerifier,
    signing: SigningKeyManager,
    clock: FixedClock,
) -> None:
    old_token, _ = _issue(issuer, db_session)
    verifier.verify(old_token)
    signing.rotate(db_session, TOKEN)
    new_token, new_claims = _issue(issuer, db_session)
    _refused(verifier, new_token, TokenErrorReason.INVALID)
    clock.advance(seconds=1)
    assert verifier.verify(new_token) == new_claims


def test_verify_when_signed_by_audit_key_then_invalid(
    db_session: Session, issuer: TokenIssuer, verifier: TokenVerifier, signing: SigningKeyManager
) -> None:
    token, _ = _issue(issuer, db_session)
    audit = signing.ensure_active(db_session, SigningPurpose.AUDIT)
    header = json.dumps({"alg": "EdDSA", "kid": audit.key_id, "typ": "at+jwt"}).encode()
    signing_input = f"{_b64url(header)}.{token.split('.')[1]}"
    forged = f"{signing_input}.{_b64url(audit.sign(signing_input.encode()))}"
    _refused(verifier, forged, TokenErrorReason.INVALID)


def test_jwks_when_token_issued_then_contains_its_kid(
    db_session: Session, issuer: TokenIssuer, signing: SigningKeyManager
) -> None:
    token, _ = _issue(issuer, db_session)
    kid = _segment_json(token, 0)["kid"]
    jwks = signing.jwks(db_session, TOKEN)
    assert [key["kid"] for key in jwks["keys"]] == [kid]
    assert jwks["keys"][0]["alg"] == "EdDSA"


def test_pyjwt_when_given_published_jwk_then_verifies_issued_token(
    db_session: Session, issuer: TokenIssuer, signing: SigningKeyManager
) -> None:
    token, claims = _issue(issuer, db_session)
    header = jwt.get_unverified_header(token)
    key = jwt.PyJWKSet.from_dict(signing.jwks(db_session, TOKEN))[header["kid"]]
    # The test clock is not the wall clock PyJWT reads; time rules are tested above.
    decoded = jwt.decode(
        token,
        key,
        algorithms=["EdDSA"],
        audience="tradeguard-api",
        issuer="https://tradeguard.test",
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    assert header == {"alg": "EdDSA", "kid": key.key_id, "typ": "at+jwt"}
    assert decoded["sub"] == claims.sub
    assert decoded["permissions"] == list(claims.permissions)
    assert decoded["pv"] == claims.pv
    assert decoded["enrollment_only"] is claims.enrollment_only


def test_verify_when_keys_cached_then_new_token_needs_no_database(
    db_session: Session,
    issuer: TokenIssuer,
    verifier: TokenVerifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, _ = _issue(issuer, db_session)
    second, second_claims = _issue(issuer, db_session)
    verifier.verify(first)

    def no_database() -> Session:
        raise AssertionError("the database was queried")

    monkeypatch.setattr(verifier, "_sessions", no_database)
    assert verifier.verify(second) == second_claims


def test_verify_when_token_seen_before_then_signature_not_checked_again(
    db_session: Session,
    issuer: TokenIssuer,
    verifier: TokenVerifier,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token, claims = _issue(issuer, db_session)
    verified = verifier.verify(token)
    assert verified == claims

    def no_signature_check(_token: str) -> AccessClaims:
        raise AssertionError("the signature was checked again")

    monkeypatch.setattr(verifier, "_verify_signed", no_signature_check)
    assert verifier.verify(token) is verified
    other, _ = _issue(issuer, db_session)
    with pytest.raises(AssertionError, match="checked again"):
        verifier.verify(other)


@pytest.mark.parametrize("size", [1, 2, 4, 5])
def test_verified_memory_when_full_then_stays_bounded_and_keeps_verifying(
    db_session: Session,
    issuer: TokenIssuer,
    verifier_for: Callable[..., TokenVerifier],
    size: int,
) -> None:
    verifier = verifier_for(cache_size=size)
    tokens = [_issue(issuer, db_session) for _ in range(11)]
    for token, claims in tokens:
        assert verifier.verify(token) == claims
        assert len(verifier._verified) <= size
    for token, claims in tokens:
        assert verifier.verify(token) == claims
    assert tokens[-1][0] in verifier._verified


def test_verified_memory_when_full_then_expired_entries_dropped(
    db_session: Session,
    issuer: TokenIssuer,
    verifier_for: Callable[..., TokenVerifier],
    clock: FixedClock,
) -> None:
    verifier = verifier_for(cache_size=4)
    for _ in range(4):
        verifier.verify(_issue(issuer, db_session)[0])
    clock.advance(seconds=900)
    newest, _ = _issue(issuer, db_session)
    verifier.verify(newest)
    assert list(verifier._verified) == [newest]


def test_token_error_reasons_when_rendered_then_stable_codes() -> None:
    assert TokenErrorReason.INVALID == "AUTH_TOKEN_INVALID"
    assert TokenErrorReason.EXPIRED == "AUTH_TOKEN_EXPIRED"
    error = TokenError(TokenErrorReason.EXPIRED, "token expired")
    assert error.reason == "AUTH_TOKEN_EXPIRED"
    assert str(error) == "token expired"


@pytest.mark.parametrize(
    "values",
    [
        {"issuer": ""},
        {"audience": ""},
        {"ttl_seconds": 0},
        {"leeway_seconds": -1},
    ],
)
def test_token_settings_when_unusable_then_refused(values: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"issuer": "https://tradeguard.test", "audience": "api"}
    arguments.update(values)
    with pytest.raises(ValueError, match="token"):
        TokenSettings(**arguments)


def test_token_settings_when_defaults_then_fifteen_minutes_and_five_seconds() -> None:
    settings = TokenSettings(issuer="https://tradeguard.test", audience="api")
    assert settings.ttl_seconds == 900
    assert settings.leeway_seconds == 5


def test_verifier_when_cache_size_negative_then_refused(
    verifier_for: Callable[..., TokenVerifier],
) -> None:
    with pytest.raises(ValueError, match="verified_cache_size"):
        verifier_for(cache_size=-1)
