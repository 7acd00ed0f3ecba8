import hashlib
import json
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeguard.audit.merkle import (
    EMPTY_ROOT,
    CompactTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# --- Hand-composed trees ---------------------------------------------------------------

l0, l1, l2, l3, l4, l5, l6, l7 = (leaf_hash(f"entry-{i}".encode()) for i in range(8))
HAND_LEAVES = [l0, l1, l2, l3, l4, l5, l6, l7]
HAND_ROOTS = {
    0: hashlib.sha256(b"").digest(),
    1: l0,
    2: node_hash(l0, l1),
    3: node_hash(node_hash(l0, l1), l2),
    4: node_hash(node_hash(l0, l1), node_hash(l2, l3)),
    5: node_hash(node_hash(node_hash(l0, l1), node_hash(l2, l3)), l4),
    6: node_hash(node_hash(node_hash(l0, l1), node_hash(l2, l3)), node_hash(l4, l5)),
    7: node_hash(node_hash(node_hash(l0, l1), node_hash(l2, l3)), node_hash(node_hash(l4, l5), l6)),
    8: node_hash(
        node_hash(node_hash(l0, l1), node_hash(l2, l3)),
        node_hash(node_hash(l4, l5), node_hash(l6, l7)),
    ),
}

# --- Known answers: transparency-dev/merkle (ex google/certificate-transparency) -------
# Leaf data, prefix roots and proofs are copied from proof/verify_test.go; the hasher
# vectors from rfc6962/rfc6962_test.go. Their proofs are RFC 6962 proofs, which RFC 9162
# keeps unchanged for SHA-256.

CT_LEAF_DATA = [
    bytes.fromhex(text)
    for text in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_LEAVES = [leaf_hash(data) for data in CT_LEAF_DATA]
CT_ROOTS = {  # tree size -> root of the first `size` leaves
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}
# (leaf index, tree size, proof); the Go file numbers leaves from 1, these from 0.
CT_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (old size, new size, proof)
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

# --- Proof shapes: transparency-dev/merkle proof/proof_test.go ------------------------
# Each proof node as the leaf range [start, end) whose subtree root it is; the Go file's
# "rehash" runs (nodes missing from storage) are merged into the one RFC node they form.

STRUCTURAL_INCLUSION = [
    (0, 7, [(1, 2), (2, 4), (4, 7)]),
    (1, 7, [(0, 1), (2, 4), (4, 7)]),
    (2, 7, [(3, 4), (0, 2), (4, 7)]),
    (3, 7, [(2, 3), (0, 2), (4, 7)]),
    (4, 7, [(5, 6), (6, 7), (0, 4)]),
    (5, 7, [(4, 5), (6, 7), (0, 4)]),
    (6, 7, [(4, 6), (0, 4)]),
    (2, 4, [(3, 4), (0, 2)]),
    (3, 5, [(2, 3), (0, 2), (4, 5)]),
    (3, 6, [(2, 3), (0, 2), (4, 6)]),
    (4, 6, [(5, 6), (0, 4)]),
    (10, 15, [(11, 12), (8, 10), (12, 15), (0, 8)]),
    (24, 31, [(25, 26), (26, 28), (28, 31), (16, 24), (0, 16)]),
    (81, 95, [(80, 81), (82, 84), (84, 88), (88, 95), (64, 80), (0, 64)]),
]
STRUCTURAL_CONSISTENCY = [
    (1, 2, [(1, 2)]),
    (1, 4, [(1, 2), (2, 4)]),
    (1, 6, [(1, 2), (2, 4), (4, 6)]),
    (2, 3, [(2, 3)]),
    (2, 8, [(2, 4), (4, 8)]),
    (3, 7, [(2, 3), (3, 4), (0, 2), (4, 7)]),
    (4, 7, [(4, 7)]),
    (5, 7, [(4, 5), (5, 6), (6, 7), (0, 4)]),
    (6, 7, [(4, 6), (6, 7), (0, 4)]),
    (7, 8, [(6, 7), (7, 8), (4, 6), (0, 4)]),
    (2, 4, [(2, 4)]),
    (3, 5, [(2, 3), (3, 4), (0, 2), (4, 5)]),
    (3, 6, [(2, 3), (3, 4), (0, 2), (4, 6)]),
    (4, 6, [(4, 6)]),
    (1, 7, [(1, 2), (2, 4), (4, 7)]),
    (10, 15, [(8, 10), (10, 12), (12, 15), (0, 8)]),
    (24, 31, [(16, 24), (24, 31), (0, 16)]),
    (81, 95, [(80, 81), (81, 82), (82, 84), (84, 88), (88, 95), (64, 80), (0, 64)]),
    *((size, size, []) for size in (1, 2, 3, 4, 5, 7, 8)),
]


def _hashes(texts: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(text) for text in texts]


def _distinct_leaves(size: int, salt: bytes = b"") -> list[bytes]:
    return [leaf_hash(salt + b"/" + index.to_bytes(4, "big")) for index in range(size)]


def _flip(proof: Sequence[bytes], element: int, position: int, mask: int = 0x08) -> list[bytes]:
    changed = bytearray(proof[element])
    changed[position] ^= mask
    return [*proof[:element], bytes(changed), *proof[element + 1 :]]


def _power_of_two_below(size: int) -> int:
    power = 1
    while power * 2 < size:
        power *= 2
    return power


def _inclusion_shape(index: int, size: int) -> tuple[str, ...]:
    """Sibling sides along PATH(index, D[size]), leaf first, per the recursive definition."""
    sides = []
    while size > 1:
        split = _power_of_two_below(size)
        if index < split:
            sides.append("right")
            size = split
        else:
            sides.append("left")
            index, size = index - split, size - split
    return tuple(reversed(sides))


def _consistency_shape(old: int, new: int) -> tuple[bool, tuple[str, ...]]:
    """(old root prepended, sibling sides) of PROOF(old, D[new]) per SUBPROOF."""
    sides, known = [], True
    while old != new:
        split = _power_of_two_below(new)
        if old <= split:
            sides.append("right")
            new = split
        else:
            sides.append("left")
            old, new, known = old - split, new - split, False
    return known, tuple(reversed(sides))


def _grown(leaves: Sequence[bytes]) -> CompactTree:
    tree = CompactTree()
    for leaf in leaves:
        tree.append(leaf)
    return tree


# --- Hashing primitives --------------------------------------------------------------


def test_hashes_when_rfc6962_hasher_vectors_then_match() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@given(st.binary(), st.binary(), st.binary())
def test_hashes_when_any_input_then_prefixed_sha256(data: bytes, left: bytes, right: bytes) -> None:
    assert leaf_hash(data) == hashlib.sha256(b"\x00" + data).digest()
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()


def test_hashes_when_leaf_of_concatenated_children_then_differs_from_node() -> None:
    assert leaf_hash(l0 + l1) != node_hash(l0, l1)
    assert node_hash(l0, l1) != node_hash(l1, l0)


# --- Roots -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 6, 7, 8])
def test_root_when_hand_composed_tree_then_equal(size: int) -> None:
    assert root(HAND_LEAVES[:size]) == HAND_ROOTS[size]
    assert _grown(HAND_LEAVES[:size]).root() == HAND_ROOTS[size]


@pytest.mark.parametrize("size", sorted(CT_ROOTS))
def test_root_when_ct_test_data_then_published_root(size: int) -> None:
    assert root(CT_LEAVES[:size]).hex() == CT_ROOTS[size]
    assert _grown(CT_LEAVES[:size]).root().hex() == CT_ROOTS[size]


def test_root_when_tuple_input_then_same_as_list() -> None:
    assert root(tuple(HAND_LEAVES[:5])) == HAND_ROOTS[5]


@pytest.mark.parametrize("bad", [b"", b"\x00" * 31, b"\x00" * 33])
def test_root_when_leaf_hash_wrong_length_then_value_error(bad: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        root([l0, bad])


def test_root_when_large_uneven_tree_then_equals_compact_tree() -> None:
    leaves = _distinct_leaves(2**16 + 3)
    tree = CompactTree()
    tree.extend(leaves)
    assert tree.size == len(leaves)
    assert root(leaves) == tree.root() == _grown(leaves).root()
    assert root(leaves) == node_hash(root(leaves[: 2**16]), root(leaves[2**16 :]))


# --- Compact tree -----------------------------------------------------------------------


@settings(deadline=None)
@given(st.integers(0, 300), st.binary(max_size=4))
def test_compact_tree_when_appending_then_root_matches_after_every_leaf(
    size: int, salt: bytes
) -> None:
    leaves = _distinct_leaves(size, salt)
    tree = CompactTree()
    assert tree.root() == EMPTY_ROOT
    for count, leaf in enumerate(leaves, start=1):
        tree.append(leaf)
        assert tree.size == count
        assert tree.root() == root(leaves[:count])


@settings(deadline=None)
@given(st.integers(0, 200), st.integers(0, 200), st.binary(max_size=4))
def test_compact_tree_when_state_round_trips_through_json_then_root_and_appends_continue(
    first: int, second: int, salt: bytes
) -> None:
    leaves = _distinct_leaves(first + second, salt)
    original = _grown(leaves[:first])
    state = json.loads(json.dumps(original.to_state()))
    restored = CompactTree.from_state(state)
    assert restored.size == first
    assert restored.root() == original.root() == root(leaves[:first])
    assert len(state["nodes"]) == first.bit_count()
    restored.extend(leaves[first:])
    for leaf in leaves[first:]:
        original.append(leaf)
    assert restored.root() == original.root() == root(leaves)
    assert restored.to_state() == original.to_state()


def test_compact_tree_when_state_of_five_leaves_then_frontier_is_perfect_subtrees() -> None:
    assert _grown(HAND_LEAVES[:5]).to_state() == {
        "size": 5,
        "nodes": [HAND_ROOTS[4].hex(), l4.hex()],
    }


@pytest.mark.parametrize(
    "state",
    [
        {"size": 1},
        {"nodes": []},
        {"size": 0, "nodes": [], "extra": 1},
        {"size": True, "nodes": [l0.hex()]},
        {"size": -1, "nodes": []},
        {"size": 2**64, "nodes": [l0.hex()]},
        {"size": "1", "nodes": [l0.hex()]},
        {"size": 1, "nodes": []},
        {"size": 3, "nodes": [l0.hex()]},
        {"size": 1, "nodes": l0.hex()},
        {"size": 1, "nodes": [l0.hex().upper()]},
        {"size": 1, "nodes": [l0.hex()[:-2]]},
        {"size": 1, "nodes": [l0.hex()[:-1] + "g"]},
        {"size": 1, "nodes": [" " + l0.hex()[1:]]},
        {"size": 1, "nodes": [7]},
    ],
)
def test_compact_tree_when_state_malformed_then_value_error(state: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="compact tree state"):
        CompactTree.from_state(state)


@pytest.mark.parametrize("bad", [b"", l0[:31], l0 + b"\x00"])
def test_compact_tree_when_leaf_hash_wrong_length_then_value_error_and_unchanged(
    bad: bytes,
) -> None:
    tree = _grown(HAND_LEAVES[:3])
    with pytest.raises(ValueError, match="32 bytes"):
        tree.append(bad)
    with pytest.raises(ValueError, match="32 bytes"):
        tree.extend([l3, bad])
    assert tree.size == 3
    assert tree.root() == HAND_ROOTS[3]


def test_compact_tree_when_appending_bytearray_then_later_mutation_has_no_effect() -> None:
    mutable = bytearray(l0)
    tree = CompactTree()
    tree.append(mutable)  # type: ignore[arg-type]
    mutable[0] ^= 1
    assert tree.root() == HAND_ROOTS[1]


# --- Inclusion proofs ----------------------------------------------------------------------


@pytest.mark.parametrize(("index", "size", "expected"), CT_INCLUSION)
def test_inclusion_when_ct_test_data_then_published_proof_verifies(
    index: int, size: int, expected: list[str]
) -> None:
    proof = inclusion_proof(index, CT_LEAVES[:size])
    assert [node.hex() for node in proof] == expected
    assert verify_inclusion(CT_LEAVES[index], index, size, proof, bytes.fromhex(CT_ROOTS[size]))


@pytest.mark.parametrize(("index", "size", "expected"), CT_INCLUSION[1:])
def test_inclusion_when_ct_vector_corrupted_then_rejected(
    index: int, size: int, expected: list[str]
) -> None:
    # The probes of transparency-dev/merkle's corruptInclusionProof.
    proof, good_root, leaf = _hashes(expected), bytes.fromhex(CT_ROOTS[size]), CT_LEAVES[index]
    probes = [
        (leaf, index - 1, size, proof, good_root),
        (leaf, index + 1, size, proof, good_root),
        (leaf, index ^ 2, size, proof, good_root),
        (leaf, index, size * 2, proof, good_root),
        (leaf, index, size // 2, proof, good_root),
        (b"WrongLeaf", index, size, proof, good_root),
        (leaf_hash(b"WrongLeaf"), index, size, proof, good_root),
        (leaf, index, size, proof, EMPTY_ROOT),
        (leaf, index, size, proof, SOME_HASH),
        (leaf, index, size, [*proof, b""], good_root),
        (leaf, index, size, [*proof, good_root], good_root),
        (leaf, index, size, [b"", *proof], good_root),
        (leaf, index, size, [good_root, *proof], good_root),
        (leaf, index, size, proof[:-1], good_root),
        (leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], good_root),
        *((leaf, index, size, _flip(proof, i, 0), good_root) for i in range(len(proof))),
    ]
    assert [verify_inclusion(*probe) for probe in probes] == [False] * len(probes)


@pytest.mark.parametrize("size", [3, 5, 7, 8])
def test_inclusion_when_any_byte_of_any_element_flipped_then_rejected(size: int) -> None:
    leaves, tree_root = CT_LEAVES[:size], bytes.fromhex(CT_ROOTS[size])
    for index in range(size):
        proof = inclusion_proof(index, leaves)
        assert verify_inclusion(leaves[index], index, size, proof, tree_root)
        for element in range(len(proof)):
            for position in range(32):
                tampered = _flip(proof, element, position, 0x80)
                assert not verify_inclusion(leaves[index], index, size, tampered, tree_root)


@pytest.mark.parametrize(("index", "size", "ranges"), STRUCTURAL_INCLUSION)
def test_inclusion_when_reference_shapes_then_nodes_are_those_subtrees(
    index: int, size: int, ranges: list[tuple[int, int]]
) -> None:
    leaves = _distinct_leaves(size)
    proof = inclusion_proof(index, leaves)
    assert proof == [root(leaves[start:end]) for start, end in ranges]
    assert verify_inclusion(leaves[index], index, size, proof, root(leaves))


def test_inclusion_when_hand_composed_then_expected_siblings() -> None:
    assert inclusion_proof(0, HAND_LEAVES[:1]) == []
    assert inclusion_proof(2, HAND_LEAVES[:5]) == [l3, node_hash(l0, l1), l4]
    assert inclusion_proof(6, HAND_LEAVES[:7]) == [node_hash(l4, l5), HAND_ROOTS[4]]


@settings(deadline=None, max_examples=60)
@given(st.integers(1, 64), st.binary(max_size=4), st.integers(0, 31), st.integers(1, 255))
def test_inclusion_when_random_tree_then_every_proof_verifies_and_tampering_fails(
    size: int, salt: bytes, position: int, mask: int
) -> None:
    leaves = _distinct_leaves(size, salt)
    tree_root = root(leaves)
    for index in range(size):
        proof = inclusion_proof(index, leaves)
        assert verify_inclusion(leaves[index], index, size, proof, tree_root)
        for element in range(len(proof)):
            tampered = _flip(proof, element, position, mask)
            assert not verify_inclusion(leaves[index], index, size, tampered, tree_root)
        for other in range(size):
            if other != index:
                assert not verify_inclusion(leaves[index], other, size, proof, tree_root)
                assert not verify_inclusion(leaves[other], index, size, proof, tree_root)
        assert not verify_inclusion(leaves[index], index, size, proof, root(leaves[:-1]))


@settings(deadline=None, max_examples=60)
@given(st.integers(1, 64), st.data())
def test_inclusion_when_wrong_size_then_accepted_only_for_an_identical_path_shape(
    size: int, data: st.DataObject
) -> None:
    # A proof fixes the path shape, not the size: leaf 0 of 3 and of 4 share one. The size
    # is bound by the signed tree head, so any other size must be rejected exactly when
    # its shape (from the recursive PATH definition) differs.
    leaves = _distinct_leaves(size)
    index = data.draw(st.integers(0, size - 1))
    proof, tree_root = inclusion_proof(index, leaves), root(leaves)
    for wrong in range(size + 70):
        if wrong != size:
            same_shape = index < wrong and _inclusion_shape(index, wrong) == _inclusion_shape(
                index, size
            )
            assert verify_inclusion(leaves[index], index, wrong, proof, tree_root) == same_shape


def test_inclusion_when_wrong_size_with_same_shape_then_accepted_as_documented() -> None:
    proof = inclusion_proof(0, HAND_LEAVES[:3])
    assert verify_inclusion(l0, 0, 4, proof, HAND_ROOTS[3])
    assert not verify_inclusion(l0, 0, 4, proof, HAND_ROOTS[4])


@pytest.mark.parametrize(
    ("index", "size"), [(0, 0), (1, 1), (2, 1), (-1, 3), (3, 3), (True, 3), (0, 2**64)]
)
def test_verify_inclusion_when_index_or_size_invalid_then_false(index: int, size: int) -> None:
    assert not verify_inclusion(l0, index, size, [], l0)
    assert not verify_inclusion(l0, index, size, [l1], node_hash(l0, l1))


def test_verify_inclusion_when_hashes_malformed_then_false_without_raising() -> None:
    proof = inclusion_proof(1, HAND_LEAVES[:2])
    assert verify_inclusion(l1, 1, 2, proof, HAND_ROOTS[2])
    assert not verify_inclusion(l1[:31], 1, 2, proof, HAND_ROOTS[2])
    assert not verify_inclusion(l1, 1, 2, proof, HAND_ROOTS[2] + b"\x00")
    assert not verify_inclusion(l1, 1, 2, [bytearray(l0)], HAND_ROOTS[2])  # type: ignore[list-item]
    assert not verify_inclusion(l1, 1, 2, ["00" * 32], HAND_ROOTS[2])  # type: ignore[list-item]
    assert not verify_inclusion(l1, 1, 2**64 - 1, proof, HAND_ROOTS[2])


@pytest.mark.parametrize("short", [b"", b"abc", l0[:31]])
def test_verify_inclusion_when_single_leaf_hashes_short_then_false(short: bytes) -> None:
    # transparency-dev/merkle TestVerifyInclusionSingleEntry: equal leaf and root of the
    # wrong size must not verify although the (empty) path would reproduce them.
    assert verify_inclusion(l0, 0, 1, [], l0)
    assert not verify_inclusion(short, 0, 1, [], short)


def test_verify_inclusion_when_index_negative_then_false_not_last_leaf() -> None:
    # Python's -1 has every bit set, so without the range check it walks like the last leaf.
    assert verify_inclusion(l1, 1, 2, [l0], HAND_ROOTS[2])
    assert not verify_inclusion(l1, -1, 2, [l0], HAND_ROOTS[2])


def test_verify_inclusion_when_size_beyond_uint64_then_false() -> None:
    # The right-hand leaf after a perfect left subtree: a one-node path at any height.
    left = SOME_HASH
    assert verify_inclusion(l1, 2**63, 2**63 + 1, [left], node_hash(left, l1))
    assert not verify_inclusion(l1, 2**64, 2**64 + 1, [left], node_hash(left, l1))


@pytest.mark.parametrize(("index", "size"), [(-1, 3), (3, 3), (0, 0)])
def test_inclusion_proof_when_index_outside_tree_then_value_error(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        inclusion_proof(index, HAND_LEAVES[:size])


# --- Consistency proofs ------------------------------------------------------------------


@pytest.mark.parametrize(("old", "new", "expected"), CT_CONSISTENCY)
def test_consistency_when_ct_test_data_then_published_proof_verifies(
    old: int, new: int, expected: list[str]
) -> None:
    proof = consistency_proof(old, CT_LEAVES[:new])
    assert [node.hex() for node in proof] == expected
    old_root, new_root = bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new])
    assert verify_consistency(old, new, old_root, new_root, proof)


@pytest.mark.parametrize(("old", "new", "expected"), CT_CONSISTENCY[1:])
def test_consistency_when_ct_vector_corrupted_then_rejected(
    old: int, new: int, expected: list[str]
) -> None:
    # The probes of transparency-dev/merkle's corruptConsistencyProof.
    proof = _hashes(expected)
    old_root, new_root = bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[new])
    probes = [
        (old - 1, new, old_root, new_root, proof),
        (old + 1, new, old_root, new_root, proof),
        (old ^ 2, new, old_root, new_root, proof),
        (old, new * 2, old_root, new_root, proof),
        (old, new // 2, old_root, new_root, proof),
        (old, new, b"WrongRoot", new_root, proof),
        (old, new, old_root, b"WrongRoot", proof),
        (old, new, SOME_HASH, new_root, proof),
        (old, new, old_root, SOME_HASH, proof),
        (old, new, new_root, old_root, proof),
        (old, new, old_root, new_root, []),
        (old, new, old_root, new_root, [*proof, b""]),
        (old, new, old_root, new_root, [*proof, old_root]),
        (old, new, old_root, new_root, [*proof, new_root]),
        (old, new, old_root, new_root, [b"", *proof]),
        (old, new, old_root, new_root, [old_root, *proof]),
        (old, new, old_root, new_root, [new_root, *proof]),
        (old, new, old_root, new_root, [proof[0], *proof]),
        (old, new, old_root, new_root, proof[:-1]),
        *((old, new, old_root, new_root, _flip(proof, i, 0, 0x10)) for i in range(len(proof))),
    ]
    assert [verify_consistency(*probe) for probe in probes] == [False] * len(probes)


def test_consistency_when_any_byte_of_any_element_flipped_then_rejected() -> None:
    for new in range(2, 9):
        new_root = bytes.fromhex(CT_ROOTS[new])
        for old in range(1, new):
            old_root, proof = bytes.fromhex(CT_ROOTS[old]), consistency_proof(old, CT_LEAVES[:new])
            assert verify_consistency(old, new, old_root, new_root, proof)
            for element in range(len(proof)):
                for position in range(32):
                    tampered = _flip(proof, element, position, 0x01)
                    assert not verify_consistency(old, new, old_root, new_root, tampered)


@pytest.mark.parametrize(("old", "new", "ranges"), STRUCTURAL_CONSISTENCY)
def test_consistency_when_reference_shapes_then_nodes_are_those_subtrees(
    old: int, new: int, ranges: list[tuple[int, int]]
) -> None:
    leaves = _distinct_leaves(new)
    proof = consistency_proof(old, leaves)
    assert proof == [root(leaves[start:end]) for start, end in ranges]
    assert verify_consistency(old, new, root(leaves[:old]), root(leaves), proof)


def test_consistency_when_hand_composed_then_expected_nodes() -> None:
    assert consistency_proof(3, HAND_LEAVES[:3]) == []
    assert consistency_proof(4, HAND_LEAVES[:7]) == [node_hash(node_hash(l4, l5), l6)]
    assert consistency_proof(3, HAND_LEAVES[:5]) == [l2, l3, node_hash(l0, l1), l4]


@settings(deadline=None, max_examples=150)
@given(st.integers(1, 64), st.data(), st.binary(max_size=4), st.integers(0, 31))
def test_consistency_when_random_sizes_then_proof_verifies_and_tampering_fails(
    new: int, data: st.DataObject, salt: bytes, position: int
) -> None:
    old = data.draw(st.integers(1, new))
    leaves = _distinct_leaves(new, salt)
    old_root, new_root = root(leaves[:old]), root(leaves)
    proof = consistency_proof(old, leaves)
    assert verify_consistency(old, new, old_root, new_root, proof)
    assert _grown(leaves[:old]).root() == old_root
    if old == new:
        assert proof == []
        assert not verify_consistency(old, new, old_root, new_root, [old_root])
        return
    for element in range(len(proof)):
        tampered = _flip(proof, element, position, 0x40)
        assert not verify_consistency(old, new, old_root, new_root, tampered)
    assert not verify_consistency(old, new, new_root, old_root, proof)
    assert not verify_consistency(new, old, new_root, old_root, proof)
    assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
    assert not verify_consistency(old, new, old_root, new_root, [*proof, new_root])


@settings(deadline=None, max_examples=150)
@given(st.integers(1, 64), st.data())
def test_consistency_when_wrong_sizes_then_accepted_only_for_an_identical_proof_shape(
    new: int, data: st.DataObject
) -> None:
    # As with inclusion, sizes come from signed tree heads: a proof is rejected for any
    # other pair of sizes unless SUBPROOF gives that pair the very same shape.
    old = data.draw(st.integers(1, new))
    leaves = _distinct_leaves(new)
    old_root, new_root = root(leaves[:old]), root(leaves)
    proof = consistency_proof(old, leaves)
    for wrong_old in {old - 1, old, old + 1, old ^ 1, old ^ 2, old * 2, old // 2, 0}:
        for wrong_new in {new - 1, new, new + 1, new ^ 1, new ^ 2, new * 2, new // 2, 0}:
            if (wrong_old, wrong_new) == (old, new):
                continue
            valid = 0 < wrong_old <= wrong_new
            same_shape = valid and _consistency_shape(wrong_old, wrong_new) == _consistency_shape(
                old, new
            )
            verdict = verify_consistency(wrong_old, wrong_new, old_root, new_root, proof)
            assert verdict == same_shape


def test_consistency_when_wrong_new_size_with_same_shape_then_accepted_as_documented() -> None:
    proof = consistency_proof(2, HAND_LEAVES[:3])
    assert verify_consistency(2, 4, HAND_ROOTS[2], HAND_ROOTS[3], proof)
    assert not verify_consistency(2, 4, HAND_ROOTS[2], HAND_ROOTS[4], proof)


@pytest.mark.parametrize(
    ("old", "new", "old_root", "new_root"),
    [
        (0, 0, EMPTY_ROOT, EMPTY_ROOT),
        (0, 1, EMPTY_ROOT, l0),
        (0, 3, EMPTY_ROOT, HAND_ROOTS[3]),
        (2, 1, HAND_ROOTS[2], l0),
        (1, 0, l0, EMPTY_ROOT),
        (-1, 2, l0, HAND_ROOTS[2]),
        (1, 2**64, l0, HAND_ROOTS[2]),
        (True, 2, l0, HAND_ROOTS[2]),
        (3, 3, HAND_ROOTS[3], HAND_ROOTS[4]),
    ],
)
def test_verify_consistency_when_sizes_invalid_then_false(
    old: int, new: int, old_root: bytes, new_root: bytes
) -> None:
    assert not verify_consistency(old, new, old_root, new_root, [])
    assert not verify_consistency(old, new, old_root, new_root, [l1])


def test_verify_consistency_when_equal_sizes_then_only_equal_roots_and_empty_proof() -> None:
    assert verify_consistency(3, 3, HAND_ROOTS[3], HAND_ROOTS[3], [])
    assert not verify_consistency(3, 3, HAND_ROOTS[3], HAND_ROOTS[3], [HAND_ROOTS[3]])


def test_verify_consistency_when_hashes_malformed_then_false_without_raising() -> None:
    proof = consistency_proof(2, HAND_LEAVES[:3])
    assert verify_consistency(2, 3, HAND_ROOTS[2], HAND_ROOTS[3], proof)
    assert not verify_consistency(2, 3, HAND_ROOTS[2][:31], HAND_ROOTS[3], proof)
    assert not verify_consistency(2, 3, HAND_ROOTS[2], HAND_ROOTS[3] + b"\x00", proof)
    assert not verify_consistency(2, 3, HAND_ROOTS[2], HAND_ROOTS[3], [bytearray(l2)])  # type: ignore[list-item]
    assert not verify_consistency(2, 2**64 - 1, HAND_ROOTS[2], HAND_ROOTS[3], proof)


@pytest.mark.parametrize("short", [b"", b"abc", l0[:31]])
def test_verify_consistency_when_equal_sizes_with_short_roots_then_false(short: bytes) -> None:
    assert verify_consistency(1, 1, l0, l0, [])
    assert not verify_consistency(1, 1, short, short, [])


def test_verify_consistency_when_size_beyond_uint64_then_false() -> None:
    # A perfect old tree plus one leaf: a one-node proof at any height.
    old_root = SOME_HASH
    assert verify_consistency(2**63, 2**63 + 1, old_root, node_hash(old_root, l1), [l1])
    assert not verify_consistency(2**64, 2**64 + 1, old_root, node_hash(old_root, l1), [l1])


@pytest.mark.parametrize(("old", "size"), [(0, 3), (-1, 3), (4, 3), (0, 0), (1, 0)])
def test_consistency_proof_when_old_size_outside_tree_then_value_error(old: int, size: int) -> None:
    with pytest.raises(ValueError, match="outside"):
        consistency_proof(old, HAND_LEAVES[:size])


def test_proofs_when_larger_tree_then_verify_against_compact_tree_roots() -> None:
    leaves = _distinct_leaves(1000)
    tree = CompactTree()
    tree.extend(leaves[:617])
    old_root = tree.root()
    tree.extend(leaves[617:])
    for index in (0, 511, 512, 616, 999):
        proof = inclusion_proof(index, leaves)
        assert verify_inclusion(leaves[index], index, 1000, proof, tree.root())
    proof = consistency_proof(617, leaves)
    assert verify_consistency(617, 1000, old_root, tree.root(), proof)
