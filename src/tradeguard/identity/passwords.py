"""Passwords: Argon2id hashing, Unicode normalisation and the strength policy.

Follows OWASP ASVS 4 level 2 (2.1 and 2.4) and NIST SP 800-63B: passwords are
normalised to NFKC, never trimmed or truncated, hashed with Argon2id at no less than
the OWASP minimum, checked against a list of common passwords and scored by zxcvbn.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

import argon2
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn  # type: ignore[import-untyped]
from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

from tradeguard.core.errors import TradeGuardError
from tradeguard.identity.secrets import random_token

OWASP_MIN_MEMORY_KIB = 19_456
OWASP_MIN_TIME_COST = 2
MIN_PARALLELISM = 1
ARGON2ID_PREFIX = "$argon2id$"
_HASH_BYTES = 32
_SALT_BYTES = 16

ASVS_MIN_LENGTH = 12
ASVS_MIN_ALLOWED_MAX_LENGTH = 64
ASVS_MAX_LENGTH = 128
MAX_ZXCVBN_SCORE = 4
# zxcvbn matches every substring against its dictionaries and then searches the cheapest
# cover, so its cost grows faster than linearly with the length; 100 characters keep one
# check in the tens of milliseconds. Characters past the cap can only add strength, so
# scoring the prefix errs on the strict side.
ZXCVBN_INPUT_LIMIT = 100
MIN_COMMON_BASE_LENGTH = 8
MIN_USER_DATA_LENGTH = 4

_COMMON_PASSWORDS: frozenset[str] = frozenset(FREQUENCY_LISTS["passwords"])
# zxcvbn keeps the user inputs of the call in progress in a module-level dictionary, so
# two threads scoring at once would see each other's inputs.
_ZXCVBN_LOCK = threading.Lock()


def _require_at_least(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")


def _require_between(name: str, value: int, minimum: int, maximum: int) -> None:
    _require_at_least(name, value, minimum)
    if value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value}")


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    """Argon2id cost parameters, refusing anything below the OWASP minimum."""

    memory_kib: int = OWASP_MIN_MEMORY_KIB
    time_cost: int = OWASP_MIN_TIME_COST
    parallelism: int = MIN_PARALLELISM

    def __post_init__(self) -> None:
        _require_at_least("memory_kib", self.memory_kib, OWASP_MIN_MEMORY_KIB)
        _require_at_least("time_cost", self.time_cost, OWASP_MIN_TIME_COST)
        _require_at_least("parallelism", self.parallelism, MIN_PARALLELISM)


DEFAULT_ARGON2_PARAMETERS = Argon2Parameters()


def normalize_password(text: str) -> str:
    """The NFKC form of a password; nothing is trimmed or truncated."""
    return unicodedata.normalize("NFKC", text)


class PasswordHasher:
    """Hashes and verifies passwords with Argon2id only."""

    def __init__(self, params: Argon2Parameters = DEFAULT_ARGON2_PARAMETERS) -> None:
        self._params = params
        self._argon2 = argon2.PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_kib,
            parallelism=params.parallelism,
            hash_len=_HASH_BYTES,
            salt_len=_SALT_BYTES,
            type=argon2.Type.ID,
        )
        self._dummy_hash = self._argon2.hash(random_token())

    @property
    def params(self) -> Argon2Parameters:
        """The parameters new hashes are made with."""
        return self._params

    def hash(self, password: str) -> str:
        """The encoded Argon2id hash of the normalised password, with a fresh salt."""
        return self._argon2.hash(normalize_password(password))

    def verify(self, stored_hash: str, password: str) -> bool:
        """Whether the password matches the stored hash; False for any malformed hash."""
        if not _is_argon2id(stored_hash):
            # Spend the same time as a real check so a broken record does not stand out.
            self.verify_dummy(password)
            return False
        return self._verify_argon2id(stored_hash, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether the stored hash was made with other parameters than the current ones."""
        if not _is_argon2id(stored_hash):
            return True
        try:
            return self._argon2.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def verify_dummy(self, password: str) -> None:
        """Verify against a throw-away hash, for unknown users, at the cost of a real check."""
        self._verify_argon2id(self._dummy_hash, password)

    def _verify_argon2id(self, stored_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(stored_hash, normalize_password(password))
        except (VerificationError, InvalidHashError):
            return False


class PasswordRejection(StrEnum):
    """Stable reason codes for a refused password."""

    TOO_SHORT = "PASSWORD_TOO_SHORT"
    TOO_LONG = "PASSWORD_TOO_LONG"
    COMMON = "PASSWORD_COMMON"
    TOO_WEAK = "PASSWORD_TOO_WEAK"
    CONTAINS_USER_DATA = "PASSWORD_CONTAINS_USER_DATA"


class WeakPasswordError(TradeGuardError):
    """A password the policy refuses, with a stable reason code and a message for people."""

    def __init__(self, reason: PasswordRejection, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Rules a new password must pass: length, common list, personal data and zxcvbn."""

    min_length: int = ASVS_MIN_LENGTH
    max_length: int = ASVS_MAX_LENGTH
    min_score: int = 3

    def __post_init__(self) -> None:
        _require_between("min_length", self.min_length, ASVS_MIN_LENGTH, self.max_length)
        _require_between(
            "max_length", self.max_length, ASVS_MIN_ALLOWED_MAX_LENGTH, ASVS_MAX_LENGTH
        )
        _require_between("min_score", self.min_score, 0, MAX_ZXCVBN_SCORE)

    def check(self, password: str, *, user_inputs: Sequence[str] = ()) -> None:
        """Raise ``WeakPasswordError`` unless the password passes every rule."""
        candidate = normalize_password(password)
        self._check_length(candidate)
        if is_common_password(candidate):
            raise WeakPasswordError(
                PasswordRejection.COMMON, "This password is on a list of commonly used passwords."
            )
        personal = personal_fragments(user_inputs)
        if any(fragment in candidate.casefold() for fragment in personal):
            raise WeakPasswordError(
                PasswordRejection.CONTAINS_USER_DATA,
                "The password must not contain your username or email address.",
            )
        self._check_strength(candidate, [*user_inputs, *personal])

    def _check_length(self, candidate: str) -> None:
        if len(candidate) < self.min_length:
            raise WeakPasswordError(
                PasswordRejection.TOO_SHORT,
                f"The password must have at least {self.min_length} characters.",
            )
        if len(candidate) > self.max_length:
            raise WeakPasswordError(
                PasswordRejection.TOO_LONG,
                f"The password must have at most {self.max_length} characters.",
            )

    def _check_strength(self, candidate: str, user_inputs: Sequence[str]) -> None:
        score, feedback = password_score(candidate, user_inputs)
        if score < self.min_score:
            message = " ".join(["This password is too easy to guess.", *feedback])
            raise WeakPasswordError(PasswordRejection.TOO_WEAK, message)


def is_common_password(password: str) -> bool:
    """Whether the password, or its base word before trailing digits and symbols, is common."""
    folded = normalize_password(password).casefold()
    if folded in _COMMON_PASSWORDS:
        return True
    base = _without_trailing_non_letters(folded)
    return len(base) >= MIN_COMMON_BASE_LENGTH and base in _COMMON_PASSWORDS


def personal_fragments(user_inputs: Sequence[str]) -> list[str]:
    """Case-folded usernames and email local parts long enough to refuse in a password."""
    fragments: list[str] = []
    for value in user_inputs:
        folded = normalize_password(value).strip().casefold()
        local_part = folded.rpartition("@")[0] or folded
        fragments.extend((local_part, local_part.partition("+")[0]))
    return sorted({item for item in fragments if len(item) >= MIN_USER_DATA_LENGTH})


def password_score(password: str, user_inputs: Sequence[str] = ()) -> tuple[int, list[str]]:
    """The zxcvbn score (0 to 4) of the password's prefix and zxcvbn's advice."""
    prefix = password[:ZXCVBN_INPUT_LIMIT]
    with _ZXCVBN_LOCK:
        result = zxcvbn(prefix, user_inputs=list(user_inputs), max_length=ZXCVBN_INPUT_LIMIT)
    return int(result["score"]), _feedback_lines(result["feedback"])


def _feedback_lines(feedback: Mapping[str, object]) -> list[str]:
    warning = feedback.get("warning")
    suggestions = feedback.get("suggestions")
    lines = [warning] if isinstance(warning, str) and warning else []
    if isinstance(suggestions, list):
        lines.extend(str(item) for item in suggestions)
    return lines


def _without_trailing_non_letters(text: str) -> str:
    end = len(text)
    while end and not text[end - 1].isalpha():
        end -= 1
    return text[:end]


def _is_argon2id(stored_hash: str) -> bool:
    # argon2-cffi encodes the hash as ASCII and would raise on anything else.
    return stored_hash.isascii() and stored_hash.startswith(ARGON2ID_PREFIX)
