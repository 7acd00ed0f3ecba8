"""Five years of AML records: the retention end of each SAR and CTR, refused deletion, the purge.

31 CFR 1023.320(d): a broker-dealer keeps a copy of each SAR and its supporting
documentation for five years from the date of filing. 31 CFR 1010.306(a)(2): a copy of
each CTR for five years from the date of the report. A record's ``retain_until`` is
stored with it: five years from the draft or the report, moved to five years from the
filing when FinCEN's acknowledgement is recorded. Deleting a record before that date is
refused with ``AML_RETENTION_ACTIVE``; the purge removes the records (and their files)
whose date has passed, one audit event per record.

Alerts and cases of the shared store that are AML's (``docs/decisions/0068``): a closed
case is kept five years from its closure, and at least as long as any SAR drafted from
it; an alert in a case is the case's supporting documentation and goes with it (never
alone); an AML alert in no case is kept five years from its last change, and for as long
as it is open. Only cases whose alerts are all AML's are AML records: a case that also
holds another watcher's alerts is left to that watcher's retention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.aml.batches import BATCH_NAME, batches_holding
from tradeguard.aml.models import CtrRow, SarRow
from tradeguard.aml.transactions import BUSINESS_ZONE, BusinessDays
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.cases.models import AlertRow, CaseNoteRow, CaseRow
from tradeguard.cases.store import CLOSED, OPEN
from tradeguard.core.errors import CONFLICT, NOT_FOUND, ProblemError

RETENTION_YEARS = 5
AML_SOURCES = ("aml", "aml.sar")
"""The alert sources whose alerts and cases are AML records."""


def retained_until(start: date) -> date:
    """Five years after ``start`` (a 29 February ends on 1 March)."""
    try:
        return start.replace(year=start.year + RETENTION_YEARS)
    except ValueError:
        return date(start.year + RETENTION_YEARS, 3, 1)


def retention_active(retain_until: str | None, today: date) -> ProblemError | None:
    """409 ``AML_RETENTION_ACTIVE`` when ``today`` is not past ``retain_until``."""
    if retain_until is not None and today > date.fromisoformat(retain_until):
        return None
    return ProblemError(
        CONFLICT, "AML_RETENTION_ACTIVE", "the record is kept for five years",
        {"retain_until": retain_until},
    )  # fmt: skip


def not_aml(kind: str) -> ProblemError:
    """409: the record is not AML's (another watcher's retention applies)."""
    return ProblemError(CONFLICT, "AML_NOT_AML_RECORD", f"the {kind} is not an AML record")


def case_retained_until(db: Session, case: CaseRow) -> str | None:
    """The last day a case is kept: five years from closure, and while any SAR of it is."""
    if case.status != CLOSED or case.decided_at_ns is None:
        return None
    ends = [retained_until(BusinessDays().of(case.decided_at_ns)).isoformat()]
    for sar in db.scalars(select(SarRow).where(SarRow.case_id == case.id)):
        if sar.retain_until is None:
            return None
        ends.append(sar.retain_until)
    return max(ends)


def alert_retained_until(alert: AlertRow) -> str | None:
    """The last day an alert in no case is kept: five years from its last change, once closed."""
    if alert.status == OPEN:
        return None
    return retained_until(BusinessDays().of(alert.updated_at_ns)).isoformat()


def is_aml_case(db: Session, case: CaseRow) -> bool:
    """Whether every alert of ``case`` is an AML alert (and it has some)."""
    sources = set(db.scalars(select(AlertRow.source).where(AlertRow.case_id == case.id)))
    return bool(sources) and sources <= set(AML_SOURCES)


def _candidates_before(today: date) -> int:
    """A bound (in ns) on the closure or change of records that may have expired by ``today``.

    1,825 days is less than five years, so the exact check after it decides.
    """
    moment = datetime.combine(today - timedelta(days=5 * 365), time(0), BUSINESS_ZONE)
    return int(moment.timestamp()) * 10**9 + 86_400 * 10**9


@dataclass(frozen=True, slots=True)
class Purged:
    """What a purge removed."""

    sars: list[str]
    ctrs: list[str]
    cases: list[str] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)


class AmlRetention:
    """Deletes AML reports whose retention has ended, and only those."""

    def __init__(self, audit: AuditTrail, out_dir: Path) -> None:
        self.audit, self.out_dir = audit, out_dir

    def delete_sar(self, db: Session, actor: Actor, row: SarRow, today: date) -> None:
        """Delete the SAR and its file, or refuse while it is retained."""
        refused = retention_active(row.retain_until, today)
        if refused is not None:
            raise refused
        (self.out_dir / f"sar-{row.id}.xml").unlink(missing_ok=True)
        batches = [name for name in batches_holding(db, row.id) if BATCH_NAME.fullmatch(name)]
        for name in batches:
            (self.out_dir / "batches" / name).unlink(missing_ok=True)
        db.delete(row)
        data = {"case_id": row.case_id, "retain_until": row.retain_until or "", "batches": batches}
        self.audit.record(db, "aml.sar.deleted", actor, subject=f"sar:{row.id}", data=data)

    def delete_ctr(self, db: Session, actor: Actor, row: CtrRow, today: date) -> None:
        """Delete the CTR and its file, or refuse while it is retained."""
        refused = retention_active(row.retain_until, today)
        if refused is not None:
            raise refused
        (self.out_dir / "ctr" / row.file).unlink(missing_ok=True)
        db.delete(row)
        data = {"file": row.file, "retain_until": row.retain_until}
        self.audit.record(db, "aml.ctr.deleted", actor, subject=f"ctr:{row.id}", data=data)

    def delete_case(self, db: Session, actor: Actor, case_id: str, today: date) -> None:
        """Delete an AML case with its alerts and notes, or refuse while it is retained."""
        case = db.get(CaseRow, case_id)
        if case is None:
            raise ProblemError(NOT_FOUND, "CASE_NOT_FOUND", "no such case")
        if not is_aml_case(db, case):
            raise not_aml("case")
        retain_until = case_retained_until(db, case)
        refused = retention_active(retain_until, today)
        if refused is not None:
            raise refused
        alerts = list(db.scalars(select(AlertRow).where(AlertRow.case_id == case.id)))
        notes = list(db.scalars(select(CaseNoteRow).where(CaseNoteRow.case_id == case.id)))
        for record in (*alerts, *notes):
            db.delete(record)
        db.flush()
        db.delete(case)
        data = {"alerts": [a.id for a in alerts], "notes": len(notes),
                "retain_until": retain_until or ""}  # fmt: skip
        self.audit.record(db, "aml.case.deleted", actor, subject=case.id, data=data)

    def delete_alert(self, db: Session, actor: Actor, alert_id: str, today: date) -> None:
        """Delete an AML alert in no case, or refuse while it is retained (or in a case)."""
        alert = db.get(AlertRow, alert_id)
        if alert is None:
            raise ProblemError(NOT_FOUND, "ALERT_NOT_FOUND", "no such alert")
        if alert.source not in AML_SOURCES:
            raise not_aml("alert")
        if alert.case_id is not None:
            raise ProblemError(CONFLICT, "AML_ALERT_IN_CASE", "an alert goes with its case",
                               {"case_id": alert.case_id})  # fmt: skip
        refused = retention_active(alert_retained_until(alert), today)
        if refused is not None:
            raise refused
        db.delete(alert)
        data = {"typology": alert.typology, "retain_until": alert_retained_until(alert) or ""}
        self.audit.record(db, "aml.alert.deleted", actor, subject=alert.id, data=data)

    def purge(self, db: Session, actor: Actor, today: date) -> Purged:
        """Delete every AML record (SAR, CTR, case, alert) whose retention ended before today."""
        cutoff = today.isoformat()
        sars = list(db.scalars(select(SarRow).where(SarRow.retain_until < cutoff)))
        ctrs = list(db.scalars(select(CtrRow).where(CtrRow.retain_until < cutoff)))
        for sar in sars:
            self.delete_sar(db, actor, sar, today)
        for ctr in ctrs:
            self.delete_ctr(db, actor, ctr, today)
        db.flush()
        cases = self._expired_cases(db, today)
        for case_id in cases:
            self.delete_case(db, actor, case_id, today)
        alerts = self._expired_alerts(db, today)
        for alert_id in alerts:
            self.delete_alert(db, actor, alert_id, today)
        return Purged([s.id for s in sars], [c.id for c in ctrs], cases, alerts)

    @staticmethod
    def _expired_cases(db: Session, today: date) -> list[str]:
        closed = db.scalars(
            select(CaseRow).where(
                CaseRow.status == CLOSED, CaseRow.decided_at_ns < _candidates_before(today)
            )
        )
        return [
            case.id
            for case in closed
            if is_aml_case(db, case)
            and retention_active(case_retained_until(db, case), today) is None
        ]

    @staticmethod
    def _expired_alerts(db: Session, today: date) -> list[str]:
        loose = db.scalars(
            select(AlertRow).where(
                AlertRow.source.in_(AML_SOURCES), AlertRow.case_id.is_(None),
                AlertRow.status != OPEN, AlertRow.updated_at_ns < _candidates_before(today),
            )
        )  # fmt: skip
        return [a.id for a in loose if retention_active(alert_retained_until(a), today) is None]
