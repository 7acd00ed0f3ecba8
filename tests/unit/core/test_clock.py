import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeguard.core.clock import (
    NS_PER_SECOND,
    FixedClock,
    SystemClock,
    datetime_to_ns,
    ns_to_datetime,
    ns_to_rfc3339,
    to_rfc3339,
)

START = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
START_NS = 1_709_294_400 * NS_PER_SECOND


def test_system_clock_when_read_then_matches_time_time_ns() -> None:
    before = time.time_ns()
    reading = SystemClock().now_ns()
    after = time.time_ns()
    assert before <= reading <= after


def test_system_clock_now_when_read_then_aware_utc_near_now_ns() -> None:
    clock = SystemClock()
    now = clock.now()
    assert now.tzinfo is UTC
    assert abs(datetime_to_ns(now) - clock.now_ns()) < 5 * NS_PER_SECOND


def test_fixed_clock_when_started_from_datetime_then_reports_that_instant() -> None:
    clock = FixedClock(START)
    assert clock.now_ns() == START_NS
    assert clock.now() == START


def test_fixed_clock_when_started_from_ns_then_keeps_every_nanosecond() -> None:
    clock = FixedClock(START_NS + 123_456_789)
    assert clock.now_ns() == START_NS + 123_456_789
    assert clock.now() == START + timedelta(microseconds=123_456)


def test_fixed_clock_when_not_advanced_then_stands_still() -> None:
    clock = FixedClock(START)
    assert clock.now_ns() == clock.now_ns() == START_NS


def test_fixed_clock_when_advanced_then_moves_by_exact_sum() -> None:
    clock = FixedClock(START)
    clock.advance(seconds=2, milliseconds=3, nanoseconds=4)
    assert clock.now_ns() == START_NS + 2_003_000_004


def test_fixed_clock_when_advanced_backwards_then_raises_and_stays() -> None:
    clock = FixedClock(START)
    with pytest.raises(ValueError, match="only moves forward"):
        clock.advance(seconds=-1)
    assert clock.now_ns() == START_NS


def test_fixed_clock_when_advanced_by_float_then_type_error() -> None:
    clock = FixedClock(START)
    with pytest.raises(TypeError, match="seconds must be an int"):
        clock.advance(seconds=0.5)  # type: ignore[arg-type]


def test_fixed_clock_when_set_backwards_explicitly_then_goes_back() -> None:
    clock = FixedClock(START)
    clock.set(START - timedelta(days=1))
    assert clock.now() == START - timedelta(days=1)
    clock.set(42)
    assert clock.now_ns() == 42


def test_fixed_clock_when_given_naive_datetime_then_value_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2024, 1, 1))  # noqa: DTZ001 - the naive value is the point


def test_fixed_clock_when_given_bool_then_type_error() -> None:
    with pytest.raises(TypeError, match="when must be an int"):
        FixedClock(True)  # noqa: FBT003 - the bool is the bad input under test


def test_ns_to_datetime_when_sub_microsecond_then_truncates() -> None:
    assert ns_to_datetime(1_999) == datetime(1970, 1, 1, microsecond=1, tzinfo=UTC)
    assert ns_to_datetime(-1) == datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)


def test_datetime_to_ns_when_other_offset_then_same_instant() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert datetime_to_ns(datetime(2024, 3, 1, 14, 0, tzinfo=plus_two)) == START_NS


def test_to_rfc3339_when_whole_second_then_no_fraction_and_z_suffix() -> None:
    assert to_rfc3339(START) == "2024-03-01T12:00:00Z"


def test_to_rfc3339_when_microseconds_then_six_digits() -> None:
    assert to_rfc3339(START.replace(microsecond=1_500)) == "2024-03-01T12:00:00.001500Z"


def test_to_rfc3339_when_other_offset_then_converted_to_utc() -> None:
    minus_five = timezone(timedelta(hours=-5))
    when = datetime(2024, 2, 29, 22, 30, tzinfo=minus_five)
    assert to_rfc3339(when) == "2024-03-01T03:30:00Z"


def test_to_rfc3339_when_year_below_1000_then_four_digit_year() -> None:
    assert to_rfc3339(datetime(5, 1, 2, tzinfo=UTC)) == "0005-01-02T00:00:00Z"


def test_to_rfc3339_when_naive_then_value_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        to_rfc3339(datetime(2024, 1, 1))  # noqa: DTZ001 - the naive value is the point


@given(st.datetimes(timezones=st.just(UTC)))
def test_datetime_to_ns_when_round_tripped_then_identical(when: datetime) -> None:
    assert ns_to_datetime(datetime_to_ns(when)) == when


@given(st.datetimes(timezones=st.just(UTC)))
def test_to_rfc3339_when_parsed_back_then_same_instant(when: datetime) -> None:
    text = to_rfc3339(when)
    assert text.endswith("Z")
    assert datetime.fromisoformat(text) == when


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**12))
def test_fixed_clock_when_advanced_then_never_goes_backwards(seconds: int, nanos: int) -> None:
    clock = FixedClock(START)
    clock.advance(seconds=seconds, nanoseconds=nanos)
    assert clock.now_ns() == START_NS + seconds * NS_PER_SECOND + nanos
    assert clock.now_ns() >= START_NS


def test_ns_to_rfc3339_when_given_nanoseconds_then_all_nine_digits() -> None:
    assert ns_to_rfc3339(1_795_000_000_000_000_001) == "2026-11-18T11:06:40.000000001Z"
    assert ns_to_rfc3339(0) == "1970-01-01T00:00:00.000000000Z"


def test_ns_to_rfc3339_when_not_an_int_then_type_error() -> None:
    with pytest.raises(TypeError):
        ns_to_rfc3339(1.5)  # type: ignore[arg-type]
