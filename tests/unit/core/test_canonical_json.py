import json
import random
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeguard.core.canonical_json import (
    CanonicalJSONError,
    JSONValue,
    canonical_dumps,
    canonical_loads,
)
from tradeguard.core.money import Money, Price

SCALARS = st.none() | st.booleans() | st.integers() | st.text()
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


def _reordered(value: JSONValue, rng: random.Random) -> JSONValue:
    if isinstance(value, list):
        return [_reordered(item, rng) for item in value]
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {key: _reordered(item, rng) for key, item in items}
    return value


def test_dumps_when_nested_then_sorted_compact_utf8() -> None:
    value = {"b": 1, "a": [True, None, "é€😀"], "A": {"z": -2, "y": ""}}
    assert canonical_dumps(value) == '{"A":{"y":"","z":-2},"a":[true,null,"é€😀"],"b":1}'.encode()


def test_dumps_when_control_and_quote_characters_then_escaped() -> None:
    assert canonical_dumps(['"\\\n\x01']) == b'["\\"\\\\\\n\\u0001"]'


def test_dumps_when_domain_types_then_canonical_strings() -> None:
    value = {
        "cash": Money(1230),
        "price": Price(150),
        "at": datetime(2024, 3, 1, 14, 0, 0, 500, tzinfo=timezone(timedelta(hours=2))),
        "id": uuid.UUID("018e0f5a-0000-7000-8000-000000000001"),
        "pair": (1, "x"),
    }
    assert canonical_dumps(value) == (
        b'{"at":"2024-03-01T12:00:00.000500Z","cash":"12.30",'
        b'"id":"018e0f5a-0000-7000-8000-000000000001","pair":[1,"x"],"price":"0.015"}'
    )


def test_dumps_when_huge_int_then_written_exactly() -> None:
    assert canonical_dumps([2**64, -(2**70)]) == f"[{2**64},{-(2**70)}]".encode()


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"orders": [{}, {}, {"qty": 1.5}]}, "$.orders[2].qty"),
        ({"a": float("nan")}, "$.a"),
        ([b"raw"], "$[0]"),
        ({"tags": {"x"}}, "$.tags"),
        ({"when": datetime(2024, 1, 1)}, "$.when"),  # noqa: DTZ001 - naive on purpose
        ({"odd key": [object()]}, '$["odd key"][0]'),
        ({"nested": {3: "x"}}, "$.nested"),
        (["\ud800"], "$[0]"),
    ],
)
def test_dumps_when_unsupported_value_then_error_names_path(value: object, path: str) -> None:
    with pytest.raises(CanonicalJSONError) as caught:
        canonical_dumps(value)
    assert caught.value.path == path
    assert str(caught.value).startswith(f"{path}: ")


def test_dumps_when_circular_then_canonical_json_error() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(CanonicalJSONError, match="too deep or circular"):
        canonical_dumps(loop)


def test_canonical_json_error_when_raised_then_is_value_error() -> None:
    assert issubclass(CanonicalJSONError, ValueError)


def test_loads_when_canonical_bytes_then_plain_values() -> None:
    assert canonical_loads(b'{"a":[1,true,null,"\xc3\xa9"]}') == {"a": [1, True, None, "é"]}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"a":1,"a":2}', "duplicate object key 'a'"),
        (b"[1.0]", "float '1.0'"),
        (b"[1e3]", "float '1e3'"),
        (b"[NaN]", "NaN"),
        (b"[-Infinity]", "-Infinity"),
        (b"\xff", "not valid UTF-8"),
        (b"[1,", "malformed JSON"),
        (b"", "malformed JSON"),
    ],
)
def test_loads_when_forbidden_input_then_canonical_json_error(data: bytes, reason: str) -> None:
    with pytest.raises(CanonicalJSONError, match=re.escape(reason)):
        canonical_loads(data)


def test_loads_when_deeply_nested_then_canonical_json_error() -> None:
    with pytest.raises(CanonicalJSONError, match="too deep"):
        canonical_loads(b"[" * 100_000 + b"]" * 100_000)


@given(JSON_VALUES, st.randoms(use_true_random=False))
def test_dumps_when_dict_order_differs_then_identical_bytes(
    value: JSONValue, rng: random.Random
) -> None:
    assert canonical_dumps(_reordered(value, rng)) == canonical_dumps(value)


@given(JSON_VALUES)
def test_loads_when_reading_dumps_output_then_same_value_and_bytes(value: JSONValue) -> None:
    encoded = canonical_dumps(value)
    decoded = canonical_loads(encoded)
    assert decoded == value
    assert canonical_dumps(decoded) == encoded


@given(JSON_VALUES)
def test_dumps_when_parsed_by_stdlib_then_equal_and_no_whitespace_added(value: JSONValue) -> None:
    encoded = canonical_dumps(value)
    assert json.loads(encoded) == value
    assert (
        encoded
        == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    )


def _stdlib_bytes(value: JSONValue) -> bytes:
    """The encoding the audit trail's stored records were written with before orjson."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")


@given(JSON_VALUES)
def test_dumps_when_any_plain_value_then_bytes_of_the_standard_library(value: JSONValue) -> None:
    try:
        expected = _stdlib_bytes(value)
    except UnicodeEncodeError:  # a lone surrogate: refused either way
        with pytest.raises(ValueError, match="surrogate"):
            canonical_dumps(value)
        return
    assert canonical_dumps(value) == expected


@pytest.mark.parametrize("code_point", [*range(0x80), 0x7F, 0x2028, 0x2029, 0xFEFF, 0x10FFFF])
def test_dumps_when_escapable_character_then_bytes_of_the_standard_library(
    code_point: int,
) -> None:
    value = {chr(code_point): [chr(code_point), f"a{chr(code_point)}b"]}
    assert canonical_dumps(value) == _stdlib_bytes(value)
