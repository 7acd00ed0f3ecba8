"""SARs drafted from cases: stored encrypted, generated as FinCEN XML, filed, on the clock.

Every change is one audit event (``aml.sar.drafted``, ``aml.sar.generated`` with the
file's SHA-256, ``aml.sar.filed``) whose data names the SAR and the case, never the
subject or the narrative.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.aml.filer import FilingInstitution
from tradeguard.aml.findings import Typology
from tradeguard.aml.models import SarRow
from tradeguard.aml.retention import retained_until
from tradeguard.aml.sar import (
    FieldProblem,
    FilingState,
    SarDraft,
    continuing_review_due,
    draft_problems,
    filing_deadline,
    filing_state,
)
from tradeguard.aml.sar_xml import build_sar
from tradeguard.aml.sealed_files import SealedFiles
from tradeguard.aml.transactions import BusinessDays, CustomerProfile
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.cases.models import AlertRow, CaseRow
from tradeguard.cases.store import close_alert
from tradeguard.core.clock import Clock
from tradeguard.core.errors import CONFLICT, NOT_FOUND, ProblemError, ProblemType
from tradeguard.core.ids import new_id

INCOMPLETE = ProblemType("sar-incomplete", "The SAR cannot be filed yet", 422)
SAR_SOURCE = "aml.sar"
OVERDUE = "aml.sar.overdue"


@dataclass(frozen=True, slots=True)
class SarForm:
    """What compliance writes into a SAR that the case does not hold."""

    subject_name: str
    subject_dob: str
    subject_occupation: str
    narrative: str
    detected_on: date
    amount_cents: int
    suspect_identified: bool = True
    prior_bsa_id: str | None = None


def sar_not_found() -> ProblemError:
    """404: no SAR has that id (or the caller may not know it exists)."""
    return ProblemError(NOT_FOUND, "SAR_NOT_FOUND", "no such SAR")


class SarReports:
    """Drafts SARs from cases, writes their XML, records their filing."""

    def __init__(
        self, audit: AuditTrail, clock: Clock, filer: FilingInstitution, out_dir: Path,
        files: SealedFiles,
    ) -> None:  # fmt: skip
        self.audit, self.clock, self.filer, self.out_dir = audit, clock, filer, out_dir
        self.files = files

    def draft(self, db: Session, actor: Actor, case_id: str, form: SarForm) -> SarRow:
        """A SAR for ``case_id`` from its alerts (accounts, typologies, window) and ``form``."""
        case = db.get(CaseRow, case_id)
        if case is None:
            raise ProblemError(NOT_FOUND, "CASE_NOT_FOUND", "no such case")
        alerts = list(db.scalars(select(AlertRow).where(AlertRow.case_id == case_id)))
        now = self.clock.now_ns()
        row = _new_row(case, alerts, form, actor, now)
        row.retain_until = retained_until(BusinessDays().of(now)).isoformat()
        db.add(row)
        db.flush()
        self.record_draft(db, actor, row)
        return row

    def record_draft(self, db: Session, actor: Actor, row: SarRow) -> None:
        """Audit a new draft (``aml.sar.drafted``), naming the SAR it continues if any."""
        self._record(db, actor, "aml.sar.drafted", row, prior_sar_id=row.prior_sar_id or "")

    def revise(self, db: Session, actor: Actor, sar_id: str, form: SarForm) -> SarRow:
        """New subject, narrative and amount; a generated SAR goes back to draft."""
        row = self.get(db, sar_id)
        if row.status == "filed":
            raise ProblemError(CONFLICT, "SAR_ALREADY_FILED", "a filed SAR is not changed")
        row.subject_name, row.subject_dob = form.subject_name, form.subject_dob
        row.subject_occupation, row.narrative = form.subject_occupation, form.narrative
        row.amount_cents, row.status, row.xml_sha256 = form.amount_cents, "draft", None
        row.updated_at_ns = self.clock.now_ns()
        (self.out_dir / f"sar-{row.id}.xml").unlink(missing_ok=True)
        self._record(db, actor, "aml.sar.revised", row)
        return row

    def generate(self, db: Session, actor: Actor, sar_id: str, today: date) -> Path:
        """Write the SAR's XML (encrypted) once nothing is missing; its plain hash is audited."""
        row = self.get(db, sar_id)
        draft = draft_of(row)
        problems = draft_problems(draft)
        if problems:
            raise incomplete(problems)
        document = build_sar(draft, self.filer, today)
        path = self.out_dir / f"sar-{row.id}.xml"
        self.files.write(path, document)
        row.xml_sha256 = hashlib.sha256(document).hexdigest()
        row.status, row.updated_at_ns = "generated", self.clock.now_ns()
        self._record(db, actor, "aml.sar.generated", row, sha256=row.xml_sha256)
        return path

    def record_filing(
        self, db: Session, actor: Actor, sar_id: str, bsa_id: str, filed_on: date
    ) -> SarRow:
        """FinCEN's acknowledgement: the BSA ID and filing date stop the clock."""
        row = self.get(db, sar_id)
        if row.status != "generated":
            raise ProblemError(CONFLICT, "SAR_NOT_GENERATED", "only a generated SAR can be filed")
        row.bsa_id, row.filed_on, row.status = bsa_id, filed_on.isoformat(), "filed"
        row.retain_until = max(row.retain_until or "", retained_until(filed_on).isoformat())
        row.review_due = continuing_review_due(filed_on).isoformat()
        row.updated_at_ns = self.clock.now_ns()
        self._record(db, actor, "aml.sar.filed", row, bsa_id=bsa_id)
        close_overdue(db, self.audit, actor, row, f"SAR filed on {row.filed_on}, BSA ID {bsa_id}")
        return row

    @staticmethod
    def get(db: Session, sar_id: str) -> SarRow:
        """The SAR, or SAR_NOT_FOUND."""
        row = db.get(SarRow, sar_id)
        if row is None:
            raise sar_not_found()
        return row

    def viewed(self, db: Session, actor: Actor, sar_id: str) -> SarRow:
        """The SAR, its reading audited (``aml.sar.viewed``)."""
        row = self.get(db, sar_id)
        self._record(db, actor, "aml.sar.viewed", row)
        return row

    def downloaded(self, db: Session, actor: Actor, sar_id: str) -> bytes:
        """The SAR's plain XML, its download audited (``aml.sar.downloaded``)."""
        row = self.get(db, sar_id)
        document = self.xml_of(row)
        self._record(db, actor, "aml.sar.downloaded", row, sha256=row.xml_sha256 or "")
        return document

    @staticmethod
    def listed(db: Session, limit: int) -> list[SarRow]:
        """SARs by deadline, nearest first."""
        return list(db.scalars(select(SarRow).order_by(SarRow.deadline).limit(limit)))

    def xml_of(self, row: SarRow) -> bytes:
        """The SAR's generated file, or 409 ``SAR_NOT_GENERATED``."""
        path = self.out_dir / f"sar-{row.id}.xml"
        if row.status == "draft" or not path.is_file():
            raise ProblemError(CONFLICT, "SAR_NOT_GENERATED", "the SAR's XML is not generated")
        return self.files.read(path)

    def _record(self, db: Session, actor: Actor, event: str, row: SarRow, **extra: str) -> None:
        data = {"case_id": row.case_id, "deadline": row.deadline, "status": row.status,
                "retain_until": row.retain_until or "", **extra}  # fmt: skip
        self.audit.record(db, event, actor, subject=f"sar:{row.id}", data=data)


