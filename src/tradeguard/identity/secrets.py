"""Random tokens and their digests, shared by the credential modules.

High-entropy tokens (refresh tokens, links) are stored as a plain SHA-256 digest: nobody
can search 256 bits. Low-entropy codes (six-digit one-time codes) are stored as an HMAC
under a server key instead, so a leaked table cannot be reversed by trying all codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

MIN_TOKEN_BYTES = 16
MIN_CODE_KEY_BYTES = 32
_PURPOSE_LENGTH_BYTES = 4


def random_token(nbytes: int = 32) -> str:
    """A URL-safe random token of ``nbytes`` random bytes, base64url without padding."""
    if nbytes < MIN_TOKEN_BYTES:
        raise ValueError(f"a token needs at least {MIN_TOKEN_BYTES} random bytes")
    return base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).rstrip(b"=").decode("ascii")


def token_digest(token: str) -> bytes:
    """The SHA-256 digest under which a high-entropy token is stored."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    """Whether ``a`` equals ``b``, in time that does not depend on where they differ."""
    return hmac.compare_digest(_as_bytes(a), _as_bytes(b))


def keyed_code_digest(key: bytes, purpose: str, code: str) -> bytes:
    """The HMAC-SHA256 of a low-entropy code under a server key, bound to its purpose."""
    if len(key) < MIN_CODE_KEY_BYTES:
        raise ValueError(f"the code key must have at least {MIN_CODE_KEY_BYTES} bytes")
    if not purpose:
        raise ValueError("a code digest needs a purpose")
    return hmac.new(key, _purpose_and_code(purpose, code), hashlib.sha256).digest()


def _purpose_and_code(purpose: str, code: str) -> bytes:
    # The length prefix keeps ("ab", "c") and ("a", "bc") apart.
    encoded_purpose = purpose.encode("utf-8")
    prefix = len(encoded_purpose).to_bytes(_PURPOSE_LENGTH_BYTES, "big")
    return prefix + encoded_purpose + code.encode("utf-8")


def _as_bytes(value: str | bytes) -> bytes:
    # compare_digest refuses non-ASCII text, so text is compared as its UTF-8 bytes.
    return value.encode("utf-8") if isinstance(value, str) else value
