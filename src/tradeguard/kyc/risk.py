"""Risk rating: low, medium or high from documented factors, each with its points.

A pure function of the answers, the account kind and the screening result. The points
of each factor are fixed here (docs/onboarding.md lists them); the high-risk countries
and the two thresholds are settings. The rating is stored with the factors that
produced it, so a reviewer sees why; a high rating needs two reviewers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tradeguard.kyc.schemas import Industry, SourceOfFunds

CASH_INTENSIVE = frozenset(
    {Industry.GAMBLING, Industry.MONEY_SERVICES, Industry.PRECIOUS_METALS, Industry.ARMS}
)
UNEXPLAINED_FUNDS = frozenset({SourceOfFunds.GIFT, SourceOfFunds.INHERITANCE, SourceOfFunds.OTHER})
POINTS = {
    "high_risk_citizenship": 4,
    "high_risk_residence": 4,
    "politically_exposed": 4,
    "cash_intensive_industry": 2,
    "screening_near_miss": 2,
    "unexplained_source_of_funds": 1,
    "public_company_insider": 1,
    "margin_account": 1,
}
"""Points of each factor."""


class RiskLevel(StrEnum):
    """The rating."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True, slots=True)
class RiskPolicy:
    """The configurable part: high-risk countries and the thresholds of each level."""

    high_risk_countries: frozenset[str]
    medium_score: int
    high_score: int


@dataclass(frozen=True, slots=True)
class RiskRating:
    """A level, its score and the factors (name and points) that made it."""

    level: RiskLevel
    score: int
    factors: tuple[str, ...]

    def factors_json(self) -> list[dict[str, Any]]:
        """The factors as stored and shown: name and points, never the answers themselves."""
        return [{"factor": name, "points": POINTS[name]} for name in self.factors]


def rate(
    answers: dict[str, Any], account_kind: str | None, policy: RiskPolicy, *, near_miss: bool
) -> RiskRating:
    """The rating of an application from its answers, kind and screening."""
    present = [name for name, test in _TESTS.items() if test(answers, account_kind, policy)]
    if near_miss:
        present.append("screening_near_miss")
    score = sum(POINTS[name] for name in present)
    return RiskRating(_level(score, policy), score, tuple(present))


def _level(score: int, policy: RiskPolicy) -> RiskLevel:
    if score >= policy.high_score:
        return RiskLevel.HIGH
    return RiskLevel.MEDIUM if score >= policy.medium_score else RiskLevel.LOW


def _citizenship(answers: dict[str, Any], kind: str | None, policy: RiskPolicy) -> bool:
    del kind
    return answers.get("citizenship") in policy.high_risk_countries


def _residence(answers: dict[str, Any], kind: str | None, policy: RiskPolicy) -> bool:
    del kind
    return answers.get("residence_country") in policy.high_risk_countries


def _exposed(answers: dict[str, Any], kind: str | None, policy: RiskPolicy) -> bool:
    del kind, policy
    return bool(answers.get("affiliations", {}).get("politically_exposed"))


def _industry(answers: dict[str, Any], kind: str | None, policy: RiskPolicy) -> bool:
    del kind, policy
    return answers.get("employment", {}).get("industry") in CASH_INTENSIVE


def _funds(answers: dict[str, Any], kind: str | None, policy: RiskPolicy) -> bool:
    del kind, policy
    return answers.get("source_of_funds") in UNEXPLAINED_FUNDS


def _insider(answers: dict[str, Any], kind: str | None, policy: RiskPolicy) -> bool:
    del kind, policy
    return bool(answers.get("affiliations", {}).get("public_company_insider"))


def _margin(answers: dict[str, Any], kind: str | None, policy: RiskPolicy) -> bool:
    del answers, policy
    return kind == "margin"


_TESTS = {
    "high_risk_citizenship": _citizenship,
    "high_risk_residence": _residence,
    "politically_exposed": _exposed,
    "cash_intensive_industry": _industry,
    "unexplained_source_of_funds": _funds,
    "public_company_insider": _insider,
    "margin_account": _margin,
}
