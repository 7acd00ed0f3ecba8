"""The SAR clock, run by the periodic AML job: reminders, the overdue alert, the due review.

- Before an unfiled SAR's deadline, compliance gets an email at each configured number of
  days before it (10, 3 and 1 by default), once each: every reminder sent is an
  ``aml.sar.reminded`` audit event, and a reminder already in the trail is not sent again.
  A job that missed several of them sends one email. The email goes to the compliance
  address only and names the SAR, its case and its deadline: never the subject, the
  customer or the narrative.
- The day after the deadline, an unfiled SAR raises one ``aml.sar.overdue`` alert. Filing
  the SAR closes it at once (``SarReports.record_filing``); closing the SAR's case closes
  it at the clock's next run, and a SAR whose case is closed raises none. Either closing
  is an ``aml.sar.alert.closed`` audit event with a note saying why.
- When a filed SAR's continuing-activity review is due, one ``aml.sar.continuing_review``
  alert carries the activity since the filing (``continuing_review.py``).

Both alerts have the source ``aml.sar``: like every ``aml.sar.*`` audit event, the queue
shows them only to holders of ``aml:sar`` (a SAR's existence is confidential), and the
alert's identity (source, typology, SAR, date) makes raising it again a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.aml.continuing_review import CONTINUING_REVIEW, ActivitySince, activity_since
from tradeguard.aml.ctr_service import day_bounds_ns
from tradeguard.aml.models import SarRow
from tradeguard.aml.sar_service import SAR_SOURCE, close_overdue, overdue_alert
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.audit.search import trusted_event
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.models import CaseRow
from tradeguard.cases.store import CLOSED, AlertStore
from tradeguard.identity.notices import Notices, VerifiedAddress

REMINDED = "aml.sar.reminded"
UNFILED = ("draft", "generated")
CLOCK = Actor.system("aml.sar.clock")


@dataclass(slots=True)
class ClockRun:
    """What one run of the clock did: the SARs reminded, found overdue, due for review.

    ``settled`` are the SARs whose overdue alert was closed because their case closed.
    """

    reminded: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    reviews: list[str] = field(default_factory=list)


def day_start_ns(day: date) -> int:
    """The first nanosecond of ``day`` in New York."""
    return day_bounds_ns(day)[0]


def pending_reminders(
    deadline: date, today: date, days_before: Sequence[int], sent: set[int]
) -> list[int]:
    """The reminders due by ``today`` and not sent yet (none once the deadline has passed)."""
    if today > deadline:
        return []
    return sorted(d for d in set(days_before) - sent if deadline - timedelta(days=d) <= today)


class SarClock:
    """Reminds compliance of SAR deadlines and raises the overdue and review alerts."""

    def __init__(
        self, audit: AuditTrail, store: AlertStore, notices: Notices, address: str,
        days_before: Sequence[int],
    ) -> None:  # fmt: skip
        self.audit, self.store, self.notices = audit, store, notices
        self.address, self.days_before = address, tuple(days_before)

    def run(self, db: Session, today: date) -> ClockRun:
        """One pass over the SARs on ``today``; safe to repeat (each effect happens once)."""
        done = ClockRun()
        unfiled = db.scalars(select(SarRow).where(SarRow.status.in_(UNFILED)))
        for row in unfiled:
            if self._remind(db, row, today):
                done.reminded.append(row.id)
            if _case_closed(db, row):
                if close_overdue(db, self.audit, CLOCK, row, "the SAR's case is closed"):
                    done.settled.append(row.id)
            elif self._overdue(db, row, today):
                done.overdue.append(row.id)
        due = db.scalars(select(SarRow).where(SarRow.review_due <= today.isoformat()))
        for row in due:
            if self._review(db, row):
                done.reviews.append(row.id)
        return done

    def _remind(self, db: Session, row: SarRow, today: date) -> bool:
        deadline = date.fromisoformat(row.deadline)
        pending = pending_reminders(deadline, today, self.days_before, reminders_sent(db, row.id))
        if not pending:
            return False
        days_left = (deadline - today).days
        self.notices.email(
            db, VerifiedAddress(self.address), "aml.sar.reminder",
            f"SAR due in {days_left} day{'s' if days_left != 1 else ''}",
            f"A SAR is due for filing by {row.deadline} ({days_left} days left).\n\n"
            f"SAR: {row.id}\nCase: {row.case_id}\n\n"
            f"Open it at {self.notices.link(f'/staff/aml/sars?sar={row.id}')}.",
        )  # fmt: skip
        data = {"days_before": pending, "deadline": row.deadline, "case_id": row.case_id}
        self.audit.record(db, REMINDED, CLOCK, subject=f"sar:{row.id}", data=data)
        return True

    def _overdue(self, db: Session, row: SarRow, today: date) -> bool:
        deadline = date.fromisoformat(row.deadline)
        if today <= deadline:
            return False
        draft = overdue_alert(row, day_start_ns(deadline + timedelta(days=1)))
        return self.store.raise_alert(db, draft, SAR_SOURCE) is not None

    def _review(self, db: Session, row: SarRow) -> bool:
        if row.filed_on is None or row.review_due is None:
            return False
        since = date.fromisoformat(row.filed_on)
        activity = activity_since(db, _accounts(row), row.customer, day_start_ns(since))
        draft = review_alert(row, activity, day_start_ns(since), day_start_ns(
            date.fromisoformat(row.review_due)))  # fmt: skip
        return self.store.raise_alert(db, draft, SAR_SOURCE) is not None


def review_alert(row: SarRow, activity: ActivitySince, start_ns: int, due_ns: int) -> AlertDraft:
    """The alert of a due continuing-activity review, with the activity since the filing."""
    evidence = {"sar": row.id, "case": row.case_id, "bsa_id": row.bsa_id,
                "filed_on": row.filed_on, "review_due": row.review_due,
                "activity": activity.to_json()}  # fmt: skip
    return AlertDraft(CONTINUING_REVIEW, 0.8, Subject(row.customer, tuple(_accounts(row))),
                      start_ns, max(start_ns, due_ns), CONTINUING_REVIEW,
                      f"sar:{row.id}:{row.review_due}", evidence)  # fmt: skip


def reminders_sent(db: Session, sar_id: str) -> set[int]:
    """The days-before of every reminder already sent for the SAR (from the trail)."""
    query = select(AuditEventRow.seq, AuditEventRow.record).where(
        AuditEventRow.event_type == REMINDED, AuditEventRow.subject == f"sar:{sar_id}"
    )
    sent: set[int] = set()
    for seq, record in db.execute(query):
        event = trusted_event(seq, bytes(record))
        if event is not None:
            sent.update(int(d) for d in event.data.get("days_before", ()))
    return sent


def _case_closed(db: Session, row: SarRow) -> bool:
    case = db.get(CaseRow, row.case_id)
    return case is not None and case.status == CLOSED


def _accounts(row: SarRow) -> list[str]:
    return [str(account) for account in json.loads(row.accounts)]
