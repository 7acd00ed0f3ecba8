"""Backup codes: single-use recovery codes people can print and type back.

Each code is 16 characters of Crockford's base32 alphabet (80 random bits), shown in
groups of four. Typing is forgiving: case, dashes and spaces do not matter, and the
letters O, I and L read as the digits they resemble. The caller stores only the hashes
and removes a hash once its code has been used.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from tradeguard.identity.secrets import constant_time_equal

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16
GROUP_LENGTH = 4
GROUP_SEPARATOR = "-"
DEFAULT_COUNT = 10
MAX_COUNT = 100
_MAX_INPUT_CHARS = 64
_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_IGNORED = frozenset(f"{GROUP_SEPARATOR} \t")


def generate_backup_codes(count: int = DEFAULT_COUNT) -> list[str]:
    """``count`` distinct fresh codes, formatted for display as ``XXXX-XXXX-XXXX-XXXX``."""
    if not 1 <= count <= MAX_COUNT:
        raise ValueError(f"count must be between 1 and {MAX_COUNT}")
    codes: dict[str, None] = {}
    while len(codes) < count:
        codes[_random_code()] = None
    return list(codes)


def normalize_backup_code(text: str) -> str:
    """The canonical display form of a typed code; ``ValueError`` if it cannot be one."""
    if len(text) > _MAX_INPUT_CHARS or not text.isascii():
        raise ValueError("not a backup code")
    compact = "".join(char for char in text.upper() if char not in _IGNORED)
    compact = compact.translate(_LOOK_ALIKES)
    if len(compact) != CODE_LENGTH or not set(compact) <= set(ALPHABET):
        raise ValueError("not a backup code")
    return _grouped(compact)


def hash_backup_code(code: str) -> str:
    """The hex SHA-256 of the code's canonical form, as stored."""
    # A fast unkeyed hash suffices: 80 random bits cannot be searched even at GPU speed,
    # while Argon2 over ten stored codes would make each attempt cost ten password checks.
    return hashlib.sha256(normalize_backup_code(code).encode("ascii")).hexdigest()


def verify_backup_code(stored_hashes: Sequence[str], code: str) -> int | None:
    """The index of the stored hash the code matches, or None; the caller then removes it."""
    try:
        digest = hash_backup_code(code)
    except ValueError:
        return None
    matched: int | None = None
    # Every stored hash is compared, so timing does not reveal the position of a match.
    for index, stored in enumerate(stored_hashes):
        if constant_time_equal(stored, digest) and matched is None:
            matched = index
    return matched


def _random_code() -> str:
    return _grouped("".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH)))


def _grouped(compact: str) -> str:
    groups = (
        compact[start : start + GROUP_LENGTH] for start in range(0, CODE_LENGTH, GROUP_LENGTH)
    )
    return GROUP_SEPARATOR.join(groups)
