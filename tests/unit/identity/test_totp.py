import base64
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeguard.identity.mfa import totp
from tradeguard.identity.mfa.totp import (
    TotpAlgorithm,
    TotpVerifier,
    new_totp_secret,
    provisioning_uri,
    qr_svg,
)

# RFC 6238 Appendix B: the seed of each mode is the ASCII text "1234567890" repeated.
SEEDS = {
    TotpAlgorithm.SHA1: b"12345678901234567890",
    TotpAlgorithm.SHA256: b"12345678901234567890123456789012",
    TotpAlgorithm.SHA512: b"1234567890123456789012345678901234567890123456789012345678901234",
}
RFC_6238_VECTORS = [
    (59, "94287082", TotpAlgorithm.SHA1),
    (59, "46119246", TotpAlgorithm.SHA256),
    (59, "90693936", TotpAlgorithm.SHA512),
    (1111111109, "07081804", TotpAlgorithm.SHA1),
    (1111111109, "68084774", TotpAlgorithm.SHA256),
    (1111111109, "25091201", TotpAlgorithm.SHA512),
    (1111111111, "14050471", TotpAlgorithm.SHA1),
    (1111111111, "67062674", TotpAlgorithm.SHA256),
    (1111111111, "99943326", TotpAlgorithm.SHA512),
    (1234567890, "89005924", TotpAlgorithm.SHA1),
    (1234567890, "91819424", TotpAlgorithm.SHA256),
    (1234567890, "93441116", TotpAlgorithm.SHA512),
    (2000000000, "69279037", TotpAlgorithm.SHA1),
    (2000000000, "90698825", TotpAlgorithm.SHA256),
    (2000000000, "38618901", TotpAlgorithm.SHA512),
    (20000000000, "65353130", TotpAlgorithm.SHA1),
    (20000000000, "77737706", TotpAlgorithm.SHA256),
    (20000000000, "47863826", TotpAlgorithm.SHA512),
]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 21, 9, 30, 10, tzinfo=UTC)
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
VERIFIER = TotpVerifier()
NOW_STEP = VERIFIER.time_step(NOW)


def _rfc_secret(algorithm: TotpAlgorithm) -> str:
    return base64.b32encode(SEEDS[algorithm]).decode("ascii")


@pytest.mark.parametrize(("unix_seconds", "expected", "algorithm"), RFC_6238_VECTORS)
def test_verify_when_rfc_6238_appendix_b_vector_then_matches_its_step(
    unix_seconds: int, expected: str, algorithm: TotpAlgorithm
) -> None:
    verifier = TotpVerifier(digits=8, algorithm=algorithm, window=0)
    moment = EPOCH + timedelta(seconds=unix_seconds)
    step = unix_seconds // 30
    assert verifier.code_at(_rfc_secret(algorithm), step) == expected
    assert (
        verifier.verify(_rfc_secret(algorithm), expected, now=moment, last_used_step=None) == step
    )


def test_new_totp_secret_when_created_then_160_bits_of_unpadded_base32() -> None:
    secret = new_totp_secret()
    assert len(secret) == 32
    assert "=" not in secret
    assert len(base64.b32decode(secret)) == 20


def test_new_totp_secret_when_created_twice_then_differs() -> None:
    assert len({new_totp_secret() for _ in range(50)}) == 50


def test_verify_when_current_code_then_returns_current_step() -> None:
    code = VERIFIER.code_at(SECRET, NOW_STEP)
    assert VERIFIER.verify(SECRET, code, now=NOW, last_used_step=None) == NOW_STEP


@pytest.mark.parametrize("offset", [-1, 1])
def test_verify_when_code_one_step_off_then_accepted_with_that_step(offset: int) -> None:
    code = VERIFIER.code_at(SECRET, NOW_STEP + offset)
    assert VERIFIER.verify(SECRET, code, now=NOW, last_used_step=None) == NOW_STEP + offset


@pytest.mark.parametrize("offset", [-2, 2])
def test_verify_when_code_two_steps_off_then_refused(offset: int) -> None:
    code = VERIFIER.code_at(SECRET, NOW_STEP + offset)
    assert VERIFIER.verify(SECRET, code, now=NOW, last_used_step=None) is None


def test_verify_when_code_replayed_then_refused() -> None:
    code = VERIFIER.code_at(SECRET, NOW_STEP)
    used = VERIFIER.verify(SECRET, code, now=NOW, last_used_step=None)
    assert used == NOW_STEP
    assert VERIFIER.verify(SECRET, code, now=NOW, last_used_step=used) is None


def test_verify_when_older_step_inside_window_after_newer_use_then_refused() -> None:
    older = VERIFIER.code_at(SECRET, NOW_STEP - 1)
    assert VERIFIER.verify(SECRET, older, now=NOW, last_used_step=NOW_STEP) is None


def test_verify_when_replayed_in_next_period_then_still_refused() -> None:
    code = VERIFIER.code_at(SECRET, NOW_STEP)
    later = NOW + timedelta(seconds=30)
    assert VERIFIER.verify(SECRET, code, now=later, last_used_step=NOW_STEP) is None


