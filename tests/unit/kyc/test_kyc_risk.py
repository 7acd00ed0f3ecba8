"""Risk rating: each factor's points, the thresholds, and what the rating records."""

from __future__ import annotations

from typing import Any

from tradeguard.kyc.risk import RiskLevel, RiskPolicy, rate

POLICY = RiskPolicy(frozenset({"IRN", "PRK"}), medium_score=2, high_score=4)
PLAIN: dict[str, Any] = {
    "citizenship": "USA",
    "residence_country": "USA",
    "employment": {"industry": "technology"},
    "affiliations": {"politically_exposed": False},
    "source_of_funds": "employment",
}


def test_a_plain_cash_applicant_when_rated_then_low_with_no_factors() -> None:
    rating = rate(PLAIN, "cash", POLICY, near_miss=False)
    assert (rating.level, rating.score, rating.factors) == (RiskLevel.LOW, 0, ())


def test_a_margin_account_with_gifted_funds_when_rated_then_medium() -> None:
    rating = rate({**PLAIN, "source_of_funds": "gift"}, "margin", POLICY, near_miss=False)
    assert rating.level is RiskLevel.MEDIUM
    assert set(rating.factors) == {"margin_account", "unexplained_source_of_funds"}


def test_a_high_risk_citizenship_when_rated_then_high_alone() -> None:
    rating = rate({**PLAIN, "citizenship": "PRK"}, "cash", POLICY, near_miss=False)
    assert rating.level is RiskLevel.HIGH
    assert rating.factors_json() == [{"factor": "high_risk_citizenship", "points": 4}]


def test_a_politically_exposed_person_when_rated_then_high() -> None:
    answers = {**PLAIN, "affiliations": {"politically_exposed": True}}
    assert rate(answers, "cash", POLICY, near_miss=False).level is RiskLevel.HIGH


def test_a_screening_near_miss_and_cash_intensive_industry_when_rated_then_high() -> None:
    answers = {**PLAIN, "employment": {"industry": "gambling"}}
    assert rate(answers, "cash", POLICY, near_miss=False).level is RiskLevel.MEDIUM
    assert rate(answers, "cash", POLICY, near_miss=True).level is RiskLevel.HIGH


def test_the_thresholds_when_configured_higher_then_the_same_factors_rate_lower() -> None:
    lenient = RiskPolicy(frozenset(), medium_score=5, high_score=9)
    answers = {**PLAIN, "affiliations": {"politically_exposed": True}}
    assert rate(answers, "cash", lenient, near_miss=False).level is RiskLevel.LOW
