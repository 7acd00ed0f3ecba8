"""Suspicious activity reports: what one holds, what is missing, and when it is due.

31 CFR 1023.320: a broker-dealer files a SAR within 30 calendar days of the initial
detection of facts that may constitute a basis for filing; when no suspect is identified
on that date, filing may be delayed by up to 30 more days to identify one, never beyond
60 days. FinCEN's guidance on continuing activity: review it and file a continuing
report every 90 days after the previous one (with the same 30-day filing window after).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from tradeguard.aml.findings import Typology
from tradeguard.aml.transactions import CustomerProfile

FILING_DAYS = 30
FILING_DAYS_WITHOUT_SUSPECT = 60
CONTINUING_REVIEW_DAYS = 90
REMINDER_DAYS_BEFORE = (10, 3, 1)
MIN_NARRATIVE = 200
MAX_NARRATIVE = 17_000
"""FinCEN's five narrative blocks hold 17,000 characters."""

CLASSIFICATIONS: dict[Typology, tuple[str, str]] = {
    Typology.STRUCTURING: ("1", "114"),  # transaction(s) below CTR threshold
    Typology.RAPID_MOVEMENT: ("9", "925"),  # no apparent economic, business or lawful purpose
    Typology.FAN_IN: ("8", "824"),  # funnel account
    Typology.FAN_OUT: ("8", "805"),  # suspicious EFT/wire transfers
    Typology.HIGH_RISK_GEOGRAPHY: ("9", "928"),  # foreign high-risk jurisdiction
    Typology.UNUSUAL_ACTIVITY: ("8", "812"),  # transaction out of pattern for customer
    Typology.LOW_PRICED_SECURITIES: ("6", "608"),  # securities: market manipulation
    Typology.LARGE_TRANSACTION: ("8", "812"),
}
"""FinCEN SAR activity type and subtype for each typology."""


class FilingState(StrEnum):
    """Where a SAR stands against its deadline."""

    ON_TIME = "on_time"
    REMIND = "remind"
    OVERDUE = "overdue"
    FILED = "filed"


@dataclass(frozen=True, slots=True)
class SarDraft:
    """Everything a SAR says: subject, accounts, activity, amount, classification, narrative."""

    subject: CustomerProfile
    accounts: tuple[str, ...]
    typologies: tuple[Typology, ...]
    activity_from: date
    activity_to: date
    amount_cents: int
    narrative: str
    detected_on: date
    suspect_identified: bool = True
    prior_document: int | None = None


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One thing wrong with a draft, named by the field it belongs to."""

    field: str
    message: str


def draft_problems(draft: SarDraft) -> list[FieldProblem]:
    """What stops ``draft`` from being filed; empty when it can be."""
    checks = (
        ("narrative", len(draft.narrative.strip()) < MIN_NARRATIVE,
         f"the narrative needs at least {MIN_NARRATIVE} characters: who, what, when, where, why"),
        ("narrative", len(draft.narrative) > MAX_NARRATIVE,
         f"the narrative holds at most {MAX_NARRATIVE} characters"),
        ("activity_to", draft.activity_to < draft.activity_from,
         "the activity cannot end before it began"),
        ("amount", draft.amount_cents < 0, "the amount cannot be negative"),
        ("typologies", not draft.typologies, "at least one classification is needed"),
        ("accounts", not draft.accounts, "at least one account is needed"),
        ("subject", draft.suspect_identified and not draft.subject.name.strip(),
         "an identified subject needs a name"),
    )  # fmt: skip
    return [FieldProblem(name, message) for name, failed, message in checks if failed]


def filing_deadline(detected_on: date, *, suspect_identified: bool) -> date:
    """The last day to file: 30 days after detection, 60 when no suspect is identified."""
    days = FILING_DAYS if suspect_identified else FILING_DAYS_WITHOUT_SUSPECT
    return detected_on + timedelta(days=days)


def filing_state(deadline: date, today: date, filed_on: date | None = None) -> FilingState:
    """Whether the SAR is filed, due soon enough to remind, overdue, or on time."""
    if filed_on is not None:
        return FilingState.FILED
    if today > deadline:
        return FilingState.OVERDUE
    if (deadline - today).days <= max(REMINDER_DAYS_BEFORE):
        return FilingState.REMIND
    return FilingState.ON_TIME


def reminder_dates(deadline: date) -> list[date]:
    """The days compliance is reminded of an unfiled SAR, then the day it turns overdue."""
    days = [deadline - timedelta(days=d) for d in REMINDER_DAYS_BEFORE]
    return [*days, deadline + timedelta(days=1)]


def continuing_review_due(filed_on: date) -> date:
    """When continuing activity after a SAR filed on ``filed_on`` is to be reviewed."""
    return filed_on + timedelta(days=CONTINUING_REVIEW_DAYS)
