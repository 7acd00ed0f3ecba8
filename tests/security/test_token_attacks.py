"""Attacks on access tokens: forged algorithms, key confusion, tampering, malformed input.

Forged tokens are built here by hand. Many are signed with the real TOKEN key, so the
only thing wrong with them is the attack under test; a control test proves such a
hand-built token verifies when nothing is wrong with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
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

ISSUER = "https://tradeguard.test"
AUDIENCE = "tradeguard-api"
SETTINGS = TokenSettings(issuer=ISSUER, audience=AUDIENCE)
INVALID = TokenErrorReason.INVALID
EXPIRED = TokenErrorReason.EXPIRED


@pytest.fixture
def signing(clock: FixedClock) -> SigningKeyManager:
    kek = LocalKek(generate_master_key(clock, "development"))
    return SigningKeyManager(kek, clock, MemoryKeyEventRecorder())


@pytest.fixture
def sessions(db_session: Session) -> sessionmaker[Session]:
    """Sessions on the test's connection, so the verifier sees the test's uncommitted keys."""
    return sessionmaker(bind=db_session.connection(), join_transaction_mode="create_savepoint")


@pytest.fixture
def verifier(
    signing: SigningKeyManager, sessions: sessionmaker[Session], clock: FixedClock
) -> TokenVerifier:
    return TokenVerifier(signing, sessions, clock, SETTINGS)


@pytest.fixture
def key_id(db_session: Session, signing: SigningKeyManager) -> str:
    return signing.ensure_active(db_session, SigningPurpose.TOKEN).key_id


@pytest.fixture
def sign(db_session: Session, signing: SigningKeyManager) -> Callable[[bytes], bytes]:
    """Sign with the real active TOKEN key, as only the issuer should."""
    return signing.ensure_active(db_session, SigningPurpose.TOKEN).sign


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(value: object) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return _b64url(raw)


def _header(key_id: str, **changes: object) -> dict[str, object]:
    header: dict[str, object] = {"alg": "EdDSA", "kid": key_id, "typ": "at+jwt"}
    header.update(changes)
    return {name: value for name, value in header.items() if value is not None}


def _payload(clock: FixedClock, **changes: object) -> dict[str, object]:
    now = clock.now_ns() // NS_PER_SECOND
    payload: dict[str, object] = {
        "sub": "user-1",
        "sid": "session-1",
        "role": "trader",
        "permissions": ["orders:place"],
        "amr": ["pwd", "otp", "mfa"],
        "auth_time": now,
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": "jti-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "enrollment_only": False,
        "pv": 1,
    }
    payload.update(changes)
    return payload


def _forge(header: object, payload: object, sign: Callable[[bytes], bytes]) -> str:
    signing_input = f"{_segment(header)}.{_segment(payload)}"
    return f"{signing_input}.{_b64url(sign(signing_input.encode()))}"


def _refused(verifier: TokenVerifier, token: str, reason: TokenErrorReason) -> None:
    with pytest.raises(TokenError) as refused:
        verifier.verify(token)
    assert refused.value.reason == reason


@pytest.fixture
def keys_untouchable(verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the verifier looks up any key: the refusal must come first."""

    def no_key(key_id: str) -> object:
        raise AssertionError(f"key {key_id} was looked up")

    monkeypatch.setattr(verifier, "_public_key", no_key)


def test_forged_token_when_nothing_is_wrong_then_verifies(
    verifier: TokenVerifier, key_id: str, sign: Callable[[bytes], bytes], clock: FixedClock
) -> None:
    claims = verifier.verify(_forge(_header(key_id), _payload(clock), sign))
    assert isinstance(claims, AccessClaims)
    assert claims.sub == "user-1"


@pytest.mark.usefixtures("keys_untouchable")
def test_alg_none_when_signature_empty_then_invalid(
    verifier: TokenVerifier, key_id: str, clock: FixedClock
) -> None:
    header, payload = _segment(_header(key_id, alg="none")), _segment(_payload(clock))
    _refused(verifier, f"{header}.{payload}.", INVALID)
    _refused(verifier, f"{header}.{payload}", INVALID)


@pytest.mark.usefixtures("keys_untouchable")
@pytest.mark.parametrize("algorithm", ["none", "None", "NONE"])
def test_alg_none_when_validly_signed_then_invalid_before_key_use(
    verifier: TokenVerifier,
    key_id: str,
    sign: Callable[[bytes], bytes],
    clock: FixedClock,
    algorithm: str,
) -> None:
    _refused(verifier, _forge(_header(key_id, alg=algorithm), _payload(clock), sign), INVALID)


