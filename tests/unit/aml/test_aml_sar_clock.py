"""The SAR clock: reminders once each to compliance only, the overdue alert, the due review."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from aml_kit import FILER, schema_errors
from sqlalchemy import func, select
from test_aml_ctr_service import cash

from tradeguard.aml.continuing_review import ContinuingReviews, ReviewOutcome
from tradeguard.aml.models import SarRow
from tradeguard.aml.sar_clock import SarClock, pending_reminders
from tradeguard.aml.sar_service import OVERDUE, SarForm, SarReports
from tradeguard.aml.sealed_files import SealedFiles
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.records import Actor
from tradeguard.audit.search import AuditEvent
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.models import AlertRow
from tradeguard.cases.service import Cases, Decision
from tradeguard.cases.store import AlertStore
from tradeguard.core.errors import ProblemError
from tradeguard.db.session import transaction
from unit.audit.audit_kit import AuditKit

OFFICER = Actor("staff", "officer-1")
COMPLIANCE = "compliance@broker.example"
NAME = "Zelda Quixote-Marchetti"
NARRATIVE = "The customer deposited cash in amounts just under the threshold, week after week. " * 4


@dataclass
class Mail:
    """Stands in for the notices: keeps each email queued and makes links."""

    sent: list[tuple[str, str, str]] = field(default_factory=list)

    def email(self, _db: object, to: str, _kind: str, subject: str, text: str) -> None:
        self.sent.append((str(to), subject, text))

    @staticmethod
    def link(path: str) -> str:
        return f"https://tg.example{path}"


@dataclass
class Desk:
    kit: AuditKit
    store: AlertStore
    reports: SarReports
    clock: SarClock
    mail: Mail


@pytest.fixture
def desk(kit: AuditKit, store: AlertStore, tmp_path: Path) -> Desk:
    mail = Mail()
    reports = SarReports(kit.trail, kit.clock, FILER, tmp_path, SealedFiles(kit.crypto.keyring))
    clock = SarClock(kit.trail, store, mail, COMPLIANCE, (10, 3, 1))  # type: ignore[arg-type]
    return Desk(kit, store, reports, clock, mail)


def drafted_sar(desk: Desk, detected_on: date = date(2026, 3, 10)) -> str:
    """A SAR drafted from a case of one structuring alert of customer user-9; its id."""
    noon = int(datetime(2026, 3, 2, 17, tzinfo=UTC).timestamp()) * 10**9
    draft = AlertDraft("structuring", 0.9, Subject("user-9", ("acct-1",)), noon, noon,
                       "aml.structuring", "user-9:1", {"total": "38400.00"})  # fmt: skip
    form = SarForm(NAME, "1980-01-02", "teacher", NARRATIVE, detected_on, 3_840_000)
    with transaction(desk.kit.sessions) as db:
        alert = desk.store.raise_alert(db, draft, "aml")
        assert alert is not None
        case = Cases(desk.kit.trail, desk.kit.clock).open_case(db, OFFICER, [alert.id], "Cash")
    with transaction(desk.kit.sessions) as db:
        return desk.reports.draft(db, OFFICER, case.id, form).id


def run(desk: Desk, today: date) -> list[list[str]]:
    with transaction(desk.kit.sessions) as db:
        done = desk.clock.run(db, today)
    return [done.reminded, done.overdue, done.reviews]


def count(kit: AuditKit, event_type: str) -> int:
    with kit.sessions() as db:
        query = select(func.count()).where(AuditEventRow.event_type == event_type)
        return int(db.scalar(query) or 0)


def test_pending_reminders_are_those_whose_day_has_come_and_none_after_the_deadline() -> None:
    deadline = date(2026, 4, 9)
    assert pending_reminders(deadline, date(2026, 3, 29), (10, 3, 1), set()) == []
    assert pending_reminders(deadline, date(2026, 3, 30), (10, 3, 1), set()) == [10]
    assert pending_reminders(deadline, date(2026, 4, 8), (10, 3, 1), {10}) == [1, 3]
    assert pending_reminders(deadline, date(2026, 4, 10), (10, 3, 1), set()) == []


def test_reminders_when_run_daily_then_each_sent_once_to_compliance_without_the_subject(
    desk: Desk,
) -> None:
    sar_id = drafted_sar(desk)  # deadline 2026-04-09
    assert run(desk, date(2026, 3, 29))[0] == []
    assert run(desk, date(2026, 3, 30))[0] == [sar_id]
    assert run(desk, date(2026, 3, 30))[0] == []  # the same day again: nothing
    assert run(desk, date(2026, 4, 5))[0] == []
    assert run(desk, date(2026, 4, 6))[0] == [sar_id]
    assert run(desk, date(2026, 4, 8))[0] == [sar_id]
    assert run(desk, date(2026, 4, 9))[0] == []
    assert [to for to, _, _ in desk.mail.sent] == [COMPLIANCE] * 3
    assert [subject for _, subject, _ in desk.mail.sent] == [
        "SAR due in 10 days", "SAR due in 3 days", "SAR due in 1 day",
    ]  # fmt: skip
    for _, subject, text in desk.mail.sent:
        assert sar_id in text
        for secret in (NAME, "user-9", "acct-1", "teacher", "threshold"):
            assert secret not in text + subject
    assert count(desk.kit, "aml.sar.reminded") == 3


def test_reminders_when_the_job_missed_several_then_one_email_covers_them(desk: Desk) -> None:
    drafted_sar(desk)
    run(desk, date(2026, 4, 8))
    run(desk, date(2026, 4, 8))
    assert len(desk.mail.sent) == 1
    assert "1 day left" in desk.mail.sent[0][2] or "(1 days left)" in desk.mail.sent[0][2]


def test_reminders_when_the_sar_is_filed_then_none(desk: Desk) -> None:
    sar_id = drafted_sar(desk)
    with transaction(desk.kit.sessions) as db:
        desk.reports.generate(db, OFFICER, sar_id, date(2026, 3, 20))
        desk.reports.record_filing(db, OFFICER, sar_id, "31000123456789", date(2026, 3, 21))
    assert run(desk, date(2026, 4, 8)) == [[], [], []]
    assert desk.mail.sent == []


def test_overdue_when_the_deadline_passed_then_one_confidential_alert(desk: Desk) -> None:
    sar_id = drafted_sar(desk)
    assert run(desk, date(2026, 4, 9))[1] == []
    assert run(desk, date(2026, 4, 10))[1] == [sar_id]
    assert run(desk, date(2026, 4, 11))[1] == []
    with desk.kit.sessions() as db:
        (alert,) = db.scalars(select(AlertRow).where(AlertRow.typology == OVERDUE)).all()
    assert (alert.source, alert.customer, alert.status) == ("aml.sar", "user-9", "open")
    assert json.loads(alert.evidence)["deadline"] == "2026-04-09"
    assert count(desk.kit, "aml.sar.alert.raised") == 1
    assert count(desk.kit, "alert.raised") == 1  # the structuring alert only


def overdue_alerts(desk: Desk) -> list[str]:
    with desk.kit.sessions() as db:
        return list(db.scalars(select(AlertRow.status).where(AlertRow.typology == OVERDUE)))


def closing_notes(kit: AuditKit) -> list[str]:
    with kit.sessions() as db:
        query = select(AuditEventRow.record).where(
            AuditEventRow.event_type == "aml.sar.alert.closed"
        )
        return [AuditEvent.from_record(bytes(record)).data["note"] for record in db.scalars(query)]


def file_sar(desk: Desk, sar_id: str, on: date) -> None:
    """Generate the SAR's filing and record it as filed ``on`` with BSA ID 31000123456789."""
    with transaction(desk.kit.sessions) as db:
        desk.reports.generate(db, OFFICER, sar_id, on)
        desk.reports.record_filing(db, OFFICER, sar_id, "31000123456789", on)


