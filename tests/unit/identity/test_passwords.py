import argon2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeguard.core.errors import TradeGuardError
from tradeguard.identity.passwords import (
    Argon2Parameters,
    PasswordHasher,
    PasswordPolicy,
    PasswordRejection,
    WeakPasswordError,
    is_common_password,
    normalize_password,
    password_score,
    personal_fragments,
)

STRONG = "correct horse battery staple"
COMPOSED = "Caf\u00e9 au lait, s'il vous pla\u00eet!"
DECOMPOSED = "Cafe\u0301 au lait, s'il vous plai\u0302t!"
POLICY = PasswordPolicy()


@pytest.fixture(scope="module")
def hasher() -> PasswordHasher:
    return PasswordHasher()


@pytest.fixture(scope="module")
def stored(hasher: PasswordHasher) -> str:
    return hasher.hash(STRONG)


class _Argon2Spy:
    """Stands in for the argon2 hasher and records every hash it verifies against."""

    def __init__(self, real: argon2.PasswordHasher) -> None:
        self.real = real
        self.hashes: list[str] = []

    def verify(self, stored_hash: str, password: str) -> bool:
        self.hashes.append(stored_hash)
        return self.real.verify(stored_hash, password)


def _rejection(password: str, user_inputs: tuple[str, ...] = ()) -> PasswordRejection:
    with pytest.raises(WeakPasswordError) as caught:
        POLICY.check(password, user_inputs=user_inputs)
    return caught.value.reason


def test_argon2_parameters_when_defaults_then_owasp_minimum() -> None:
    params = Argon2Parameters()
    assert (params.memory_kib, params.time_cost, params.parallelism) == (19_456, 2, 1)


@pytest.mark.parametrize(
    "kwargs",
    [{"memory_kib": 19_455}, {"time_cost": 1}, {"parallelism": 0}, {"memory_kib": 4096}],
)
def test_argon2_parameters_when_below_owasp_minimum_then_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be at least"):
        Argon2Parameters(**kwargs)


def test_argon2_parameters_when_not_an_int_then_refused() -> None:
    with pytest.raises(TypeError, match="must be an int"):
        Argon2Parameters(time_cost=True)


def test_hash_when_created_then_argon2id_with_configured_costs(stored: str) -> None:
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_hash_when_same_password_twice_then_salts_differ(hasher: PasswordHasher) -> None:
    assert hasher.hash(STRONG) != hasher.hash(STRONG)


def test_verify_when_right_password_then_true(hasher: PasswordHasher, stored: str) -> None:
    assert hasher.verify(stored, STRONG)


@pytest.mark.parametrize("attempt", ["", STRONG.upper(), STRONG + " ", " " + STRONG, STRONG[:-1]])
def test_verify_when_wrong_password_then_false(
    hasher: PasswordHasher, stored: str, attempt: str
) -> None:
    assert not hasher.verify(stored, attempt)


@pytest.mark.parametrize(
    "stored_hash",
    [
        "",
        "not-a-hash",
        "$argon2id$",
        "$argon2id$v=19$m=19456,t=2,p=1$garbage",
        "$argon2id$v=19$m=19456,t=2,p=1$\u00e9\u00e9\u00e9$\u00e9\u00e9\u00e9",
        "$2b$12$abcdefghijklmnopqrstuuMR0n2HzHkU5yqU1B8nF0w2e1x5cQqKa",
    ],
)
def test_verify_when_stored_hash_malformed_then_false_without_raising(
    hasher: PasswordHasher, stored_hash: str
) -> None:
    assert not hasher.verify(stored_hash, STRONG)