def _hs256_token(key_id: str, clock: FixedClock, secret: bytes) -> str:
    def hmac_sign(message: bytes) -> bytes:
        return hmac.new(secret, message, hashlib.sha256).digest()

    return _forge(_header(key_id, alg="HS256"), _payload(clock), hmac_sign)


@pytest.mark.usefixtures("keys_untouchable")
def test_hs256_when_keyed_with_public_key_bytes_or_pem_then_invalid(
    verifier: TokenVerifier, db_session: Session, signing: SigningKeyManager, clock: FixedClock
) -> None:
    public = signing.ensure_active(db_session, SigningPurpose.TOKEN).public_key
    pem = Ed25519PublicKey.from_public_bytes(public.public_bytes).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for secret in (public.public_bytes, pem):
        _refused(verifier, _hs256_token(public.key_id, clock, secret), INVALID)


@pytest.mark.usefixtures("keys_untouchable")
def test_hs256_when_keyed_with_published_jwk_x_then_invalid(
    verifier: TokenVerifier,
    db_session: Session,
    signing: SigningKeyManager,
    key_id: str,
    clock: FixedClock,
) -> None:
    [jwk] = signing.jwks(db_session, SigningPurpose.TOKEN)["keys"]
    assert jwk["kid"] == key_id
    for secret in (jwk["x"].encode(), json.dumps(jwk).encode()):
        _refused(verifier, _hs256_token(key_id, clock, secret), INVALID)


@pytest.mark.usefixtures("keys_untouchable")
@pytest.mark.parametrize(
    "algorithm",
    ["HS256", "HS512", "RS256", "ES256", "PS256", "Ed25519", "eddsa", "EdDSA ", "", None, 1],
)
def test_other_algorithms_when_presented_then_invalid_before_key_use(
    verifier: TokenVerifier,
    key_id: str,
    sign: Callable[[bytes], bytes],
    clock: FixedClock,
    algorithm: object,
) -> None:
    header = _header(key_id, alg=algorithm)
    assert header.get("alg") == algorithm
    _refused(verifier, _forge(header, _payload(clock), sign), INVALID)


