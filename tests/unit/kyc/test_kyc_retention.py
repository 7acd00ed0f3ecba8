"""The end of retention: calendar years, and when every period of an application is over."""

from __future__ import annotations

from datetime import UTC, datetime

from tradeguard.kyc.models import KycApplication
from tradeguard.kyc.retention import deletable, years_after


def ns(year: int, month: int, day: int) -> int:
    return int(datetime(year, month, day, tzinfo=UTC).timestamp()) * 1_000_000_000


def test_years_after_when_counted_then_calendar_years_and_29_february_becomes_28() -> None:
    assert years_after(ns(2026, 12, 6), 5) == ns(2031, 12, 6)
    assert years_after(ns(2024, 2, 29), 5) == ns(2029, 2, 28)


def test_deletable_when_any_period_runs_or_none_is_set_then_not() -> None:
    application = KycApplication(retain_until_ns=None, screening_retain_until_ns=None)
    assert not deletable(application, ns(2099, 1, 1))  # an open account: kept
    application.retain_until_ns = ns(2031, 1, 1)
    application.screening_retain_until_ns = ns(2036, 1, 1)
    assert not deletable(application, ns(2032, 1, 1))  # the screening's ten years run on
    assert deletable(application, ns(2036, 1, 1))
