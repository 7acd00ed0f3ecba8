import base64
import hashlib
import hmac
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeguard.identity.secrets import (
    MIN_CODE_KEY_BYTES,
    constant_time_equal,
    keyed_code_digest,
    random_token,
    token_digest,
)

KEY = bytes(range(32))
URLSAFE = re.compile(r"[A-Za-z0-9_-]+")


def test_random_token_when_default_then_43_urlsafe_chars_without_padding() -> None:
    token = random_token()
    assert len(token) == 43
    assert URLSAFE.fullmatch(token)
    assert len(base64.urlsafe_b64decode(token + "=")) == 32


def test_random_token_when_called_twice_then_tokens_differ() -> None:
    assert len({random_token() for _ in range(100)}) == 100


def test_random_token_when_fewer_than_16_bytes_then_refused() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        random_token(15)


def test_random_token_when_16_bytes_then_22_chars() -> None:
    assert len(random_token(16)) == 22


def test_token_digest_when_known_input_then_sha256_vector() -> None:
    assert token_digest("abc").hex() == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_token_digest_when_tokens_differ_then_digests_differ() -> None:
    assert token_digest(random_token()) != token_digest(random_token())


def test_constant_time_equal_when_same_text_then_true() -> None:
    assert constant_time_equal("123456", "123456")


def test_constant_time_equal_when_texts_differ_then_false() -> None:
    assert not constant_time_equal("123456", "123457")
    assert not constant_time_equal("123456", "1234567")


def test_constant_time_equal_when_non_ascii_text_then_compares_instead_of_raising() -> None:
    assert constant_time_equal("café", "café")
    assert not constant_time_equal("café", "cafe")


def test_constant_time_equal_when_bytes_and_text_then_compares_utf8() -> None:
    assert constant_time_equal(b"caf\xc3\xa9", "café")
    assert not constant_time_equal(b"\x00", b"\x01")


def test_keyed_code_digest_when_computed_then_hmac_sha256_of_length_prefixed_purpose() -> None:
    expected = hmac.new(KEY, b"\x00\x00\x00\x05login123456", hashlib.sha256).digest()
    assert keyed_code_digest(KEY, "login", "123456") == expected


def test_keyed_code_digest_when_purpose_and_code_split_differently_then_digests_differ() -> None:
    assert keyed_code_digest(KEY, "ab", "c") != keyed_code_digest(KEY, "a", "bc")


def test_keyed_code_digest_when_purpose_differs_then_digests_differ() -> None:
    assert keyed_code_digest(KEY, "login", "123456") != keyed_code_digest(KEY, "reset", "123456")


def test_keyed_code_digest_when_leaked_then_unkeyed_brute_force_finds_nothing() -> None:
    stored = keyed_code_digest(KEY, "login", "000042")
    guesses = {hashlib.sha256(f"{n:06d}".encode()).digest() for n in range(100)}
    assert stored not in guesses
    other_key = bytes(32)
    assert all(keyed_code_digest(other_key, "login", f"{n:06d}") != stored for n in range(100))


def test_keyed_code_digest_when_key_too_short_then_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        keyed_code_digest(bytes(MIN_CODE_KEY_BYTES - 1), "login", "123456")


def test_keyed_code_digest_when_purpose_empty_then_refused() -> None:
    with pytest.raises(ValueError, match="purpose"):
        keyed_code_digest(KEY, "", "123456")


@given(st.text(min_size=1, max_size=20), st.text(max_size=20))
def test_keyed_code_digest_is_32_bytes_and_deterministic(purpose: str, code: str) -> None:
    first = keyed_code_digest(KEY, purpose, code)
    assert len(first) == 32
    assert first == keyed_code_digest(KEY, purpose, code)
