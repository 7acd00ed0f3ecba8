"""A Bloom filter of every stored (account, client order id): most new orders skip a query.

Idempotency needs to know whether a client order id was used before. The database's
unique index is the truth; this filter answers "certainly new" for almost every new id,
so only a possible repeat (a real retry, or a rare false positive) is looked up.
"""

from __future__ import annotations

import hashlib

MIN_BITS = 1 << 24
BITS_PER_ID = 16
HASHES = 4
_INDEX_BYTES = 4
_SHIFTS = tuple(range(0, HASHES * _INDEX_BYTES * 8, _INDEX_BYTES * 8))
"""Where each index's bits start in the digest read as one little-endian integer."""


class ClientIdFilter:
    """Remembers ids approximately: no false negatives, few false positives."""

    def __init__(self, expected_ids: int = 0) -> None:
        bits = MIN_BITS
        while bits < expected_ids * BITS_PER_ID:
            bits <<= 1
        self._mask = bits - 1
        self._bits = bytearray(bits // 8)

    def add(self, account_id: str, client_order_id: str) -> None:
        """Remember an id as used."""
        for index in self._indexes(account_id, client_order_id):
            self._bits[index >> 3] |= 1 << (index & 7)

    def may_contain(self, account_id: str, client_order_id: str) -> bool:
        """False if the id was certainly never added."""
        bits = self._bits
        return all(
            bits[index >> 3] & (1 << (index & 7))
            for index in self._indexes(account_id, client_order_id)
        )

    def _indexes(self, account_id: str, client_order_id: str) -> list[int]:
        key = f"{account_id}\x00{client_order_id}".encode()
        digest = hashlib.blake2b(key, digest_size=HASHES * _INDEX_BYTES).digest()
        value, mask = int.from_bytes(digest, "little"), self._mask
        return [value >> shift & mask for shift in _SHIFTS]