def test_overdue_when_the_sar_is_filed_late_then_its_alert_closes_with_a_note(
    desk: Desk,
) -> None:
    sar_id = drafted_sar(desk)
    run(desk, date(2026, 4, 10))
    file_sar(desk, sar_id, date(2026, 4, 11))
    assert overdue_alerts(desk) == ["closed"]
    assert closing_notes(desk.kit) == ["SAR filed on 2026-04-11, BSA ID 31000123456789"]
    assert count(desk.kit, "alert.closed") == 0  # confidential: under the source's prefix
    assert run(desk, date(2026, 4, 12))[1] == []
    assert overdue_alerts(desk) == ["closed"]


def test_overdue_when_the_case_is_closed_then_the_next_run_closes_its_alert(
    desk: Desk,
) -> None:
    sar_id = drafted_sar(desk)
    run(desk, date(2026, 4, 10))
    with desk.kit.sessions() as db:
        case_id = db.get_one(SarRow, sar_id).case_id
    with transaction(desk.kit.sessions) as db:
        Cases(desk.kit.trail, desk.kit.clock).decide(
            db, OFFICER, case_id, Decision.FALSE_POSITIVE, "explained by payroll"
        )
    assert overdue_alerts(desk) == ["open"]
    with transaction(desk.kit.sessions) as db:
        done = desk.clock.run(db, date(2026, 4, 11))
    assert (done.overdue, done.settled) == ([], [sar_id])
    assert overdue_alerts(desk) == ["closed"]
    assert closing_notes(desk.kit) == ["the SAR's case is closed"]
    assert run(desk, date(2026, 4, 12))[1] == []


