import re
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeguard.identity.mfa.backup_codes import (
    ALPHABET,
    CODE_LENGTH,
    generate_backup_codes,
    hash_backup_code,
    normalize_backup_code,
    verify_backup_code,
)

DISPLAY_FORM = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}")
CODE = "7K3M-9QRT-X2VD-0B1E"

codes_strategy = st.text(alphabet=ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH).map(
    lambda compact: "-".join(compact[i : i + 4] for i in range(0, CODE_LENGTH, 4))
)


def test_generate_backup_codes_when_default_then_ten_distinct_display_codes() -> None:
    codes = generate_backup_codes()
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(DISPLAY_FORM.fullmatch(code) for code in codes)


def test_generate_backup_codes_when_generated_then_at_least_64_bits_each() -> None:
    assert len(set(ALPHABET)) == len(ALPHABET) == 32
    assert len(ALPHABET) ** CODE_LENGTH >= 2**64
    assert all(len(code.replace("-", "")) == CODE_LENGTH for code in generate_backup_codes())


def test_generate_backup_codes_when_alphabet_then_no_look_alike_letters() -> None:
    assert not set("ILOU") & set(ALPHABET)


def test_generate_backup_codes_when_generated_twice_then_no_overlap() -> None:
    assert not set(generate_backup_codes()) & set(generate_backup_codes())


@pytest.mark.parametrize("count", [0, 101])
def test_generate_backup_codes_when_count_out_of_range_then_refused(count: int) -> None:
    with pytest.raises(ValueError, match="count"):
        generate_backup_codes(count)


@pytest.mark.parametrize(
    "typed",
    [
        CODE,
        CODE.lower(),
        CODE.replace("-", ""),
        CODE.replace("-", " "),
        "  7k3m 9qrt-x2vd0b1e ",
        "7K3M-9QRT-X2VD-OB1E",
        "7K3M-9QRT-X2VD-0BIE",
        "7K3M-9QRT-X2VD-0BlE",
    ],
)
def test_normalize_backup_code_when_typed_loosely_then_canonical(typed: str) -> None:
    assert normalize_backup_code(typed) == CODE


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "7K3M-9QRT-X2VD-0B1",
        "7K3M-9QRT-X2VD-0B1EE",
        "7K3M-9QRT-X2VD-0B1U",
        "7K3M-9QRT-X2VD-0B1!",
        "7K3M-9QRT-X2VD-0B1É",
        "7K3M-9QRT-X2VD-0B1\u0131",
        "-" * 65,
    ],
)
def test_normalize_backup_code_when_not_a_code_then_value_error(typed: str) -> None:
    with pytest.raises(ValueError, match="not a backup code"):
        normalize_backup_code(typed)


@given(codes_strategy)
def test_normalize_backup_code_round_trips_display_form(code: str) -> None:
    assert normalize_backup_code(code) == code


@given(codes_strategy, st.sampled_from(["", " ", "-"]), st.sampled_from([str.lower, str.upper]))
def test_normalize_backup_code_ignores_case_and_separators(
    code: str, separator: str, casing: Callable[[str], str]
) -> None:
    assert normalize_backup_code(casing(code.replace("-", separator))) == code


def test_hash_backup_code_when_hashed_then_sha256_hex_of_canonical_form() -> None:
    digest = hash_backup_code(CODE)
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert hash_backup_code(CODE.lower().replace("-", "")) == digest
    assert hash_backup_code("7K3M-9QRT-X2VD-0B1F") != digest


def test_verify_backup_code_when_matching_then_index_of_its_hash() -> None:
    codes = generate_backup_codes()
    hashes = [hash_backup_code(code) for code in codes]
    assert verify_backup_code(hashes, codes[3]) == 3
    assert verify_backup_code(hashes, codes[0].lower().replace("-", " ")) == 0


def test_verify_backup_code_when_caller_removes_used_hash_then_code_works_once() -> None:
    codes = generate_backup_codes()
    hashes = [hash_backup_code(code) for code in codes]
    index = verify_backup_code(hashes, codes[5])
    assert index == 5
    del hashes[index]
    assert verify_backup_code(hashes, codes[5]) is None
    assert verify_backup_code(hashes, codes[6]) == 5


def test_verify_backup_code_when_unknown_code_then_none() -> None:
    hashes = [hash_backup_code(code) for code in generate_backup_codes()]
    assert verify_backup_code(hashes, generate_backup_codes(1)[0]) is None


@pytest.mark.parametrize("typed", ["", "not a code", "x" * 10_000])
def test_verify_backup_code_when_malformed_then_none_without_raising(typed: str) -> None:
    hashes = [hash_backup_code(CODE)]
    assert verify_backup_code(hashes, typed) is None


def test_verify_backup_code_when_stored_hash_presented_as_code_then_none() -> None:
    stored = hash_backup_code(CODE)
    assert verify_backup_code([stored], stored) is None


def test_verify_backup_code_when_no_hashes_left_then_none() -> None:
    assert verify_backup_code([], CODE) is None
