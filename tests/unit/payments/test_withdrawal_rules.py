"""Rolling limits, cooling, review counts, amounts and bank identifiers: pure rules."""

from __future__ import annotations

import pytest

from tradeguard.core.errors import ProblemError
from tradeguard.payments.amounts import parse_amount
from tradeguard.payments.bank_links import check_account_number, check_routing_number
from tradeguard.payments.holder_names import name_tokens
from tradeguard.payments.problems import PaymentReason
from tradeguard.payments.withdrawal_rules import (
    DAY_NS,
    HOUR_NS,
    Limits,
    cooling_refusal,
    limit_refusal,
    reviews_needed,
)

LIMITS = Limits(daily_cents=5_000_000, weekly_cents=20_000_000)
NOW = 100 * DAY_NS


def test_limit_when_the_day_is_full_then_daily_refusal_with_its_inputs() -> None:
    refusal = limit_refusal(1, [(NOW - HOUR_NS, 5_000_000)], NOW, LIMITS)
    assert refusal is not None
    assert refusal.reason is PaymentReason.LIMIT_DAILY
    assert refusal.facts == {"used": "50000.00", "limit": "50000.00", "window": "24 hours"}


def test_limit_when_the_full_day_is_25_hours_old_then_rolled_out_of_the_daily_window() -> None:
    assert limit_refusal(5_000_000, [(NOW - 25 * HOUR_NS, 5_000_000)], NOW, LIMITS) is None


def test_limit_when_four_full_days_this_week_then_weekly_refusal() -> None:
    earlier = [(NOW - days * DAY_NS - HOUR_NS, 5_000_000) for days in range(1, 5)]
    refusal = limit_refusal(1, earlier, NOW, LIMITS)
    assert refusal is not None
    assert refusal.reason is PaymentReason.LIMIT_WEEKLY
    assert limit_refusal(1, earlier[:3], NOW, LIMITS) is None
    eight_days = [(NOW - 8 * DAY_NS, 20_000_000)]
    assert limit_refusal(1, eight_days, NOW, LIMITS) is None


def test_cooling_when_a_change_is_recent_then_refused_until_it_ends() -> None:
    refusal = cooling_refusal([None, NOW - 23 * HOUR_NS, NOW - 5 * DAY_NS], NOW, 24)
    assert refusal is not None
    assert refusal.reason is PaymentReason.COOLING
    assert refusal.facts == {"ends_at_ns": str(NOW + HOUR_NS)}
    assert cooling_refusal([NOW - 24 * HOUR_NS, None], NOW, 24) is None
    assert cooling_refusal([None], NOW, 24) is None


def test_reviews_needed_by_threshold() -> None:
    assert [reviews_needed(c, 100, 200) for c in (100, 101, 200, 201)] == [0, 1, 1, 2]


@pytest.mark.parametrize("text", ["0", "0.00", "-1.00", "1.001", "1e3", " 5", "01.00", "", "1.", 5])
def test_amount_when_not_a_positive_two_decimal_string_then_refused(text: object) -> None:
    with pytest.raises(ProblemError) as refused:
        parse_amount(text)
    assert refused.value.reason_code == "PAYMENT_AMOUNT_INVALID"


def test_amount_when_valid_then_cents() -> None:
    assert [parse_amount(t) for t in ("0.01", "1", "1.5", "50000.00")] == [1, 100, 150, 5_000_000]


def test_routing_number_check_digit_and_account_number_shape() -> None:
    assert check_routing_number("021000021") == "021000021"
    for wrong in ("021000022", "12345678", "02100002a"):
        with pytest.raises(ProblemError):
            check_routing_number(wrong)
    with pytest.raises(ProblemError):
        check_account_number("12-34")


def test_name_tokens_fold_case_accents_and_punctuation() -> None:
    assert name_tokens("  Zoë O'Brien-Lee ") == {"zoe", "o", "brien", "lee"}