def filed_sar(desk: Desk) -> str:
    """A SAR drafted and filed on 2026-03-20."""
    sar_id = drafted_sar(desk)
    file_sar(desk, sar_id, date(2026, 3, 20))
    return sar_id


def test_continuing_review_when_due_then_alert_with_the_activity_since_the_filing(
    desk: Desk,
) -> None:
    sar_id = filed_sar(desk)  # review due 2026-06-18
    cash(desk.kit, datetime(2026, 3, 19, 15, tzinfo=UTC), "deposit", "acct-1", "9000.00")
    cash(desk.kit, datetime(2026, 4, 2, 15, tzinfo=UTC), "deposit", "acct-1", "9500.00")
    cash(desk.kit, datetime(2026, 4, 3, 15, tzinfo=UTC), "withdrawal", "acct-1", "2000.00", "ach")
    cash(desk.kit, datetime(2026, 4, 3, 16, tzinfo=UTC), "deposit", "acct-7", "9900.00")
    assert run(desk, date(2026, 6, 17))[2] == []
    assert run(desk, date(2026, 6, 18))[2] == [sar_id]
    assert run(desk, date(2026, 6, 19))[2] == []
    with desk.kit.sessions() as db:
        (alert,) = db.scalars(
            select(AlertRow).where(AlertRow.typology == "aml.sar.continuing_review")
        ).all()
    activity = json.loads(alert.evidence)["activity"]
    assert (activity["deposits"], activity["deposit_total"]) == (1, "9500.00")
    assert (activity["withdrawals"], activity["withdrawal_total"]) == (1, "2000.00")
    assert activity["cash_total"] == "9500.00"


def test_review_when_no_further_activity_then_next_in_90_days_and_alert_closed(
    desk: Desk,
) -> None:
    sar_id = filed_sar(desk)
    run(desk, date(2026, 6, 18))
    with transaction(desk.kit.sessions) as db:
        kept = ContinuingReviews(desk.reports).record(
            db, OFFICER, sar_id, ReviewOutcome.NO_FURTHER_ACTIVITY, date(2026, 6, 20)
        )
        assert (kept.id, kept.review_due) == (sar_id, "2026-09-18")
    with desk.kit.sessions() as db:
        statuses = db.scalars(
            select(AlertRow.status).where(AlertRow.typology == "aml.sar.continuing_review")
        ).all()
    assert statuses == ["closed"]
    assert run(desk, date(2026, 9, 17))[2] == []
    assert run(desk, date(2026, 9, 18))[2] == [sar_id]


def test_review_when_continuing_sar_filed_then_new_draft_linked_and_xml_says_continuing(
    desk: Desk,
) -> None:
    sar_id = filed_sar(desk)
    cash(desk.kit, datetime(2026, 4, 2, 15, tzinfo=UTC), "deposit", "acct-1", "9500.00")
    run(desk, date(2026, 6, 18))
    with transaction(desk.kit.sessions) as db:
        new = ContinuingReviews(desk.reports).record(
            db, OFFICER, sar_id, ReviewOutcome.FILE_CONTINUING, date(2026, 6, 20)
        )
        new_id = new.id
        assert (new.status, new.prior_sar_id, new.prior_bsa_id) == (
            "draft", sar_id, "31000123456789",
        )  # fmt: skip
        assert (new.activity_from, new.activity_to, new.deadline) == (
            "2026-03-20", "2026-06-20", "2026-07-20",
        )  # fmt: skip
        assert (new.subject_name, new.amount_cents) == (NAME, 950_000)
        assert db.get(SarRow, sar_id).review_due is None  # type: ignore[union-attr]
    with transaction(desk.kit.sessions) as db:
        with pytest.raises(ProblemError) as again:
            ContinuingReviews(desk.reports).record(
                db, OFFICER, sar_id, ReviewOutcome.NO_FURTHER_ACTIVITY, date(2026, 6, 21)
            )
        assert again.value.reason_code == "SAR_NO_REVIEW"
        row = desk.reports.get(db, new_id)
        row.narrative = NARRATIVE
        desk.reports.generate(db, OFFICER, new_id, date(2026, 6, 22))
        document = desk.reports.xml_of(desk.reports.get(db, new_id))
    assert schema_errors("SARX", document) == []
    assert b"<fc2:EFilingPriorDocumentNumber>31000123456789<" in document
    assert b"<fc2:ContinuingActivityReportIndicator>Y<" in document
    # the prior's reviews ended; the continuing report, unfiled, is on its own clock
    assert run(desk, date(2026, 9, 20)) == [[], [new_id], []]