def test_verify_when_newer_step_after_use_then_accepted() -> None:
    newer = VERIFIER.code_at(SECRET, NOW_STEP + 1)
    assert VERIFIER.verify(SECRET, newer, now=NOW, last_used_step=NOW_STEP) == NOW_STEP + 1


def test_verify_when_wrong_code_then_refused() -> None:
    valid = {VERIFIER.code_at(SECRET, NOW_STEP + offset) for offset in (-1, 0, 1)}
    wrong = next(f"{n:06d}" for n in range(10) if f"{n:06d}" not in valid)
    assert VERIFIER.verify(SECRET, wrong, now=NOW, last_used_step=None) is None


def test_verify_when_code_for_another_secret_then_refused() -> None:
    other_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    code = VERIFIER.code_at(other_secret, NOW_STEP)
    assert VERIFIER.verify(other_secret, code, now=NOW, last_used_step=None) == NOW_STEP
    assert VERIFIER.verify(SECRET, code, now=NOW, last_used_step=None) is None


@pytest.mark.parametrize(
    "code", ["", "12345", "1234567", "12345a", " 123456", "123 456", "١٢٣٤٥٦", "+12345", "-12345"]
)
def test_verify_when_malformed_code_then_refused_without_computing(
    code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def _must_not_compute(*_: object) -> None:
        raise AssertionError("a malformed code must not reach the HMAC")

    monkeypatch.setattr(TotpVerifier, "_otp", _must_not_compute)
    assert VERIFIER.verify(SECRET, code, now=NOW, last_used_step=None) is None


def test_verify_when_checking_then_compares_every_candidate_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared: list[tuple[str | bytes, str | bytes]] = []

    def _spy(a: str | bytes, b: str | bytes) -> bool:
        compared.append((a, b))
        return a == b

    monkeypatch.setattr(totp, "constant_time_equal", _spy)
    code = VERIFIER.code_at(SECRET, NOW_STEP - 1)
    assert VERIFIER.verify(SECRET, code, now=NOW, last_used_step=None) == NOW_STEP - 1
    assert len(compared) == 3


def test_verify_when_near_epoch_then_negative_steps_skipped() -> None:
    moment = EPOCH + timedelta(seconds=5)
    code = VERIFIER.code_at(SECRET, 0)
    assert VERIFIER.verify(SECRET, code, now=moment, last_used_step=None) == 0


@given(st.integers(min_value=1, max_value=4_000_000_000))
def test_verify_when_code_of_the_moment_then_its_step(unix_seconds: int) -> None:
    moment = EPOCH + timedelta(seconds=unix_seconds)
    step = unix_seconds // 30
    code = VERIFIER.code_at(SECRET, step)
    assert VERIFIER.verify(SECRET, code, now=moment, last_used_step=step - 1) == step


@pytest.mark.parametrize(
    "kwargs", [{"digits": 5}, {"digits": 11}, {"period": 0}, {"period": 121}, {"window": 3}]
)
def test_totp_verifier_when_settings_out_of_range_then_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be between"):
        TotpVerifier(**kwargs)


def test_provisioning_uri_when_defaults_then_otpauth_totp_with_issuer() -> None:
    uri = provisioning_uri(SECRET, "alice@example.com")
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth"
    assert parts.netloc == "totp"
    assert parts.path == "/TradeGuard:alice%40example.com"
    query = parse_qs(parts.query)
    assert query["secret"] == [SECRET]
    assert query["issuer"] == ["TradeGuard"]
    assert "algorithm" not in query


def test_provisioning_uri_when_verifier_not_default_then_uri_says_so() -> None:
    verifier = TotpVerifier(digits=8, period=60, algorithm=TotpAlgorithm.SHA256)
    query = parse_qs(urlsplit(verifier.provisioning_uri(SECRET, "bob", "Broker")).query)
    assert query["digits"] == ["8"]
    assert query["period"] == ["60"]
    assert query["algorithm"] == ["SHA256"]
    assert query["issuer"] == ["Broker"]


@pytest.mark.parametrize(("account", "issuer"), [("ali:ce", "TradeGuard"), ("alice", "Trade:G")])
def test_provisioning_uri_when_label_has_colon_then_refused(account: str, issuer: str) -> None:
    with pytest.raises(ValueError, match="colon"):
        provisioning_uri(SECRET, account, issuer)


def test_provisioning_uri_when_secret_too_short_then_refused() -> None:
    with pytest.raises(ValueError, match="112 bits"):
        provisioning_uri("JBSWY3DP", "alice")


def test_qr_svg_when_rendered_then_inline_svg_of_dark_modules_only() -> None:
    svg = qr_svg(provisioning_uri(SECRET, "alice@example.com"))
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" ')  # renders as an <img> too
    assert svg.endswith("</svg>")
    assert "<?xml" not in svg
    assert 'stroke="#000"' in svg
    assert "<rect" not in svg
    assert "fill=" not in svg
    assert svg.count("<path") == 1