@pytest.mark.usefixtures("keys_untouchable")
@pytest.mark.parametrize(
    "parameter",
    [
        {"jku": "https://attacker.test/jwks.json"},
        {"x5u": "https://attacker.test/cert.pem"},
        {
            "jwk": {
                "kty": "OKP",
                "crv": "Ed25519",
                "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            }
        },
        {"x5c": ["MIIB"]},
        {"crit": ["exp"]},
        {"crit": []},
        {"b64": False, "crit": ["b64"]},
    ],
    ids=["jku", "x5u", "jwk", "x5c", "crit", "crit-empty", "b64"],
)
def test_key_pointing_or_critical_header_when_present_then_invalid(
    verifier: TokenVerifier,
    key_id: str,
    sign: Callable[[bytes], bytes],
    clock: FixedClock,
    parameter: dict[str, object],
) -> None:
    token = _forge(_header(key_id, **parameter), _payload(clock), sign)
    _refused(verifier, token, INVALID)


@pytest.mark.parametrize("token_type", [None, "JWT", "at+JWT", "application/at+jwt", "jwt", 1])
def test_typ_when_missing_or_not_at_jwt_then_invalid(
    verifier: TokenVerifier,
    key_id: str,
    sign: Callable[[bytes], bytes],
    clock: FixedClock,
    token_type: object,
) -> None:
    _refused(verifier, _forge(_header(key_id, typ=token_type), _payload(clock), sign), INVALID)


@pytest.mark.parametrize("bad_kid", [None, "", 7, ["kid"]])
def test_kid_when_missing_or_not_text_then_invalid(
    verifier: TokenVerifier, sign: Callable[[bytes], bytes], clock: FixedClock, bad_kid: object
) -> None:
    header = {"alg": "EdDSA", "typ": "at+jwt"} | ({} if bad_kid is None else {"kid": bad_kid})
    _refused(verifier, _forge(header, _payload(clock), sign), INVALID)


def test_unknown_kid_when_presented_then_invalid(
    verifier: TokenVerifier, sign: Callable[[bytes], bytes], clock: FixedClock
) -> None:
    _refused(verifier, _forge(_header("sk-token-forged"), _payload(clock), sign), INVALID)


@pytest.fixture
def key_loads(signing: SigningKeyManager, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The purposes of every public-key load from the database, in order."""
    loads: list[object] = []
    real_public_keys = signing.public_keys

    def counting(session: Session, purpose: SigningPurpose | None = None) -> list[Any]:
        loads.append(purpose)
        return real_public_keys(session, purpose)

    monkeypatch.setattr(signing, "public_keys", counting)
    return loads


def test_garbage_kids_when_flooded_then_keys_reload_at_most_once_per_second(
    verifier: TokenVerifier,
    key_id: str,
    sign: Callable[[bytes], bytes],
    clock: FixedClock,
    key_loads: list[object],
) -> None:
    for number in range(50):
        _refused(verifier, _forge(_header(f"garbage-{number}"), _payload(clock), sign), INVALID)
    assert key_loads == [SigningPurpose.TOKEN]
    clock.advance(milliseconds=999)
    _refused(verifier, _forge(_header("garbage-x"), _payload(clock), sign), INVALID)
    assert len(key_loads) == 1
    clock.advance(milliseconds=1)
    for number in range(20):
        _refused(verifier, _forge(_header(f"again-{number}"), _payload(clock), sign), INVALID)
    assert key_loads == [SigningPurpose.TOKEN, SigningPurpose.TOKEN]
    verifier.verify(_forge(_header(key_id), _payload(clock), sign))
    assert len(key_loads) == 2


def test_expired_token_when_presented_then_expired(
    verifier: TokenVerifier, key_id: str, sign: Callable[[bytes], bytes], clock: FixedClock
) -> None:
    now = clock.now_ns() // NS_PER_SECOND
    payload = _payload(clock, iat=now - 901, nbf=now - 901, exp=now - 1)
    _refused(verifier, _forge(_header(key_id), payload, sign), EXPIRED)


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "another-api"},
        {"aud": [AUDIENCE]},
        {"aud": "TRADEGUARD-API"},
        {"iss": "https://attacker.test"},
        {"iss": ISSUER + "/"},
    ],
    ids=["aud-other", "aud-list", "aud-case", "iss-other", "iss-slash"],
)
def test_audience_or_issuer_when_wrong_then_invalid(
    verifier: TokenVerifier,
    key_id: str,
    sign: Callable[[bytes], bytes],
    clock: FixedClock,
    changes: dict[str, object],
) -> None:
    _refused(verifier, _forge(_header(key_id), _payload(clock, **changes), sign), INVALID)


def test_payload_when_tampered_under_original_signature_then_invalid(
    verifier: TokenVerifier, key_id: str, sign: Callable[[bytes], bytes], clock: FixedClock
) -> None:
    header, _, signature = _forge(_header(key_id), _payload(clock), sign).split(".")
    for changes in ({"role": "admin"}, {"pv": 2}, {"enrollment_only": True}):
        tampered = _segment(_payload(clock, **changes))
        _refused(verifier, f"{header}.{tampered}.{signature}", INVALID)


def test_signature_when_spliced_from_another_valid_token_then_invalid(
    verifier: TokenVerifier, key_id: str, sign: Callable[[bytes], bytes], clock: FixedClock
) -> None:
    victim = _forge(_header(key_id), _payload(clock, sub="victim"), sign)
    attacker = _forge(_header(key_id), _payload(clock, sub="attacker"), sign)
    verifier.verify(victim)
    verifier.verify(attacker)
    victim_signature = victim.rsplit(".", 1)[1]
    spliced = f"{attacker.rsplit('.', 1)[0]}.{victim_signature}"
    _refused(verifier, spliced, INVALID)


def test_signature_when_made_by_audit_key_then_invalid(
    verifier: TokenVerifier,
    db_session: Session,
    signing: SigningKeyManager,
    key_id: str,
    clock: FixedClock,
) -> None:
    audit = signing.ensure_active(db_session, SigningPurpose.AUDIT)
    _refused(verifier, _forge(_header(key_id), _payload(clock), audit.sign), INVALID)
    _refused(verifier, _forge(_header(audit.key_id), _payload(clock), audit.sign), INVALID)


def test_signature_when_bit_flipped_or_truncated_then_invalid(
    verifier: TokenVerifier, key_id: str, sign: Callable[[bytes], bytes], clock: FixedClock
) -> None:
    signing_input = f"{_segment(_header(key_id))}.{_segment(_payload(clock))}"
    signature = sign(signing_input.encode())
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    for damaged in (flipped, signature[:-1], signature + b"\x00", b"\x00" * 64):
        _refused(verifier, f"{signing_input}.{_b64url(damaged)}", INVALID)


def test_token_when_longer_than_cap_then_invalid_without_parsing(
    verifier: TokenVerifier,
    key_id: str,
    sign: Callable[[bytes], bytes],
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    padded = [
        _forge(_header(key_id), _payload(clock, pad="x" * size), sign) for size in range(2500, 2700)
    ]
    fits = max((token for token in padded if len(token) <= 4096), key=len)
    oversize = min((token for token in padded if len(token) > 4096), key=len)
    assert len(fits) >= 4094
    assert len(oversize) <= 4098
    verifier.verify(fits)

    def no_parsing(_token: str) -> object:
        raise AssertionError("an oversize token was parsed")

    monkeypatch.setattr(verifier, "_verify_signed", no_parsing)
    _refused(verifier, oversize, INVALID)
    _refused(verifier, "a" * 1_000_000, INVALID)


@pytest.mark.parametrize(
    "damage",
    [
        lambda token: token.replace(".", "=.", 1),
        lambda token: token + "==",
        lambda token: token[:10] + "+" + token[11:],
        lambda token: token[:10] + "/" + token[11:],
        lambda token: token[:10] + " " + token[10:],
        lambda token: token + "\n",
        lambda token: " " + token,
        lambda token: token[:10] + "é" + token[11:],
        lambda token: token[:10] + "\x00" + token[11:],
        lambda token: token.replace(".", "..", 1),
        lambda token: token + ".",
        lambda token: token + ".e30",
        lambda token: token.split(".", 1)[1],
        lambda token: token[: token.rindex(".")],
        lambda _token: "",
        lambda _token: "..",
        lambda _token: "Bearer",
    ],
    ids=[
        "padding-in-header",
        "padding-at-end",
        "plus",
        "slash",
        "inner-space",
        "newline",
        "leading-space",
        "non-ascii",
        "nul",
        "empty-segment",
        "trailing-dot",
        "four-segments",
        "two-segments",
        "no-signature",
        "empty",
        "only-dots",
        "word",
    ],
)
def test_token_when_not_strict_compact_base64url_then_invalid(
    verifier: TokenVerifier,
    key_id: str,
    sign: Callable[[bytes], bytes],
    clock: FixedClock,
    damage: Callable[[str], str],
) -> None:
    token = _forge(_header(key_id), _payload(clock), sign)
    verifier.verify(token)
    _refused(verifier, damage(token), INVALID)


def test_signature_when_spelled_with_non_zero_trailing_bits_then_invalid(
    verifier: TokenVerifier, key_id: str, sign: Callable[[bytes], bytes], clock: FixedClock
) -> None:
    token = _forge(_header(key_id), _payload(clock), sign)
    head, signature = token.rsplit(".", 1)
    # 64 bytes take 86 characters whose last 4 bits are padding: "A" -> "B" sets one.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    respelled = signature[:-1] + alphabet[alphabet.index(signature[-1]) + 1]
    assert base64.urlsafe_b64decode(respelled + "==") == base64.urlsafe_b64decode(signature + "==")
    _refused(verifier, f"{head}.{respelled}", INVALID)


def test_segment_length_when_impossible_for_base64_then_invalid(
    verifier: TokenVerifier, key_id: str, sign: Callable[[bytes], bytes], clock: FixedClock
) -> None:
    token = _forge(_header(key_id), _payload(clock), sign)
    head, signature = token.rsplit(".", 1)
    _refused(verifier, f"{head}.{signature}A", INVALID)  # 87 characters decode to 65 bytes
    _refused(verifier, f"{head}.{signature}AAA", INVALID)  # 89 = 4n + 1 characters: no bytes


@pytest.mark.parametrize(
    "payload",
    [
        b"[]",
        b'["sub", "user-1"]',
        b'"a string"',
        b"42",
        b"null",
        b"true",
        b"{",
        b"",
        b"\xff\xfe{}",
        b'{"exp": NaN}',
        b"[" * 1400 + b"]" * 1400,
    ],
    ids=[
        "empty-array",
        "array",
        "string",
        "number",
        "null",
        "true",
        "truncated",
        "empty",
        "not-utf8",
        "nan",
        "deeply-nested",
    ],
)
def test_payload_when_not_a_json_object_then_invalid(
    verifier: TokenVerifier, key_id: str, sign: Callable[[bytes], bytes], payload: bytes
) -> None:
    _refused(verifier, _forge(_header(key_id), payload, sign), INVALID)


@pytest.mark.usefixtures("keys_untouchable")
@pytest.mark.parametrize(
    "header",
    [b"[]", b'["EdDSA"]', b"null", b"[" * 1400 + b"]" * 1400, b'{"alg":"EdDSA","alg":"none"}'],
    ids=["empty-array", "array", "null", "deeply-nested", "duplicate-member"],
)
def test_header_when_not_a_json_object_then_invalid_before_key_use(
    verifier: TokenVerifier, sign: Callable[[bytes], bytes], clock: FixedClock, header: bytes
) -> None:
    _refused(verifier, _forge(header, _payload(clock), sign), INVALID)


def test_header_when_alg_repeated_then_invalid_even_if_last_is_eddsa(
    verifier: TokenVerifier, key_id: str, sign: Callable[[bytes], bytes], clock: FixedClock
) -> None:
    header = f'{{"alg":"none","alg":"EdDSA","kid":"{key_id}","typ":"at+jwt"}}'.encode()
    _refused(verifier, _forge(header, _payload(clock), sign), INVALID)


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": True},
        {"exp": 1.0e10},
        {"iat": 1_795_000_000.0},
        {"nbf": False},
        {"auth_time": True},
        {"pv": True},
        {"pv": 1.0},
        {"pv": "1"},
        {"enrollment_only": 0},
        {"enrollment_only": "false"},
        {"enrollment_only": None},
        {"sub": 1},
        {"sub": ""},
        {"sid": None},
        {"permissions": "orders:place"},
        {"permissions": [1]},
        {"amr": []},
        {"amr": {"pwd": True}},
        {"jti": ["j"]},
    ],
)
def test_claim_when_ill_typed_then_invalid(
    verifier: TokenVerifier,
    key_id: str,
    sign: Callable[[bytes], bytes],
    clock: FixedClock,
    changes: dict[str, object],
) -> None:
    _refused(verifier, _forge(_header(key_id), _payload(clock, **changes), sign), INVALID)


@pytest.mark.parametrize(
    "claim",
    [
        "sub",
        "sid",
        "role",
        "permissions",
        "amr",
        "auth_time",
        "iat",
        "nbf",
        "exp",
        "jti",
        "iss",
        "aud",
        "enrollment_only",
        "pv",
    ],
)
def test_claim_when_missing_then_invalid(
    verifier: TokenVerifier,
    key_id: str,
    sign: Callable[[bytes], bytes],
    clock: FixedClock,
    claim: str,
) -> None:
    payload = _payload(clock)
    del payload[claim]
    _refused(verifier, _forge(_header(key_id), payload, sign), INVALID)


def test_not_before_when_in_the_future_beyond_leeway_then_invalid(
    verifier: TokenVerifier, key_id: str, sign: Callable[[bytes], bytes], clock: FixedClock
) -> None:
    now = clock.now_ns() // NS_PER_SECOND
    _refused(verifier, _forge(_header(key_id), _payload(clock, nbf=now + 6), sign), INVALID)
    _refused(verifier, _forge(_header(key_id), _payload(clock, iat=now + 6), sign), INVALID)


def test_issued_token_when_verified_then_matches_forging_helper_layout(
    db_session: Session,
    signing: SigningKeyManager,
    verifier: TokenVerifier,
    key_id: str,
    clock: FixedClock,
) -> None:
    issuer = TokenIssuer(signing, clock, SETTINGS)
    token, claims = issuer.issue(
        db_session,
        sub="user-1",
        sid="session-1",
        role="trader",
        permissions=("orders:place",),
        amr=("pwd", "otp", "mfa"),
        auth_time=clock.now_ns() // NS_PER_SECOND,
        enrollment_only=False,
        pv=1,
    )
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == _header(key_id)
    assert verifier.verify(token) == claims


ECHO = "<script>echo-me-0f3c</script>"


@pytest.mark.parametrize(
    "header",
    [
        {"kid": ECHO},
        {"alg": ECHO},
        {ECHO: "x"},
        {"typ": ECHO},
    ],
)
def test_refusal_when_header_holds_attacker_text_then_the_message_does_not_repeat_it(
    verifier: TokenVerifier,
    key_id: str,
    clock: FixedClock,
    sign: Callable[[bytes], bytes],
    header: dict[str, object],
) -> None:
    token = _forge(_header(key_id, **header), _payload(clock), sign)
    with pytest.raises(TokenError) as refused:
        verifier.verify(token)
    assert refused.value.reason is INVALID
    assert "echo-me" not in str(refused.value)
    assert str(refused.value)
