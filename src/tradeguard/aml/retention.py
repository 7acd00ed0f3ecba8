"""Five years of AML records: the retention end of each SAR and CTR, refused deletion, the purge.

31 CFR 1023.320(d): a broker-dealer keeps a copy of each SAR and its supporting
documentation for five years from the date of filing. 31 CFR 1010.306(a)(2): a copy of
each CTR for five years from the date of the report. A record's ``retain_until`` is
stored with it: five years from the draft or the report, moved to five years from the
filing when FinCEN's acknowledgement is recorded. Deleting a record before that date is
refused with ``AML_RETENTION_ACTIVE``; the purge removes the records (and their files)
whose date has passed, one audit event per record.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.aml.models import CtrRow, SarRow
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.core.errors import CONFLICT, ProblemError

RETENTION_YEARS = 5


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


@dataclass(frozen=True, slots=True)
class Purged:
    """What a purge removed."""

    sars: list[str]
    ctrs: list[str]


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
        db.delete(row)
        data = {"case_id": row.case_id, "retain_until": row.retain_until or ""}
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

    def purge(self, db: Session, actor: Actor, today: date) -> Purged:
        """Delete every SAR and CTR whose retention ended before ``today``."""
        cutoff = today.isoformat()
        sars = list(db.scalars(select(SarRow).where(SarRow.retain_until < cutoff)))
        ctrs = list(db.scalars(select(CtrRow).where(CtrRow.retain_until < cutoff)))
        for sar in sars:
            self.delete_sar(db, actor, sar, today)
        for ctr in ctrs:
            self.delete_ctr(db, actor, ctr, today)
        return Purged([s.id for s in sars], [c.id for c in ctrs])
