import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeguard.core.clock import NS_PER_SECOND, FixedClock
from tradeguard.identity.mfa.codes import CodeCheck, OneTimeCode, new_numeric_code
from tradeguard.identity.secrets import keyed_code_digest

KEY = b"k" * 32
OTHER_KEY = b"o" * 32
START = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def issued(clock: FixedClock) -> tuple[str, OneTimeCode]:
    return OneTimeCode.issue(KEY, "login", clock)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_new_numeric_code_when_default_then_six_ascii_digits() -> None:
    code = new_numeric_code()
    assert len(code) == 6
    assert code.isascii()
    assert code.isdigit()


def test_new_numeric_code_when_small_number_drawn_then_leading_zeros_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[int] = []

    def _randbelow(bound: int) -> int:
        drawn.append(bound)
        return 42

    monkeypatch.setattr("tradeguard.identity.mfa.codes.secrets.randbelow", _randbelow)
    assert new_numeric_code() == "000042"
    assert new_numeric_code(8) == "00000042"
    assert drawn == [10**6, 10**8]


@pytest.mark.parametrize("digits", [5, 11])
def test_new_numeric_code_when_digits_out_of_range_then_refused(digits: int) -> None:
    with pytest.raises(ValueError, match="between 6 and 10"):
        new_numeric_code(digits)


def test_issue_when_called_then_state_keeps_only_the_keyed_digest(
    issued: tuple[str, OneTimeCode], clock: FixedClock
) -> None:
    code, state = issued
    assert state.digest == keyed_code_digest(KEY, "login", code)
    assert code not in {str(value) for value in dataclasses.astuple(state)}
    assert state.purpose == "login"
    assert state.created_ns == clock.now_ns()
    assert (state.attempts, state.max_attempts, state.used) == (0, 5, False)


def test_issue_when_default_ttl_then_expires_after_600_seconds(
    issued: tuple[str, OneTimeCode],
) -> None:
    _, state = issued
    assert state.expires_ns - state.created_ns == 600 * NS_PER_SECOND


def test_issue_when_ttl_longer_than_600_then_capped(clock: FixedClock) -> None:
    _, state = OneTimeCode.issue(KEY, "login", clock, ttl_seconds=3600)
    assert state.expires_ns - state.created_ns == 600 * NS_PER_SECOND


def test_issue_when_ttl_shorter_then_kept(clock: FixedClock) -> None:
    _, state = OneTimeCode.issue(KEY, "login", clock, ttl_seconds=120)
    assert state.expires_ns - state.created_ns == 120 * NS_PER_SECOND


@pytest.mark.parametrize("ttl", [0, -1])
def test_issue_when_ttl_not_positive_then_refused(clock: FixedClock, ttl: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        OneTimeCode.issue(KEY, "login", clock, ttl_seconds=ttl)


def test_check_when_right_code_then_accepted_and_marked_used(
    issued: tuple[str, OneTimeCode], clock: FixedClock
) -> None:
    code, state = issued
    outcome, after = state.check(KEY, code, clock.now_ns())
    assert outcome is CodeCheck.ACCEPTED
    assert after.used
    assert not state.used


def test_check_when_used_code_presented_again_then_used(
    issued: tuple[str, OneTimeCode], clock: FixedClock
) -> None:
    code, state = issued
    _, after = state.check(KEY, code, clock.now_ns())
    outcome, again = after.check(KEY, code, clock.now_ns())
    assert outcome is CodeCheck.USED
    assert again == after


def test_check_when_wrong_code_then_wrong_and_attempt_counted(
    issued: tuple[str, OneTimeCode], clock: FixedClock
) -> None:
    code, state = issued
    outcome, after = state.check(KEY, _wrong(code), clock.now_ns())
    assert outcome is CodeCheck.WRONG
    assert after.attempts == 1
    assert not after.used


def test_check_when_four_wrong_then_right_code_still_accepted(
    issued: tuple[str, OneTimeCode], clock: FixedClock
) -> None:
    code, state = issued
    for _ in range(4):
        _, state = state.check(KEY, _wrong(code), clock.now_ns())
    outcome, _ = state.check(KEY, code, clock.now_ns())
    assert outcome is CodeCheck.ACCEPTED


def test_check_when_fifth_wrong_attempt_then_exhausted_even_for_right_code(
    issued: tuple[str, OneTimeCode], clock: FixedClock
) -> None:
    code, state = issued
    outcomes = []
    for _ in range(5):
        outcome, state = state.check(KEY, _wrong(code), clock.now_ns())
        outcomes.append(outcome)
    assert outcomes == [CodeCheck.WRONG] * 4 + [CodeCheck.EXHAUSTED]
    assert state.exhausted
    outcome, after = state.check(KEY, code, clock.now_ns())
    assert outcome is CodeCheck.EXHAUSTED
    assert after == state


def test_check_when_brute_forced_then_at_most_five_guesses_are_tried(
    issued: tuple[str, OneTimeCode], clock: FixedClock
) -> None:
    code, state = issued
    guesses = [f"{n:06d}" for n in range(1000) if f"{n:06d}" != code] + [code]
    outcomes = set()
    for guess in guesses:
        outcome, state = state.check(KEY, guess, clock.now_ns())
        outcomes.add(outcome)
    assert CodeCheck.ACCEPTED not in outcomes
    assert state.attempts == 5


def test_check_when_just_before_600_seconds_then_accepted(
    issued: tuple[str, OneTimeCode], clock: FixedClock
) -> None:
    code, state = issued
    clock.advance(seconds=599, nanoseconds=NS_PER_SECOND - 1)
    outcome, _ = state.check(KEY, code, clock.now_ns())
    assert outcome is CodeCheck.ACCEPTED


def test_check_when_exactly_600_seconds_then_expired_without_counting(
    issued: tuple[str, OneTimeCode], clock: FixedClock
) -> None:
    code, state = issued
    clock.advance(seconds=600)
    outcome, after = state.check(KEY, code, clock.now_ns())
    assert outcome is CodeCheck.EXPIRED
    assert after == state


def test_check_when_other_key_then_wrong(
    issued: tuple[str, OneTimeCode], clock: FixedClock
) -> None:
    code, state = issued
    outcome, _ = state.check(OTHER_KEY, code, clock.now_ns())
    assert outcome is CodeCheck.WRONG


def test_check_when_code_issued_for_other_purpose_then_wrong(clock: FixedClock) -> None:
    code, reset_state = OneTimeCode.issue(KEY, "reset", clock)
    moved = dataclasses.replace(reset_state, purpose="login")
    outcome, _ = moved.check(KEY, code, clock.now_ns())
    assert outcome is CodeCheck.WRONG


@pytest.mark.parametrize(
    "garbage", ["", "abcdef", "1" * 1000, "\uff11\uff12\uff13\uff14\uff15\uff16"]
)
def test_check_when_garbage_then_wrong_and_counted(
    issued: tuple[str, OneTimeCode], clock: FixedClock, garbage: str
) -> None:
    _, state = issued
    outcome, after = state.check(KEY, garbage, clock.now_ns())
    assert outcome is CodeCheck.WRONG
    assert after.attempts == 1


def test_one_time_code_when_assigned_then_frozen(issued: tuple[str, OneTimeCode]) -> None:
    _, state = issued
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.used = True  # type: ignore[misc]


@given(st.integers(min_value=6, max_value=10))
def test_new_numeric_code_has_requested_length(digits: int) -> None:
    assert len(new_numeric_code(digits)) == digits
