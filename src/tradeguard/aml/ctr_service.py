"""CTRs of one business day from the audit trail's settled cash deposits and withdrawals.

The same aggregation as the replay (``CashLedger``): per customer, cash in and cash out
separately, over all the customer's accounts. Each CTR file is written owner-only under
``var_dir/aml/ctr``, sealed like a SAR's (``aml/sealed_files.py``: it names the customer,
their accounts and their cash, so on disk it is only ciphertext; downloads and batches
decrypt it). It is recorded as one ``aml.ctr.generated`` event with the SHA-256 of its
plain XML and its due date (15 calendar days after the transactions, 31 CFR
1010.306(a)(3)), and kept as a row (``aml_ctrs``) that FinCEN's acknowledgement (the
BSA ID) is recorded against.
Writing a day again replaces its files and rows; a filed CTR is never rewritten. A
deposit or withdrawal event of the day that cannot be read raises the operations alert
``aml.event_unreadable`` (the same one the live watcher raises) when an alert store is
given: the day's CTRs may then be incomplete.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.aml.ctr_xml import CurrencyReport, build_ctr
from tradeguard.aml.currency_reports import CashDay, CashLedger
from tradeguard.aml.filer import FilingInstitution
from tradeguard.aml.models import CtrRow
from tradeguard.aml.replay import ctr_file_name
from tradeguard.aml.retention import retained_until
from tradeguard.aml.sealed_files import SealedFiles
from tradeguard.aml.subjects import verified_subject
from tradeguard.aml.transactions import BUSINESS_ZONE, CustomerProfile, format_dollars
from tradeguard.aml.watcher import ACCOUNT_OPENED, MONEY_EVENTS, WATCHER_NAME, read_event
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.audit.search import AuditEvent, trusted_event
from tradeguard.cases.model import AlertDraft
from tradeguard.cases.store import AlertStore
from tradeguard.core.clock import Clock
from tradeguard.core.errors import CONFLICT, NOT_FOUND, ProblemError
from tradeguard.core.ids import new_id

CTR_DUE_DAYS = 15


@dataclass(frozen=True, slots=True)
class GeneratedCtr:
    """One CTR written for the day: whose, how much each way, where, its hash, when due."""

    customer: str
    day: date
    cash_in: str
    cash_out: str
    file: Path
    sha256: str
    due: date


def day_bounds_ns(day: date) -> tuple[int, int]:
    """The first nanosecond of ``day`` in New York and of the day after."""
    start = datetime.combine(day, time(0), BUSINESS_ZONE)
    end = datetime.combine(day + timedelta(days=1), time(0), BUSINESS_ZONE)
    return _ns(start), _ns(end)


def _ns(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp()) * 10**9


def trail_events(
    db: Session, types: set[str], since_ns: int = 0, until_ns: int | None = None
) -> list[AuditEvent]:
    """The trusted events of ``types`` in ``[since_ns, until_ns)``, in trail order."""
    query = select(AuditEventRow.seq, AuditEventRow.record).where(
        AuditEventRow.event_type.in_(sorted(types)), AuditEventRow.ts_ns >= since_ns
    )
    if until_ns is not None:
        query = query.where(AuditEventRow.ts_ns < until_ns)
    rows = db.execute(query.order_by(AuditEventRow.seq)).all()
    return [e for e in (trusted_event(seq, bytes(record)) for seq, record in rows) if e]


class CtrReports:
    """Generates the CTRs of a business day from the trail."""

    def __init__(  # noqa: PLR0913, PLR0917 - the trail, the clock, the filer, where and how
        self, audit: AuditTrail, clock: Clock, filer: FilingInstitution, out_dir: Path,
        files: SealedFiles, alerts: AlertStore | None = None,
    ) -> None:  # fmt: skip
        self.audit, self.clock, self.filer, self.out_dir = audit, clock, filer, out_dir
        self.files, self.alerts = files, alerts

    def cash_days(self, db: Session, day: date) -> list[CashDay]:
        """The customers' cash on ``day`` that needs a CTR (unreadable events alerted)."""
        owners = {
            e.subject: str(e.data.get("user_id"))
            for e in trail_events(db, {ACCOUNT_OPENED})
            if e.subject
        }
        ledger = CashLedger()
        for event in trail_events(db, set(MONEY_EVENTS), *day_bounds_ns(day)):
            txns, unreadable = read_event(event, lambda account: owners.get(account, account))
            for txn in txns:
                ledger.add(txn)
            if unreadable is not None:
                self._unreadable(db, unreadable)
        return ledger.reportable()

    def _unreadable(self, db: Session, draft: AlertDraft) -> None:
        if self.alerts is not None:
            self.alerts.raise_alert(db, draft, WATCHER_NAME)

    def generate(self, db: Session, actor: Actor, day: date) -> list[GeneratedCtr]:
        """Write every CTR of ``day`` and audit each file's hash; filed ones stay as they are."""
        today = datetime.fromtimestamp(self.clock.now_ns() / 1e9, BUSINESS_ZONE).date()
        filed = {row.customer for row in self.listed(db, day, 1_000_000) if row.status == "filed"}
        return [
            self._write(db, actor, cash_day, today)
            for cash_day in self.cash_days(db, day)
            if cash_day.customer not in filed
        ]

    def _write(self, db: Session, actor: Actor, cash_day: CashDay, today: date) -> GeneratedCtr:
        profile = CustomerProfile(cash_day.customer, declared=False)
        report = CurrencyReport(
            profile,
            cash_day,
            cash_day.reportable_in(),
            cash_day.reportable_out(),
            verified_subject(db, cash_day.customer),
        )
        document = build_ctr(report, self.filer, today)
        path = self.out_dir / "ctr" / ctr_file_name(cash_day.customer, cash_day.day)
        self.files.write(path, document)
        generated = GeneratedCtr(
            cash_day.customer, cash_day.day,
            format_dollars(report.cash_in_cents) if report.report_in else "",
            format_dollars(report.cash_out_cents) if report.report_out else "",
            path, hashlib.sha256(document).hexdigest(), cash_day.day + timedelta(days=CTR_DUE_DAYS),
        )  # fmt: skip
        row = self._store(db, generated, today)
        data = {
            "customer": generated.customer, "date": generated.day.isoformat(),
            "cash_in": generated.cash_in, "cash_out": generated.cash_out, "file": path.name,
            "sha256": generated.sha256, "due": generated.due.isoformat(), "id": row.id,
            "retain_until": row.retain_until,
        }  # fmt: skip
        self.audit.record(db, "aml.ctr.generated", actor, subject=f"ctr:{path.name}", data=data)
        return generated

    def _store(self, db: Session, ctr: GeneratedCtr, today: date) -> CtrRow:
        day, now = ctr.day.isoformat(), self.clock.now_ns()
        row = db.scalars(
            select(CtrRow).where(CtrRow.customer == ctr.customer, CtrRow.day == day)
        ).one_or_none()
        if row is None:
            row = CtrRow(id=str(new_id()), customer=ctr.customer, day=day, created_at_ns=now)
            db.add(row)
        row.cash_in, row.cash_out, row.file, row.sha256 = (
            ctr.cash_in, ctr.cash_out, ctr.file.name, ctr.sha256,
        )  # fmt: skip
        row.due, row.status, row.updated_at_ns = ctr.due.isoformat(), "generated", now
        row.retain_until = retained_until(today).isoformat()
        db.flush()
        return row

    @staticmethod
    def listed(db: Session, day: date | None, limit: int) -> list[CtrRow]:
        """CTRs, newest business day first (one day's when ``day`` is given)."""
        query = select(CtrRow).order_by(CtrRow.day.desc(), CtrRow.customer).limit(limit)
        if day is not None:
            query = query.where(CtrRow.day == day.isoformat())
        return list(db.scalars(query))

    @staticmethod
    def get(db: Session, ctr_id: str) -> CtrRow:
        """The CTR, or 404 ``CTR_NOT_FOUND``."""
        row = db.get(CtrRow, ctr_id)
        if row is None:
            raise ProblemError(NOT_FOUND, "CTR_NOT_FOUND", "no such CTR")
        return row

    def xml_of(self, row: CtrRow) -> bytes:
        """The CTR's XML as written (decrypted); 409 ``AML_FILE_UNREADABLE`` if it does not open."""
        path = self.out_dir / "ctr" / row.file
        if not path.is_file():
            raise ProblemError(NOT_FOUND, "CTR_FILE_MISSING", "the CTR's file is not there")
        return self.files.read(path)

    def seal_clear_files(self, db: Session, actor: Actor) -> list[str]:
        """Seal each CTR file written in clear before files were sealed; their names.

        Only a file whose bytes hash to its row's audited SHA-256 is sealed (one that does
        not is left as it is and keeps answering ``AML_FILE_UNREADABLE``); each is audited.
        """
        sealed = []
        for row in db.scalars(select(CtrRow).order_by(CtrRow.day, CtrRow.customer)):
            path = self.out_dir / "ctr" / row.file
            if self.files.seal_clear(path, row.sha256):
                data = {"file": row.file, "sha256": row.sha256}
                self.audit.record(db, "aml.ctr.sealed", actor, subject=f"ctr:{row.id}", data=data)
                sealed.append(row.file)
        return sealed

    def record_filing(
        self, db: Session, actor: Actor, ctr_id: str, bsa_id: str, filed_on: date
    ) -> CtrRow:
        """FinCEN's acknowledgement: the BSA ID, the filing date, five years from it."""
        row = self.get(db, ctr_id)
        if row.status == "filed":
            raise ProblemError(CONFLICT, "CTR_ALREADY_FILED", "the CTR's filing is recorded")
        row.bsa_id, row.filed_on, row.status = bsa_id, filed_on.isoformat(), "filed"
        row.retain_until = max(row.retain_until, retained_until(filed_on).isoformat())
        row.updated_at_ns = self.clock.now_ns()
        data = {"bsa_id": bsa_id, "filed_on": row.filed_on, "retain_until": row.retain_until}
        self.audit.record(db, "aml.ctr.filed", actor, subject=f"ctr:{row.id}", data=data)
        return row
