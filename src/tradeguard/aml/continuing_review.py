"""Continuing activity after a filed SAR: the review every 90 days and its two outcomes.

FinCEN's guidance: activity that continues after a SAR is reviewed and reported every 90
days. When a filed SAR's review is due, the SAR clock raises an alert carrying the activity
since the filing (``activity_since``: the money movement of the SAR's accounts in the
trail and the customer's AML alerts since). The reviewer records one outcome:

- ``no_further_activity``: the next review is due 90 days later;
- ``file_continuing``: a new SAR draft linked to the prior one (``prior_sar_id``), whose
  XML carries the prior report's BSA ID (``EFilingPriorDocumentNumber``) and FinCEN's
  continuing-activity indicator; its activity runs from the prior filing to today, its
  30-day clock from today; the prior SAR's reviews end (the new one's start when filed).

Either way the review alert closes and one ``aml.sar.continuing_reviewed`` event records
the outcome (an ``aml.sar.drafted`` event the new draft).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.aml.ctr_service import day_bounds_ns, trail_events
from tradeguard.aml.models import SarRow
from tradeguard.aml.retention import retained_until
from tradeguard.aml.sar import CONTINUING_REVIEW_DAYS, filing_deadline
from tradeguard.aml.sar_service import SAR_SOURCE, SarReports
from tradeguard.aml.transactions import Kind, Method
from tradeguard.aml.watcher import MONEY_EVENTS, WATCHER_NAME, read_event
from tradeguard.audit.records import Actor
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.models import AlertRow
from tradeguard.cases.store import close_alert
from tradeguard.core.errors import CONFLICT, ProblemError
from tradeguard.core.ids import new_id
from tradeguard.core.money import Money

CONTINUING_REVIEW = "aml.sar.continuing_review"
REVIEWED = "aml.sar.continuing_reviewed"


class ReviewOutcome(StrEnum):
    """What the reviewer of continuing activity concludes."""

    FILE_CONTINUING = "file_continuing"
    NO_FURTHER_ACTIVITY = "no_further_activity"


@dataclass(slots=True)
class ActivitySince:
    """The activity of a SAR's accounts since its filing, as the reviewer reads it."""

    deposits: int = 0
    deposit_cents: int = 0
    withdrawals: int = 0
    withdrawal_cents: int = 0
    cash_cents: int = 0
    alerts: dict[str, int] = field(default_factory=dict)
    alert_ids: list[str] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        """Money in and out together (what a continuing report's amount starts from)."""
        return self.deposit_cents + self.withdrawal_cents

    def to_json(self) -> dict[str, Any]:
        """The summary as alert evidence: counts, dollar totals, alerts by typology."""
        return {
            "deposits": self.deposits, "deposit_total": str(Money(self.deposit_cents)),
            "withdrawals": self.withdrawals,
            "withdrawal_total": str(Money(self.withdrawal_cents)),
            "cash_total": str(Money(self.cash_cents)), "alerts": dict(sorted(self.alerts.items())),
            "alert_ids": self.alert_ids[:100],
        }  # fmt: skip


def activity_since(
    db: Session, accounts: list[str], customer: str | None, since_ns: int
) -> ActivitySince:
    """Deposits and withdrawals of ``accounts`` and the customer's AML alerts since ``since_ns``."""
    summary, wanted = ActivitySince(), set(accounts)
    for event in trail_events(db, set(MONEY_EVENTS), since_ns):
        for txn in read_event(event, lambda account: account)[0]:
            if txn.account in wanted:
                _count(summary, txn.kind, txn.method, txn.cents)
    if customer is not None:
        query = select(AlertRow).where(
            AlertRow.customer == customer, AlertRow.source == WATCHER_NAME,
            AlertRow.end_ns >= since_ns,
        ).order_by(AlertRow.start_ns)  # fmt: skip
        for alert in db.scalars(query):
            summary.alerts[alert.typology] = summary.alerts.get(alert.typology, 0) + 1
            summary.alert_ids.append(alert.id)
    return summary


def _count(summary: ActivitySince, kind: Kind, method: Method, cents: int) -> None:
    if kind is Kind.DEPOSIT:
        summary.deposits, summary.deposit_cents = (
            summary.deposits + 1,
            summary.deposit_cents + cents,
        )
    else:
        summary.withdrawals += 1
        summary.withdrawal_cents += cents
    if method is Method.CASH:
        summary.cash_cents += cents


def review_alert_key(row: SarRow, review_due: str) -> str:
    """The identity of the review alert of ``row`` due on ``review_due``."""
    draft = AlertDraft(CONTINUING_REVIEW, 0.8, Subject(row.customer), 0, 0, CONTINUING_REVIEW,
                       f"sar:{row.id}:{review_due}")  # fmt: skip
    return draft.key(SAR_SOURCE)


class ContinuingReviews:
    """Records the outcome of a continuing-activity review of a filed SAR."""

    def __init__(self, reports: SarReports) -> None:
        self.reports = reports

    def record(
        self, db: Session, actor: Actor, sar_id: str, outcome: ReviewOutcome, today: date
    ) -> SarRow:
        """Apply ``outcome``; the SAR it leaves to work on (the new draft, or the same SAR)."""
        row = self.reports.get(db, sar_id)
        if row.status != "filed" or row.review_due is None:
            raise ProblemError(CONFLICT, "SAR_NO_REVIEW", "only a filed SAR under review has one")
        note = f"continuing-activity review recorded: {outcome.value}"
        key = review_alert_key(row, row.review_due)
        close_alert(db, self.reports.audit, key, actor, note, self.reports.clock.now_ns())
        result = row
        if outcome is ReviewOutcome.FILE_CONTINUING:
            result = self._continue(db, actor, row, today)
            row.review_due = None
        else:
            row.review_due = (today + timedelta(days=CONTINUING_REVIEW_DAYS)).isoformat()
        row.updated_at_ns = self.reports.clock.now_ns()
        data = {"outcome": outcome.value, "next_review": row.review_due or "",
                "continuing_sar": result.id if result is not row else ""}  # fmt: skip
        self.reports.audit.record(db, REVIEWED, actor, subject=f"sar:{row.id}", data=data)
        return result

    def _continue(self, db: Session, actor: Actor, prior: SarRow, today: date) -> SarRow:
        since = date.fromisoformat(prior.filed_on or prior.activity_to)
        accounts = [str(a) for a in json.loads(prior.accounts)]
        activity = activity_since(db, accounts, prior.customer, day_bounds_ns(since)[0])
        now, row_suspect = self.reports.clock.now_ns(), prior.suspect_identified
        row = SarRow(
            id=str(new_id()), case_id=prior.case_id, customer=prior.customer,
            subject_name=prior.subject_name, subject_dob=prior.subject_dob,
            subject_occupation=prior.subject_occupation, narrative="",
            accounts=prior.accounts, typologies=prior.typologies,
            activity_from=since.isoformat(), activity_to=max(since, today).isoformat(),
            amount_cents=activity.total_cents, detected_on=today.isoformat(),
            suspect_identified=prior.suspect_identified,
            deadline=filing_deadline(today, suspect_identified=row_suspect).isoformat(),
            status="draft", prior_bsa_id=prior.bsa_id, prior_sar_id=prior.id,
            retain_until=retained_until(today).isoformat(), created_by=actor.id or actor.kind,
            created_at_ns=now, updated_at_ns=now,
        )  # fmt: skip
        db.add(row)
        db.flush()
        self.reports.record_draft(db, actor, row)
        return row
