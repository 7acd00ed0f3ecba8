"""RFC 9162 (Certificate Transparency v2) Merkle tree over SHA-256: hashes, roots and proofs.

Pure functions over *leaf hashes* (``leaf_hash(entry)``), never over raw entries, so the
caller decides what an entry's bytes are. Section references are to RFC 9162:

- ``leaf_hash`` / ``node_hash`` / ``EMPTY_ROOT`` and ``root`` (MTH, section 2.1.1);
- ``CompactTree``: the Merkle frontier (one root per perfect subtree, one per set bit of
  the size), O(log n) memory, appends in amortised O(1) hashes, ``root()`` in O(log n);
  ``to_state()`` / ``from_state()`` let a checkpoint writer resume without the leaves;
- ``inclusion_proof`` / ``verify_inclusion`` (PATH, sections 2.1.3.1 and 2.1.3.2);
- ``consistency_proof`` / ``verify_consistency`` (PROOF/SUBPROOF, sections 2.1.4.1 and
  2.1.4.2).

Generation takes the whole list of leaf hashes and does O(n) hashing (each proof node is
the root of a disjoint subtree, computed level by level) with O(log n) proof nodes; it
raises ``ValueError`` for impossible arguments. Verification does O(log n) hashing and
returns ``False`` (never raises) for any malformed or adversarial input.

A proof binds leaf hashes to a root, not to a tree size: a proof for one size can verify
against a different size whose path has the same shape (e.g. leaf 0 of 3 and of 4 with the
root of 3). The size must therefore come with the root from a signed tree head.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import TypedDict

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_TREE_SIZE = 2**64 - 1  # tree sizes are uint64 in RFC 9162

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256


class CompactTreeState(TypedDict):
    """JSON-able ``CompactTree`` checkpoint: leaf count and frontier roots, largest first."""

    size: int
    nodes: list[str]


def leaf_hash(data: bytes) -> bytes:
    """The RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash (MTH) of already-hashed leaves; ``EMPTY_ROOT`` when there are none."""
    _require_hashes(leaf_hashes)
    return _mth(leaf_hashes)


def _mth(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH level by level; carrying an odd last node up gives RFC's power-of-two split."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        pairs = iter(level)
        parents = [
            _sha256(_NODE_PREFIX + a + b).digest() for a, b in zip(pairs, pairs, strict=False)
        ]
        if len(level) % 2:
            parents.append(level[-1])
        level = parents
    return bytes(level[0])


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (``size`` >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def _require_hashes(leaf_hashes: Iterable[bytes]) -> None:
    """Raise ``ValueError`` unless every item is 32 bytes long."""
    if any(len(item) != HASH_SIZE for item in leaf_hashes):
        raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes")


class CompactTree:
    """An append-only Merkle frontier whose ``root()`` always equals ``root(all leaves)``."""

    __slots__ = ("_nodes", "_size")

    def __init__(self) -> None:
        self._size = 0
        # Roots of the perfect subtrees that make up the tree, one per set bit of ``size``
        # (2**bit leaves each), left to right, so the largest subtree comes first.
        self._nodes: list[bytes] = []

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    def append(self, leaf: bytes) -> None:
        """Append one leaf hash: amortised one node hash, at most log2(size) of them."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf hashes must be {HASH_SIZE} bytes")
        node, nodes, carry = bytes(leaf), self._nodes, self._size
        self._size = carry + 1
        while carry & 1:  # each trailing one bit is a perfect subtree the new leaf completes
            node = _sha256(_NODE_PREFIX + nodes.pop() + node).digest()
            carry >>= 1
        nodes.append(node)

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append leaf hashes in order (checked first, so a bad one appends nothing)."""
        batch = list(leaf_hashes)
        _require_hashes(batch)
        nodes, size, sha256 = self._nodes, self._size, _sha256
        for leaf in batch:  # append() inlined: this loop runs once per event when verifying
            node, carry = leaf, size
            while carry & 1:
                node = sha256(_NODE_PREFIX + nodes.pop() + node).digest()
                carry >>= 1
            nodes.append(node)
            size += 1
        self._size = size

    def root(self) -> bytes:
        """The Merkle Tree Hash of every leaf appended so far, in O(log n) hashes."""
        if not self._nodes:
            return EMPTY_ROOT
        nodes = reversed(self._nodes)
        accumulated = next(nodes)
        for left in nodes:
            accumulated = node_hash(left, accumulated)
        return accumulated

    def to_state(self) -> CompactTreeState:
        """A JSON-able checkpoint of the tree: ``{"size": n, "nodes": [hex, ...]}``."""
        return {"size": self._size, "nodes": [node.hex() for node in self._nodes]}

    @classmethod
    def from_state(cls, state: Mapping[str, object]) -> CompactTree:
        """Rebuild a tree from ``to_state()`` output; ``ValueError`` if it is malformed."""
        size, nodes = _parse_state(state)
        tree = cls()
        tree._size = size
        tree._nodes = nodes
        return tree


def _parse_state(state: Mapping[str, object]) -> tuple[int, list[bytes]]:
    """Validate a ``CompactTreeState`` mapping and decode its nodes."""
    if set(state) != {"size", "nodes"}:
        raise ValueError("compact tree state needs exactly the keys 'size' and 'nodes'")
    size, nodes = state["size"], state["nodes"]
    if type(size) is not int or not 0 <= size <= MAX_TREE_SIZE:
        raise ValueError("compact tree state 'size' must be an integer in [0, 2**64)")
    if not isinstance(nodes, list) or len(nodes) != size.bit_count():
        raise ValueError("compact tree state needs one node per set bit of 'size'")
    return size, [_decode_node(node) for node in nodes]


def _decode_node(text: object) -> bytes:
    """Decode one lowercase 64-digit hex node hash."""
    if not isinstance(text, str) or len(text) != 2 * HASH_SIZE:
        raise ValueError("compact tree state nodes must be 64 hex digits")
    try:
        node = bytes.fromhex(text)
    except ValueError:
        raise ValueError("compact tree state nodes must be 64 hex digits") from None
    if node.hex() != text:
        raise ValueError("compact tree state nodes must be lowercase hex")
    return node


def inclusion_proof(leaf_index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(leaf_index, D[n]): the audit path of one leaf, leaf-side sibling first."""
    _require_hashes(leaf_hashes)
    if not 0 <= leaf_index < len(leaf_hashes):
        raise ValueError(f"leaf index {leaf_index} outside a tree of {len(leaf_hashes)} leaves")
    path: list[bytes] = []
    low, high = 0, len(leaf_hashes)
    while high - low > 1:  # walk down from the root; each level adds the other subtree
        middle = low + _split(high - low)
        if leaf_index < middle:
            path.append(_mth(leaf_hashes[middle:high]))
            high = middle
        else:
            path.append(_mth(leaf_hashes[low:middle]))
            low = middle
    path.reverse()
    return path


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(old_size, D[n]) via SUBPROOF; empty when ``old_size`` equals the tree size."""
    _require_hashes(leaf_hashes)
    if not 0 < old_size <= len(leaf_hashes):
        raise ValueError(f"old size {old_size} outside (0, {len(leaf_hashes)}]")
    proof: list[bytes] = []
    low, high, known = 0, len(leaf_hashes), True  # ``known`` is SUBPROOF's boolean flag
    while old_size != high:  # SUBPROOF(old_size - low, D[low:high], known), not yet m == n
        middle = low + _split(high - low)
        if old_size <= middle:
            proof.append(_mth(leaf_hashes[middle:high]))
            high = middle
        else:
            proof.append(_mth(leaf_hashes[low:middle]))
            low, known = middle, False
    if not known:  # m == n with b false: the verifier needs this subtree's hash
        proof.append(_mth(leaf_hashes[low:high]))
    proof.reverse()
    return proof


def verify_inclusion(
    leaf_hash: bytes,
    leaf_index: int,
    tree_size: int,
    proof: Sequence[bytes],
    root: bytes,
) -> bool:
    """Whether ``proof`` shows ``leaf_hash`` at ``leaf_index`` under ``root`` (section 2.1.3.2)."""
    if not (_is_size(tree_size) and _is_size(leaf_index) and leaf_index < tree_size):
        return False
    if not (_is_hash(leaf_hash) and _is_hash(root) and all(map(_is_hash, proof))):
        return False
    computed = _root_from_inclusion(leaf_hash, leaf_index, tree_size, proof)
    return computed == root


def _root_from_inclusion(
    leaf_hash: bytes, leaf_index: int, tree_size: int, proof: Sequence[bytes]
) -> bytes | None:
    """Steps 2-5 of RFC 9162 section 2.1.3.2; ``None`` where the proof has the wrong length."""
    fn, sn = leaf_index, tree_size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_to_odd(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def _shift_to_odd(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift both until LSB(fn) is set or fn is 0 (a no-op when LSB(fn) is set)."""
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree ``new_root`` extends ``old_root`` (section 2.1.4.2).

    Equal sizes (outside the RFC algorithm's 0 < first < second) are consistent with an
    empty proof and equal roots; an old size of 0 has no proof in RFC 9162 and is refused.
    """
    if not (_is_size(old_size) and _is_size(new_size) and 0 < old_size <= new_size):
        return False
    if not (_is_hash(old_root) and _is_hash(new_root) and all(map(_is_hash, proof))):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    roots = _roots_from_consistency(old_size, new_size, old_root, proof)
    return roots == (old_root, new_root)


def _roots_from_consistency(
    first: int, second: int, first_hash: bytes, consistency_path: Sequence[bytes]
) -> tuple[bytes, bytes] | None:
    """Steps 1-6 of RFC 9162 section 2.1.4.2: (fr, sr), or ``None`` where verification fails."""
    if not consistency_path:
        return None
    path = list(consistency_path)
    if first & (first - 1) == 0:
        path.insert(0, first_hash)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            fn, sn = _shift_to_odd(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return (fr, sr) if sn == 0 else None


def _is_size(value: object) -> bool:
    """Whether ``value`` is a tree size or index RFC 9162 can express (a uint64)."""
    return type(value) is int and 0 <= value <= MAX_TREE_SIZE


def _is_hash(value: object) -> bool:
    """Whether ``value`` is a 32-byte ``bytes`` hash."""
    return type(value) is bytes and len(value) == HASH_SIZE
