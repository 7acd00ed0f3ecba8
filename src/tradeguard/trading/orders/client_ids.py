"""A Bloom filter of every stored (account, client order id): most new orders skip a query.

Idempotency needs to know whether a client order id was used before. The database's
unique index is the truth; this filter answers "certainly new" for almost every new id,
so only a possible repeat (a real retry, or a rare false positive) is looked up.

The ``HASHES`` bit positions come from one 64-bit hash of the pair (Python's ``hash``:
SipHash of each string, keyed per process, combined by the tuple), by double hashing.
The filter only decides whether a query is skipped, never whether an order is taken:
ids an attacker made collide (without the process's key) would cost that attacker a
query each, the price of a real retry. A new id usually misses at the first position.
"""

from __future__ import annotations

MIN_BITS = 1 << 24
BITS_PER_ID = 16
HASHES = 4
_UINT64 = (1 << 64) - 1
_HALF = 32


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
        bits, mask = self._bits, self._mask
        value = hash((account_id, client_order_id)) & _UINT64
        index, step = value, value >> _HALF | 1
        for _ in range(HASHES):
            position = index & mask
            bits[position >> 3] |= 1 << (position & 7)
            index += step

    def may_contain(self, account_id: str, client_order_id: str) -> bool:
        """False if the id was certainly never added."""
        bits, mask = self._bits, self._mask
        value = hash((account_id, client_order_id)) & _UINT64
        index, step = value, value >> _HALF | 1
        for _ in range(HASHES):
            position = index & mask
            if not bits[position >> 3] & (1 << (position & 7)):
                return False
            index += step
        return True
