"""Request and response shapes of SAR drafting and filing."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints

from tradeguard.aml.continuing_review import ReviewOutcome
from tradeguard.aml.models import CtrRow, SarRow
from tradeguard.aml.parameters import MonitorParameters
from tradeguard.aml.sar import MAX_NARRATIVE, draft_problems
from tradeguard.aml.sar_service import draft_of, state_of
from tradeguard.core.money import Money, MoneyStr
from tradeguard.core.reasons import Reason
from tradeguard.web.bodies import Body

PersonName = Annotated[str, StringConstraints(max_length=150, pattern=r"^[^\x00-\x1f\x7f]*$")]
BirthDate = Annotated[str, StringConstraints(pattern=r"^([0-9]{4}-[0-9]{2}-[0-9]{2})?$")]
Occupation = Annotated[str, StringConstraints(max_length=50, pattern=r"^[^\x00-\x1f\x7f]*$")]
Narrative = Annotated[str, StringConstraints(max_length=MAX_NARRATIVE)]
BsaId = Annotated[str, StringConstraints(pattern=r"^[0-9]{14}$")]


class SarRequest(Body):
    """What compliance writes into a SAR drafted from a case."""

    subject_name: PersonName = ""
    subject_dob: BirthDate = ""
    subject_occupation: Occupation = ""
    narrative: Narrative = ""
    detected_on: date
    amount: MoneyStr = Money(0)
    suspect_identified: bool = True
    prior_bsa_id: BsaId | None = None


class ParametersRequest(Body):
    """New monitor parameters (the whole document) and why they change."""

    parameters: MonitorParameters
    reason: Reason


class SarEditRequest(Body):
    """A draft's fields as compliance revises them (a generated SAR goes back to draft)."""

    subject_name: PersonName = ""
    subject_dob: BirthDate = ""
    subject_occupation: Occupation = ""
    narrative: Narrative = ""
    amount: MoneyStr = Money(0)


class ReviewRequest(Body):
    """The outcome of a continuing-activity review of a filed SAR."""

    outcome: ReviewOutcome


class FilingRequest(Body):
    """FinCEN's acknowledgement of a filed SAR or CTR."""

    bsa_id: BsaId
    filed_on: date


class SarView(BaseModel):
    """A SAR as compliance sees it, with what still stops it from being filed."""

    id: str
    case_id: str
    customer: str | None
    status: str
    filing_state: str
    detected_on: str
    deadline: str
    accounts: list[str]
    typologies: list[str]
    activity_from: str
    activity_to: str
    amount: str
    subject_name: str
    subject_dob: str
    subject_occupation: str
    narrative: str
    problems: list[dict[str, str]]
    xml_sha256: str | None
    bsa_id: str | None
    filed_on: str | None
    continuing_review_due: str | None
    """The next continuing-activity review of a filed SAR (none once a continuing one follows)."""
    prior_sar_id: str | None
    """The SAR this continuing report follows."""
    days_left: int
    """Calendar days to the deadline (negative once overdue)."""
    retain_until: str | None


def sar_view(row: SarRow, today: date) -> SarView:
    """The response for ``row`` on ``today``."""
    problems = [{"field": p.field, "message": p.message} for p in draft_problems(draft_of(row))]
    fields: dict[str, Any] = {
        "id": row.id, "case_id": row.case_id, "customer": row.customer, "status": row.status,
        "filing_state": state_of(row, today).value, "detected_on": row.detected_on,
        "deadline": row.deadline, "accounts": json.loads(row.accounts),
        "typologies": json.loads(row.typologies), "activity_from": row.activity_from,
        "activity_to": row.activity_to, "amount": str(Money(row.amount_cents)),
        "subject_name": row.subject_name, "subject_dob": row.subject_dob,
        "subject_occupation": row.subject_occupation, "narrative": row.narrative,
        "problems": problems,
        "xml_sha256": row.xml_sha256, "bsa_id": row.bsa_id, "filed_on": row.filed_on,
        "continuing_review_due": row.review_due, "prior_sar_id": row.prior_sar_id,
        "days_left": (date.fromisoformat(row.deadline) - today).days,
        "retain_until": row.retain_until,
    }  # fmt: skip
    return SarView(**fields)


class CtrDayRequest(Body):
    """The business day (New York) whose CTRs to write."""

    date: date


class CtrView(BaseModel):
    """One CTR written: whose, the amounts reported each way, the file, its hash, when due."""

    id: str
    customer: str
    date: str
    cash_in: str
    cash_out: str
    file: str
    sha256: str
    due: str
    status: str
    bsa_id: str | None
    filed_on: str | None
    retain_until: str


def ctr_view(row: CtrRow) -> CtrView:
    """The response for a stored CTR."""
    return CtrView(
        id=row.id, customer=row.customer, date=row.day, cash_in=row.cash_in,
        cash_out=row.cash_out, file=row.file, sha256=row.sha256, due=row.due,
        status=row.status, bsa_id=row.bsa_id, filed_on=row.filed_on,
        retain_until=row.retain_until,
    )  # fmt: skip


class ParameterVersionView(BaseModel):
    """One version of the monitors' parameters: when, by whom, why."""

    id: str
    reason: str
    changed_by: str
    changed_at_ns: int


class BatchView(BaseModel):
    """An exported filing batch: its file, form, the reports in it and its totals."""

    file: str
    form: str
    reports: list[str]
    totals: dict[str, int]
    sha256: str
