"""Routes of SAR drafting and filing; all need ``aml:sar`` (a SAR's existence is confidential)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from tradeguard.access.caller import Caller
from tradeguard.aml.batches import Batch, FilingBatches
from tradeguard.aml.continuing_review import ContinuingReviews
from tradeguard.aml.ctr_service import CtrReports
from tradeguard.aml.parameter_book import ParameterBook
from tradeguard.aml.parameters import MonitorParameters
from tradeguard.aml.retention import AmlRetention
from tradeguard.aml.sar_service import SarForm, SarReports
from tradeguard.aml.schemas import (
    BatchView,
    CtrDayRequest,
    CtrView,
    FilingRequest,
    ParametersRequest,
    ParameterVersionView,
    ReviewRequest,
    SarEditRequest,
    SarRequest,
    SarView,
    ctr_view,
    sar_view,
)
from tradeguard.aml.transactions import BusinessDays
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

SarOfficer = Annotated[Principal, require(Permission.AML_SAR)]
Reviewer = Annotated[Principal, require(Permission.COMPLIANCE_AUDIT)]
Tuner = Annotated[Principal, require(Permission.AML_PARAMETERS)]
Book = Annotated[ParameterBook, provided(ParameterBook)]
Reporter = Annotated[Principal, require(Permission.COMPLIANCE_REPORT)]
Ctrs = Annotated[CtrReports, provided(CtrReports)]
Reports = Annotated[SarReports, provided(SarReports)]
Retention = Annotated[AmlRetention, provided(AmlRetention)]
Batches = Annotated[FilingBatches, provided(FilingBatches)]
BatchName = Annotated[str, Path(pattern=r"^batch-(CTRX|SARX)-[0-9]{8}T[0-9]{6}-[0-9]{1,9}\.xml$")]
ObjectPath = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "The route's permission is missing (ACCESS_DENIED, APIKEY_SCOPE)"},
    404: {
        "description": "No such case, alert or SAR (CASE_NOT_FOUND, ALERT_NOT_FOUND, SAR_NOT_FOUND)"
    },
    409: {
        "description": "Nothing is ready to batch (AML_NOTHING_TO_FILE);"
        " only a generated SAR can be filed (SAR_NOT_GENERATED), only a filed one"
        " reviewed (SAR_NO_REVIEW); a record is"
        " kept five years (AML_RETENTION_ACTIVE); a filing is recorded once"
        " (SAR_ALREADY_FILED, CTR_ALREADY_FILED); an alert goes with its case"
        " (AML_ALERT_IN_CASE); another watcher's record (AML_NOT_AML_RECORD)"
    },
    422: {"description": "Invalid request, or the SAR is incomplete (SAR_INCOMPLETE)"},
}
router = APIRouter(prefix="/v1/compliance/aml", tags=["AML reports"], responses=PROBLEMS)


def _today(reports: SarReports) -> date:
    return BusinessDays().of(reports.clock.now_ns())


def _batch_view(batch: Batch) -> BatchView:
    return BatchView(file=batch.file, form=batch.form, reports=batch.reports,
                     totals=batch.totals, sha256=batch.sha256)  # fmt: skip


@router.post("/sars/batch", summary="Export the SARs ready to file as one batch")
def export_sar_batch(
    officer: SarOfficer, request: Request, db: DbSession, batches: Batches
) -> BatchView:
    """Every generated SAR not yet filed, in one SARX batch with its totals; audited."""
    return _batch_view(batches.export(db, Caller.of(officer, request).actor, "SARX"))


@router.get("/sars/batches/{name}", summary="Download a SAR batch")
def download_sar_batch(name: BatchName, _officer: SarOfficer, batches: Batches) -> Response:
    """An exported SARX batch file."""
    return _xml(batches.read(name, "SARX"), name)


@router.post("/ctrs/batch", summary="Export the CTRs ready to file as one batch")
def export_ctr_batch(
    reporter: Reporter, request: Request, db: DbSession, batches: Batches
) -> BatchView:
    """Every written CTR not yet filed, in one CTRX batch with its totals; audited."""
    return _batch_view(batches.export(db, Caller.of(reporter, request).actor, "CTRX"))


@router.get("/ctrs/batches/{name}", summary="Download a CTR batch")
def download_ctr_batch(name: BatchName, _reporter: Reporter, batches: Batches) -> Response:
    """An exported CTRX batch file."""
    return _xml(batches.read(name, "CTRX"), name)


@router.post("/cases/{case_id}/sar", summary="Draft a SAR from a case", status_code=201)
def draft_sar(
    case_id: ObjectPath, body: SarRequest, officer: SarOfficer, request: Request,
    db: DbSession, reports: Reports,
) -> SarView:  # fmt: skip
    """A SAR with the case's accounts, typologies and window, on the filing clock."""
    form = SarForm(
        body.subject_name, body.subject_dob, body.subject_occupation, body.narrative,
        body.detected_on, body.amount.cents, body.suspect_identified, body.prior_bsa_id,
    )  # fmt: skip
    row = reports.draft(db, Caller.of(officer, request).actor, case_id, form)
    return sar_view(row, _today(reports))