def test_verify_when_stored_hash_malformed_then_still_pays_for_a_hash(
    hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _Argon2Spy(hasher._argon2)
    monkeypatch.setattr(hasher, "_argon2", spy)
    assert not hasher.verify("not-a-hash", STRONG)
    assert len(spy.hashes) == 1


def test_verify_when_downgraded_to_argon2i_then_refused(hasher: PasswordHasher) -> None:
    argon2i = argon2.PasswordHasher(
        memory_cost=19_456, time_cost=2, parallelism=1, type=argon2.Type.I
    )
    downgraded = argon2i.hash(STRONG)
    assert argon2i.verify(downgraded, STRONG)
    assert not hasher.verify(downgraded, STRONG)
    assert hasher.needs_rehash(downgraded)


def test_verify_when_composed_or_decomposed_accent_then_same_password(
    hasher: PasswordHasher,
) -> None:
    assert COMPOSED != DECOMPOSED
    assert hasher.verify(hasher.hash(COMPOSED), DECOMPOSED)
    assert hasher.verify(hasher.hash(DECOMPOSED), COMPOSED)


def test_verify_when_fullwidth_compatibility_form_then_same_password(
    hasher: PasswordHasher,
) -> None:
    assert hasher.verify(hasher.hash("Password-\uff30\uff41\uff53\uff53"), "Password-Pass")


def test_verify_dummy_when_called_then_runs_a_real_argon2id_verify(
    hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = _Argon2Spy(hasher._argon2)
    monkeypatch.setattr(hasher, "_argon2", spy)
    hasher.verify_dummy(STRONG)
    assert len(spy.hashes) == 1
    assert spy.hashes[0].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_verify_dummy_when_hasher_costs_raised_then_dummy_hash_costs_follow() -> None:
    stronger = PasswordHasher(Argon2Parameters(memory_kib=24_576, time_cost=3))
    assert stronger._dummy_hash.startswith("$argon2id$v=19$m=24576,t=3,p=1$")


def test_needs_rehash_when_current_parameters_then_false(
    hasher: PasswordHasher, stored: str
) -> None:
    assert not hasher.needs_rehash(stored)


def test_needs_rehash_when_parameters_changed_then_true_and_old_hash_still_verifies(
    stored: str,
) -> None:
    upgraded = PasswordHasher(Argon2Parameters(memory_kib=24_576))
    assert upgraded.needs_rehash(stored)
    assert upgraded.verify(stored, STRONG)
    assert not upgraded.needs_rehash(upgraded.hash(STRONG))


@pytest.mark.parametrize("stored_hash", ["", "garbage", "$argon2id$nonsense"])
def test_needs_rehash_when_malformed_then_true(hasher: PasswordHasher, stored_hash: str) -> None:
    assert hasher.needs_rehash(stored_hash)


def test_normalize_password_when_composed_and_decomposed_then_equal() -> None:
    assert normalize_password(COMPOSED) == normalize_password(DECOMPOSED) == COMPOSED


def test_normalize_password_when_spaces_around_then_kept() -> None:
    assert normalize_password("  spaced out  ") == "  spaced out  "


def test_normalize_password_when_long_then_not_truncated() -> None:
    assert normalize_password("x" * 500) == "x" * 500


def test_check_when_strong_passphrase_then_accepted() -> None:
    POLICY.check(STRONG)


def test_check_when_11_characters_then_too_short() -> None:
    assert _rejection("Xq7#vL9!mPz") == PasswordRejection.TOO_SHORT


def test_check_when_decomposed_accents_then_length_counted_after_normalisation() -> None:
    decomposed = "e\u0301" * 11
    assert len(decomposed) == 22
    assert _rejection(decomposed) == PasswordRejection.TOO_SHORT


def test_check_when_129_code_points_then_too_long() -> None:
    password = "".join(chr(0x1F600 + i % 64) for i in range(129))
    assert len(password.encode("utf-8")) == 516
    assert _rejection(password) == PasswordRejection.TOO_LONG


def test_check_when_128_code_points_then_length_accepted() -> None:
    POLICY.check("".join(chr(0x1F600 + i * 37 % 64) for i in range(128)))


@pytest.mark.parametrize(
    "password",
    [
        "password1234",
        "PASSWORD1234",
        "Password123!",
        "Password2024!!",
        "baseball1234#",
        "qwertyuiop12",
    ],
)
def test_check_when_common_password_or_variant_then_common(password: str) -> None:
    assert _rejection(password) == PasswordRejection.COMMON


def test_is_common_password_when_base_word_shorter_than_8_then_not_a_list_variant() -> None:
    assert is_common_password("monkey")
    assert not is_common_password("Monkey123456!")


def test_is_common_password_when_uncommon_then_false() -> None:
    assert not is_common_password(STRONG)


@pytest.mark.parametrize(
    ("password", "user_inputs"),
    [
        ("Zq-TraderJoe-9xv!w", ("traderjoe",)),
        ("nebula-ALICE.W-harbour", ("alice.w@example.com",)),
        ("nebula-marta-harbour-7", ("marta+broker@example.com",)),
    ],
)
def test_check_when_password_contains_username_or_email_then_refused(
    password: str, user_inputs: tuple[str, ...]
) -> None:
    assert _rejection(password, user_inputs) == PasswordRejection.CONTAINS_USER_DATA


def test_check_when_user_input_shorter_than_4_then_not_a_containment_match() -> None:
    POLICY.check("correct horse bob battery staple", user_inputs=("bob",))


def test_personal_fragments_when_email_then_local_part_and_base_before_plus() -> None:
    assert personal_fragments(["Marta+Broker@Example.com", "Joe"]) == ["marta", "marta+broker"]


@pytest.mark.parametrize("password", ["qwertyuiopasdf", "abcdefghijklmn", "aaaaaaaaaaaaaa"])
def test_check_when_zxcvbn_scores_low_then_too_weak_with_feedback(password: str) -> None:
    with pytest.raises(WeakPasswordError) as caught:
        POLICY.check(password)
    error = caught.value
    assert error.reason == PasswordRejection.TOO_WEAK
    assert error.reason.value == "PASSWORD_TOO_WEAK"
    assert str(error).startswith("This password is too easy to guess.")
    assert "Add another word or two" in str(error)
    assert password not in str(error)


def test_check_when_lower_minimum_score_then_medium_password_accepted() -> None:
    PasswordPolicy(min_score=2).check("september2024")
    assert _rejection("september2024") == PasswordRejection.TOO_WEAK


def test_weak_password_error_when_raised_then_a_tradeguard_error() -> None:
    error = WeakPasswordError(PasswordRejection.COMMON, "common")
    assert isinstance(error, TradeGuardError)
    assert error.reason == "PASSWORD_COMMON"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_length": 8},
        {"max_length": 200},
        {"max_length": 32},
        {"min_score": 5},
        {"min_score": -1},
    ],
)
def test_password_policy_when_outside_asvs_bounds_then_refused(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="must be at"):
        PasswordPolicy(**kwargs)


def test_password_score_when_longer_than_zxcvbn_limit_then_scores_prefix() -> None:
    score, _ = password_score("aB3$" * 32)
    assert 0 <= score <= 4


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_check_when_any_text_then_accepts_or_raises_only_a_known_reason(password: str) -> None:
    try:
        POLICY.check(password)
    except WeakPasswordError as error:
        reason: PasswordRejection | None = error.reason
    else:
        reason = None
    assert reason is None or reason in set(PasswordRejection)