def overdue_alert(row: SarRow, start_ns: int = 0) -> AlertDraft:
    """The ``aml.sar.overdue`` alert of an unfiled SAR (one per SAR: its identity)."""
    evidence = {"sar": row.id, "case": row.case_id, "deadline": row.deadline,
                "detected_on": row.detected_on}  # fmt: skip
    accounts = tuple(str(account) for account in json.loads(row.accounts))
    return AlertDraft(OVERDUE, 1.0, Subject(row.customer, accounts), start_ns, start_ns, OVERDUE,
                      f"sar:{row.id}", evidence)  # fmt: skip


def close_overdue(db: Session, audit: AuditTrail, actor: Actor, row: SarRow, note: str) -> bool:
    """Close the SAR's open overdue alert with ``note`` (audited); whether there was one."""
    key = overdue_alert(row).key(SAR_SOURCE)
    return close_alert(db, audit, key, actor, note, audit.clock.now_ns()) is not None


def incomplete(problems: list[FieldProblem]) -> ProblemError:
    """422: what stops the SAR from being generated, field by field."""
    fields = [{"field": p.field, "message": p.message} for p in problems]
    return ProblemError(INCOMPLETE, "SAR_INCOMPLETE", "the SAR is not complete", {"fields": fields})


def state_of(row: SarRow, today: date) -> FilingState:
    """Where the SAR stands against its deadline on ``today``."""
    filed = date.fromisoformat(row.filed_on) if row.filed_on else None
    return filing_state(date.fromisoformat(row.deadline), today, filed)


def draft_of(row: SarRow) -> SarDraft:
    """The builder's view of a stored SAR."""
    subject = CustomerProfile(
        row.customer or "", name=row.subject_name, dob=row.subject_dob,
        occupation=row.subject_occupation,
    )  # fmt: skip
    return SarDraft(
        subject=subject, accounts=tuple(json.loads(row.accounts)),
        typologies=tuple(Typology(t) for t in json.loads(row.typologies)),
        activity_from=date.fromisoformat(row.activity_from),
        activity_to=date.fromisoformat(row.activity_to), amount_cents=row.amount_cents,
        narrative=row.narrative, detected_on=date.fromisoformat(row.detected_on),
        suspect_identified=row.suspect_identified,
        prior_document=int(row.prior_bsa_id) if row.prior_bsa_id else None,
    )  # fmt: skip


def _new_row(
    case: CaseRow, alerts: list[AlertRow], form: SarForm, actor: Actor, now: int
) -> SarRow:
    known = {t.value for t in Typology}
    window = [a.start_ns for a in alerts] + [a.end_ns for a in alerts] or [case.created_at_ns]
    days = BusinessDays()
    deadline = filing_deadline(form.detected_on, suspect_identified=form.suspect_identified)
    return SarRow(
        id=str(new_id()), case_id=case.id,
        customer=next((a.customer for a in alerts if a.customer), None),
        subject_name=form.subject_name, subject_dob=form.subject_dob,
        subject_occupation=form.subject_occupation, narrative=form.narrative,
        accounts=json.dumps(sorted({x for a in alerts for x in json.loads(a.accounts)})),
        typologies=json.dumps(sorted({a.typology for a in alerts} & known)),
        activity_from=days.of(min(window)).isoformat(),
        activity_to=days.of(max(window)).isoformat(),
        amount_cents=form.amount_cents, detected_on=form.detected_on.isoformat(),
        suspect_identified=form.suspect_identified, deadline=deadline.isoformat(),
        status="draft", prior_bsa_id=form.prior_bsa_id, created_by=actor.id or actor.kind,
        created_at_ns=now, updated_at_ns=now,
    )  # fmt: skip
