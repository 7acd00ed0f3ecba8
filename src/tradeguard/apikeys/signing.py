r"""The request-signing scheme of API keys, shared by the server and ``tradeguard.client``.

A signed request carries four headers: ``TG-API-KEY`` (the key's public id),
``TG-TIMESTAMP`` (Unix time in milliseconds), ``TG-NONCE`` (at least 128 random bits,
hex or base64url) and ``TG-SIGNATURE``: the hex HMAC-SHA256, keyed with the secret's
text, of the canonical string::

    timestamp \n nonce \n METHOD \n path \n canonical query \n hex SHA-256 of the body

The path is the percent-encoded path as sent on the request line, without the query.
The canonical query is the query's parameters decoded, sorted by name alone (a stable
sort: the values of a repeated parameter keep the order they were sent in, which a route
may read), percent-encoded again (RFC 3986 unreserved characters kept) and joined with
``&``. ``?state=open&state=all`` and ``?state=all&state=open`` are two requests with two
canonical forms; ``?a=1&b=2`` and ``?b=2&a=1`` are one. This module
uses the standard library only, so clients can take it alone. ``docs/api-signing.md``
works an example through.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import parse_qsl, quote

HEADER_KEY = "TG-API-KEY"
HEADER_TIMESTAMP = "TG-TIMESTAMP"
HEADER_NONCE = "TG-NONCE"
HEADER_SIGNATURE = "TG-SIGNATURE"
NONCE_BYTES = 16
NONCE = re.compile(r"[A-Za-z0-9_-]{22,128}")
HEX_NONCE = re.compile(r"[0-9a-fA-F]+")
MIN_HEX_NONCE = 32
TIMESTAMP = re.compile(r"[0-9]{1,15}")
SIGNATURE = re.compile(r"[0-9a-f]{64}")
UNRESERVED = "-_.~"


def canonical_query(query: str) -> str:
    """The query string's parameters decoded, sorted by name and percent-encoded again.

    The sort is by name only and stable, so the values of a repeated parameter stay in the
    order they were sent: reordering them changes the canonical form.
    """
    if not query:
        return ""
    pairs = sorted(parse_qsl(query, keep_blank_values=True), key=_name)
    return "&".join(f"{_encode(name)}={_encode(value)}" for name, value in pairs)


def body_digest(body: bytes) -> str:
    """The hex SHA-256 of the request body (of no bytes when there is no body)."""
    return hashlib.sha256(body).hexdigest()


def canonical_string(  # noqa: PLR0913, PLR0917 - the six parts of the scheme, in its order
    timestamp: str, nonce: str, method: str, path: str, query: str, body: bytes
) -> str:
    """The text that is signed: six lines, in the order of the scheme."""
    parts = (timestamp, nonce, method.upper(), path, canonical_query(query), body_digest(body))
    return "\n".join(parts)


def signature(secret: str, canonical: str) -> str:
    """The hex HMAC-SHA256 of ``canonical`` keyed with the secret's UTF-8 text."""
    return hmac.new(secret.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def signatures_match(expected: str, presented: str) -> bool:
    """Constant-time comparison of two hex signatures."""
    return hmac.compare_digest(expected.encode(), presented.encode())


def new_nonce() -> str:
    """128 random bits as 32 hex digits."""
    return secrets.token_hex(NONCE_BYTES)


def valid_nonce(nonce: str) -> bool:
    """Whether ``nonce`` can carry 128 bits: ≥ 32 hex digits or ≥ 22 base64url characters."""
    if NONCE.fullmatch(nonce) is None:
        return False
    return HEX_NONCE.fullmatch(nonce) is None or len(nonce) >= MIN_HEX_NONCE


def signed_headers(  # noqa: PLR0913 - what a signature covers, named
    key_id: str,
    secret: str,
    *,
    method: str,
    path: str,
    query: str = "",
    body: bytes = b"",
    timestamp_ms: int,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers that sign one request."""
    nonce = nonce or new_nonce()
    timestamp = str(timestamp_ms)
    canonical = canonical_string(timestamp, nonce, method, path, query, body)
    return {
        HEADER_KEY: key_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature(secret, canonical),
    }


def _name(pair: tuple[str, str]) -> str:
    return pair[0]


def _encode(text: str) -> str:
    return quote(text, safe=UNRESERVED)