@router.get("/sars", summary="SARs by deadline")
def list_sars(
    _officer: SarOfficer, db: DbSession, reports: Reports,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SarView]:  # fmt: skip
    """Every SAR, nearest deadline first, with its filing state (on time, remind, overdue)."""
    today = _today(reports)
    return [sar_view(row, today) for row in reports.listed(db, limit)]


@router.get("/sars/{sar_id}", summary="One SAR with what it still lacks")
def get_sar(
    sar_id: ObjectPath, officer: SarOfficer, request: Request, db: DbSession, reports: Reports
) -> SarView:
    """The SAR and its problems, field by field; the reading is audited."""
    row = reports.viewed(db, Caller.of(officer, request).actor, sar_id)
    return sar_view(row, _today(reports))


@router.post("/sars/{sar_id}/xml", summary="Generate the SAR's FinCEN XML")
def generate_sar(
    sar_id: ObjectPath, officer: SarOfficer, request: Request, db: DbSession, reports: Reports
) -> SarView:
    """Write the SARX file (owner-only); its SHA-256 is audited and shown."""
    reports.generate(db, Caller.of(officer, request).actor, sar_id, _today(reports))
    return sar_view(reports.get(db, sar_id), _today(reports))


@router.put("/sars/{sar_id}", summary="Revise a SAR before it is filed")
def revise_sar(
    sar_id: ObjectPath, body: SarEditRequest, officer: SarOfficer, request: Request,
    db: DbSession, reports: Reports,
) -> SarView:  # fmt: skip
    """Subject, narrative and amount; a generated SAR goes back to draft (its file removed)."""
    row = reports.get(db, sar_id)
    form = SarForm(
        body.subject_name, body.subject_dob, body.subject_occupation, body.narrative,
        date.fromisoformat(row.detected_on), body.amount.cents,
    )  # fmt: skip
    row = reports.revise(db, Caller.of(officer, request).actor, sar_id, form)
    return sar_view(row, _today(reports))


@router.get("/sars/{sar_id}/xml", summary="Download the SAR's FinCEN XML")
def download_sar(
    sar_id: ObjectPath, officer: SarOfficer, request: Request, db: DbSession, reports: Reports
) -> Response:
    """The generated SARX file (409 SAR_NOT_GENERATED before it exists); audited."""
    document = reports.downloaded(db, Caller.of(officer, request).actor, sar_id)
    return _xml(document, f"sar-{sar_id}.xml")


@router.delete("/sars/{sar_id}", summary="Delete a SAR after its retention", status_code=204)
def delete_sar(
    sar_id: ObjectPath, officer: SarOfficer, request: Request, db: DbSession,
    reports: Reports, retention: Retention,
) -> Response:  # fmt: skip
    """Refused with AML_RETENTION_ACTIVE until five years after its filing have passed."""
    row = reports.get(db, sar_id)
    retention.delete_sar(db, Caller.of(officer, request).actor, row, _today(reports))
    return Response(status_code=204)


@router.delete("/cases/{case_id}", summary="Delete an AML case after its retention",
               status_code=204)  # fmt: skip
def delete_case(
    case_id: ObjectPath, officer: SarOfficer, request: Request, db: DbSession,
    reports: Reports, retention: Retention,
) -> Response:  # fmt: skip
    """The case with its alerts and notes, once its retention has ended.

    AML_RETENTION_ACTIVE until five years after its closure (and while a SAR of it is
    kept); AML_NOT_AML_RECORD for a case holding another watcher's alerts.
    """
    retention.delete_case(db, Caller.of(officer, request).actor, case_id, _today(reports))
    return Response(status_code=204)


@router.delete("/alerts/{alert_id}", summary="Delete an AML alert in no case after its retention",
               status_code=204)  # fmt: skip
def delete_alert(
    alert_id: ObjectPath, officer: SarOfficer, request: Request, db: DbSession,
    reports: Reports, retention: Retention,
) -> Response:  # fmt: skip
    """The alert, once its retention has ended.

    AML_RETENTION_ACTIVE while open and until five years after its last change;
    AML_ALERT_IN_CASE when a case holds it (it goes with the case).
    """
    retention.delete_alert(db, Caller.of(officer, request).actor, alert_id, _today(reports))
    return Response(status_code=204)


