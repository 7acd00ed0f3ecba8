"""The signing scheme: canonical parts, the documented example, nonce rules, the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeguard.apikeys.replay import MemoryKeyState
from tradeguard.apikeys.signing import (
    canonical_query,
    canonical_string,
    signature,
    signatures_match,
    signed_headers,
    valid_nonce,
)
from tradeguard.trading.orders.schemas import PlaceOrderRequest

DOC = Path(__file__).parents[3] / "docs" / "api-signing.md"
EXAMPLE_BODY = (
    b'{"client_order_id":"rebalance-0001","symbol":"AAPL","side":"buy","type":"limit",'
    b'"quantity":10,"limit_price":"229.50","time_in_force":"day"}'
)
EXAMPLE_SECRET = "kQ3v8yX2pL9mN4rT7wZ1bC6dF0gH5jK8sA2eU4iO7qM"
EXAMPLE_CANONICAL = (
    "1795253400000\n8f14e45fceea167a5a36dedd4bea2543\nPOST\n/v1/orders\n"
    "account=main%201&dry_run=true&tag=rebalance&tag=q4\n"
    "aafb8d7f208c284b0bcd10041e71e32d94bb0a54fea6373935c2f46c56260ba3"
)
EXAMPLE_SIGNATURE = "066193116f2be79ced79db0d83dcb058fdc514abc0b19579e6e509f9dd782ec6"


def test_documented_example_when_recomputed_then_the_signature_is_the_documented_one() -> None:
    canonical = canonical_string(
        "1795253400000",
        "8f14e45fceea167a5a36dedd4bea2543",
        "post",
        "/v1/orders",
        "tag=rebalance&dry_run=true&account=main+1&tag=q4",
        EXAMPLE_BODY,
    )
    assert canonical == EXAMPLE_CANONICAL
    assert signature(EXAMPLE_SECRET, canonical) == EXAMPLE_SIGNATURE
    document = DOC.read_text()
    assert EXAMPLE_SIGNATURE in document
    assert EXAMPLE_CANONICAL in document
    assert EXAMPLE_SECRET in document
    assert EXAMPLE_BODY.decode() in document


def test_documented_example_when_body_is_parsed_then_it_is_a_valid_order() -> None:
    order = PlaceOrderRequest.model_validate_json(EXAMPLE_BODY)

    assert (order.client_order_id, order.quantity, order.type) == ("rebalance-0001", 10, "limit")


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("", ""),
        ("b=2&a=1", "a=1&b=2"),
        ("a=2&a=1", "a=2&a=1"),
        ("b=1&a=2&b=0&a=1", "a=2&a=1&b=1&b=0"),
        ("q=a+b&r=%7e", "q=a%20b&r=~"),
        ("x=&y", "x=&y="),
        ("k=%2F%26%3D", "k=%2F%26%3D"),
        ("sym=BRK.B", "sym=BRK.B"),
    ],
)
def test_canonical_query_when_written_differently_then_one_form(query: str, canonical: str) -> None:
    assert canonical_query(query) == canonical


@given(st.dictionaries(st.text(min_size=1), st.text(), max_size=5))
def test_canonical_query_when_parameters_are_shuffled_then_unchanged(
    params: dict[str, str],
) -> None:
    from urllib.parse import urlencode  # noqa: PLC0415 - only this property needs it

    forward = urlencode(list(params.items()))
    backward = urlencode(list(reversed(params.items())))
    assert canonical_query(forward) == canonical_query(backward)


def test_canonical_query_when_repeated_values_are_reordered_then_it_changes() -> None:
    signed = canonical_query("state=open&state=all")
    assert signed == "state=open&state=all"
    assert canonical_query("state=all&state=open") != signed
    assert canonical_query("state=open&symbol=AAPL&state=all") == "state=open&state=all&symbol=AAPL"


@given(
    st.text(min_size=1),
    st.lists(st.text(), min_size=2, max_size=4, unique=True),
    st.dictionaries(st.text(min_size=1), st.text(), max_size=3),
)
def test_canonical_query_when_repeated_values_are_reversed_then_the_form_differs(
    name: str, values: list[str], others: dict[str, str]
) -> None:
    from urllib.parse import urlencode  # noqa: PLC0415 - only this property needs it

    others.pop(name, None)
    sent = [(name, value) for value in values]
    forward = urlencode([*others.items(), *sent])
    backward = urlencode([*reversed(sent), *others.items()])
    assert canonical_query(forward) != canonical_query(backward)


@pytest.mark.parametrize(
    ("nonce", "valid"),
    [
        ("0" * 32, True),
        ("0" * 31, False),
        ("Zz" * 11, True),
        ("A" * 22, False),  # only hex digits: read as hex, which needs 32
        ("abcdefghijklmnopqrstu", False),
        ("abc def ghijklmnopqrstuvwxyz", False),
        ("x" * 128, True),
        ("x" * 129, False),
    ],
)
def test_nonce_when_checked_then_it_must_carry_128_bits(
    nonce: str,
    valid: bool,  # noqa: FBT001 - a parameter of the test
) -> None:
    assert valid_nonce(nonce) is valid


def test_signed_headers_when_made_twice_then_fresh_nonces_and_matching_signatures() -> None:
    first = signed_headers("tgk_1", "s", method="GET", path="/v1/x", timestamp_ms=1)
    second = signed_headers("tgk_1", "s", method="GET", path="/v1/x", timestamp_ms=1)
    assert first["TG-NONCE"] != second["TG-NONCE"]
    assert valid_nonce(first["TG-NONCE"])
    canonical = canonical_string("1", first["TG-NONCE"], "GET", "/v1/x", "", b"")
    assert signatures_match(signature("s", canonical), first["TG-SIGNATURE"])
    assert not signatures_match(signature("t", canonical), first["TG-SIGNATURE"])


def test_memory_key_state_when_a_nonce_returns_then_stale_only_within_its_ttl() -> None:
    now = [0]
    store = MemoryKeyState(lambda: now[0])
    assert store.admit("tgk_1", "n1", 10_000).nonce_fresh
    assert not store.admit("tgk_1", "n1", 10_000).nonce_fresh
    assert store.admit("tgk_2", "n1", 10_000).nonce_fresh  # nonces are per key
    now[0] = 10_001
    assert store.admit("tgk_1", "n1", 10_000).nonce_fresh


def test_memory_key_state_when_revoked_then_admission_says_so() -> None:
    store = MemoryKeyState(lambda: 0)
    store.mark_revoked("tgk_1", 1000)
    assert store.admit("tgk_1", "n1", 10_000).revoked
    assert not store.admit("tgk_2", "n1", 10_000).revoked


def test_memory_key_state_when_admitting_then_says_since_when_it_remembers() -> None:
    store = MemoryKeyState(lambda: 0, started_ms=1_700_000_000_000)
    assert store.admit("tgk_1", "n1", 10_000).since_ms == 1_700_000_000_000