def _xml(document: bytes, name: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(document, media_type="application/xml", headers=headers)


@router.post("/sars/{sar_id}/filing", summary="Record FinCEN's acknowledgement")
def record_filing(
    sar_id: ObjectPath, body: FilingRequest, officer: SarOfficer, request: Request,
    db: DbSession, reports: Reports,
) -> SarView:  # fmt: skip
    """The BSA ID and the filing date: the clock stops, the 90-day review starts."""
    actor = Caller.of(officer, request).actor
    row = reports.record_filing(db, actor, sar_id, body.bsa_id, body.filed_on)
    return sar_view(row, _today(reports))


@router.post("/sars/{sar_id}/continuing-review", summary="Record a continuing-activity review")
def review_continuing_activity(
    sar_id: ObjectPath, body: ReviewRequest, officer: SarOfficer, request: Request,
    db: DbSession, reports: Reports,
) -> SarView:  # fmt: skip
    """``no_further_activity`` (next review in 90 days) or ``file_continuing`` (a new draft).

    The answer is the SAR to work on: the new draft, linked to this one, or this one.
    409 SAR_NO_REVIEW unless the SAR is filed and under review.
    """
    actor = Caller.of(officer, request).actor
    row = ContinuingReviews(reports).record(db, actor, sar_id, body.outcome, _today(reports))
    return sar_view(row, _today(reports))


@router.get("/parameters", summary="The monitors' parameters in force")
def get_parameters(_reviewer: Reviewer, db: DbSession, book: Book) -> MonitorParameters:
    """Every monitor's thresholds, windows and lists."""
    return book.current(db)


@router.get("/parameters/history", summary="The versions of the monitors' parameters")
def parameter_history(
    _reviewer: Reviewer, db: DbSession, book: Book,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ParameterVersionView]:  # fmt: skip
    """Who changed the parameters, when and why, newest first (the trail holds the documents)."""
    return [
        ParameterVersionView(id=v.id, reason=v.reason, changed_by=v.changed_by,
                             changed_at_ns=v.created_at_ns)
        for v in book.history(db, limit)
    ]  # fmt: skip


@router.put("/parameters", summary="Change the monitors' parameters")
def change_parameters(
    body: ParametersRequest, tuner: Tuner, request: Request, db: DbSession, book: Book
) -> MonitorParameters:
    """A new version, audited with before and after; the live watcher is rebuilt with it."""
    book.change(db, Caller.of(tuner, request).actor, body.parameters, body.reason)
    return body.parameters


@router.post("/ctrs", summary="Write the CTRs of a business day")
def generate_ctrs(
    body: CtrDayRequest, reporter: Reporter, request: Request, db: DbSession, ctrs: Ctrs
) -> list[CtrView]:
    """One CTRX file per customer whose cash in or out that day exceeded $10,000; audited."""
    written = {c.customer for c in ctrs.generate(db, Caller.of(reporter, request).actor, body.date)}
    return [ctr_view(row) for row in ctrs.listed(db, body.date, 100_000) if row.customer in written]


@router.get("/ctrs", summary="CTRs, newest business day first")
def list_ctrs(
    _reporter: Reporter, db: DbSession, ctrs: Ctrs,
    day: Annotated[date | None, Query(alias="date")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CtrView]:  # fmt: skip
    """Every CTR written (one day's with ``date``), with its due date, filing and retention."""
    return [ctr_view(row) for row in ctrs.listed(db, day, limit)]


@router.get("/ctrs/{ctr_id}/xml", summary="Download a CTR's FinCEN XML")
def download_ctr(ctr_id: ObjectPath, _reporter: Reporter, db: DbSession, ctrs: Ctrs) -> Response:
    """The CTRX file as written."""
    row = ctrs.get(db, ctr_id)
    return _xml(ctrs.xml_of(row), row.file)


@router.post("/ctrs/{ctr_id}/filing", summary="Record FinCEN's acknowledgement of a CTR")
def record_ctr_filing(
    ctr_id: ObjectPath, body: FilingRequest, reporter: Reporter, request: Request,
    db: DbSession, ctrs: Ctrs,
) -> CtrView:  # fmt: skip
    """The BSA ID and the filing date; retention runs five years from the filing."""
    actor = Caller.of(reporter, request).actor
    return ctr_view(ctrs.record_filing(db, actor, ctr_id, body.bsa_id, body.filed_on))


@router.delete("/ctrs/{ctr_id}", summary="Delete a CTR after its retention", status_code=204)
def delete_ctr(
    ctr_id: ObjectPath, reporter: Reporter, request: Request, db: DbSession, ctrs: Ctrs,
    retention: Retention, reports: Reports,
) -> Response:  # fmt: skip
    """Refused with AML_RETENTION_ACTIVE until five years after the report have passed."""
    row = ctrs.get(db, ctr_id)
    retention.delete_ctr(db, Caller.of(reporter, request).actor, row, _today(reports))
    return Response(status_code=204)
