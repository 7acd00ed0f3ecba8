"""Routes of the alert queue and the case workflow; all need ``compliance:audit``.

Reading a case is itself audited (``case.viewed``): it is staff access to evidence.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request

from tradeguard.access.caller import Caller
from tradeguard.cases.models import AlertRow
from tradeguard.cases.presentation import presentation_view
from tradeguard.cases.problems import CaseReason
from tradeguard.cases.referral import build_referral
from tradeguard.cases.schemas import (
    AlertView,
    AssignRequest,
    AttachRequest,
    CaseDetail,
    CaseView,
    CommentRequest,
    DecisionRequest,
    NoteView,
    OpenCaseRequest,
    alert_view,
    case_view,
    history_view,
    note_view,
)
from tradeguard.cases.service import AlertFilter, Cases, Decision, alert_queue
from tradeguard.cases.store import CONFIDENTIAL_SOURCES, AlertStore, alerts_by_id
from tradeguard.core.errors import NOT_FOUND, ProblemError
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

Officer = Annotated[Principal, require(Permission.COMPLIANCE_AUDIT)]
Reporter = Annotated[Principal, require(Permission.COMPLIANCE_REPORT)]
CasesDep = Annotated[Cases, provided(Cases)]
StoreDep = Annotated[AlertStore, provided(AlertStore)]
Name = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9_.]+$")]
ObjectPath = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {
        "description": "compliance:audit is missing, or the escalating reviewer decides "
        "(ACCESS_DENIED, APIKEY_SCOPE, SECOND_REVIEW_REQUIRED)"
    },
    404: {"description": "No such case or alert (CASE_NOT_FOUND, ALERT_NOT_FOUND)"},
    409: {
        "description": "The alert is in a case, or the case is closed (ALERT_TAKEN, CASE_CLOSED)"
    },
    422: {"description": "Invalid request (VALIDATION_FAILED, ALERT_NOT_FOUND)"},
}
router = APIRouter(prefix="/v1/compliance", tags=["Alerts and cases"], responses=PROBLEMS)


@router.get("/alerts", summary="The alert queue")
def list_alerts(
    officer: Officer,
    db: DbSession,
    status: Literal["open", "in_case", "closed"] = "open",
    source: Name = None,
    typology: Name = None,
    symbol: Annotated[str | None, Query(max_length=16, pattern=r"^[A-Z0-9.\-]+$")] = None,
    min_score: Annotated[float, Query(ge=0, le=1)] = 0.0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AlertView]:
    """Alerts of every source (surveillance, AML, sanctions, fraud, access), best score first."""
    hidden = hidden_sources(officer)
    wanted = AlertFilter(status, source, typology, symbol, min_score, limit, hidden)
    return [alert_view(row) for row in alert_queue(db, wanted)]


def hidden_sources(reader: Principal) -> tuple[str, ...]:
    """Alert sources ``reader`` may not see: a SAR's alerts without ``aml:sar``."""
    return () if Permission.AML_SAR.value in reader.permissions else tuple(CONFIDENTIAL_SOURCES)


@router.get("/alerts/{alert_id}", summary="One alert with its evidence")
def get_alert(alert_id: ObjectPath, officer: Officer, db: DbSession, store: StoreDep) -> AlertView:
    """The alert, its rule, parameters and evidence, and the evidence as a reviewer reads it."""
    found = [a for a in alerts_by_id(db, [alert_id]) if a.source not in hidden_sources(officer)]
    if not found:
        raise ProblemError(NOT_FOUND, CaseReason.ALERT_NOT_FOUND, "no such alert")
    return presented(store, found[0])


def presented(store: AlertStore, row: AlertRow) -> AlertView:
    """The alert with its presentation."""
    return alert_view(row, presentation_view(store.present(row)))


@router.post("/cases", summary="Open a case from alerts", status_code=201)
def open_case(
    body: OpenCaseRequest, officer: Officer, request: Request, db: DbSession, cases: CasesDep
) -> CaseView:
    """A case holding the given open alerts."""
    actor, hidden = Caller.of(officer, request).actor, hidden_sources(officer)
    case = cases.open_case(db, actor, body.alert_ids, body.title, hidden)
    return case_view(case, cases.clock.now_ns())


@router.get("/cases", summary="The case queue")
def list_cases(
    _officer: Officer,
    db: DbSession,
    cases: CasesDep,
    status: Literal["open", "escalated", "closed"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseView]:
    """Cases in one status, nearest deadline first."""
    now = cases.clock.now_ns()
    return [case_view(row, now) for row in cases.queue(db, [status], limit)]


@router.get("/cases/{case_id}", summary="A case: alerts, notes, history")
def get_case(
    case_id: ObjectPath,
    officer: Officer,
    request: Request,
    db: DbSession,
    cases: CasesDep,
    store: StoreDep,
) -> CaseDetail:
    """The case with its evidence; the read is audited."""
    case = cases.viewed(db, Caller.of(officer, request).actor, case_id)
    return CaseDetail(
        case=case_view(case, cases.clock.now_ns()),
        alerts=[
            presented(store, row)
            for row in cases.alerts(db, case_id)
            if row.source not in hidden_sources(officer)
        ],
        notes=[note_view(row) for row in cases.notes(db, case_id)],
        history=history_view(cases.history(db, case_id)),
    )


@router.post("/cases/{case_id}/assign", summary="Assign a case")
def assign(
    case_id: ObjectPath,
    body: AssignRequest,
    officer: Officer,
    request: Request,
    db: DbSession,
    cases: CasesDep,
) -> CaseView:
    """Give the case to a staff member, or to nobody."""
    case = cases.assign(db, Caller.of(officer, request).actor, case_id, body.assignee)
    return case_view(case, cases.clock.now_ns())


@router.post("/cases/{case_id}/comments", summary="Comment on a case", status_code=201)
def comment(
    case_id: ObjectPath,
    body: CommentRequest,
    officer: Officer,
    request: Request,
    db: DbSession,
    cases: CasesDep,
) -> NoteView:
    """Add a note to the case."""
    return note_view(cases.comment(db, Caller.of(officer, request).actor, case_id, body.body))


@router.post("/cases/{case_id}/alerts", summary="Attach alerts to a case")
def attach(
    case_id: ObjectPath,
    body: AttachRequest,
    officer: Officer,
    request: Request,
    db: DbSession,
    cases: CasesDep,
) -> CaseView:
    """Add open alerts to the case."""
    actor, hidden = Caller.of(officer, request).actor, hidden_sources(officer)
    case = cases.attach(db, actor, case_id, body.alert_ids, hidden)
    return case_view(case, cases.clock.now_ns())


@router.post("/cases/{case_id}/decision", summary="Decide a case")
def decide(
    case_id: ObjectPath,
    body: DecisionRequest,
    officer: Officer,
    request: Request,
    db: DbSession,
    cases: CasesDep,
) -> CaseView:
    """False positive (closes), escalate (second review) or report (closes as reported).

    An escalated case is decided by a reviewer other than the one who escalated it.
    """
    actor = Caller.of(officer, request).actor
    case = cases.decide(db, actor, case_id, Decision(body.decision), body.reason)
    return case_view(case, cases.clock.now_ns())


@router.post("/cases/{case_id}/referral", summary="A signed regulator referral package")
def referral(
    case_id: ObjectPath, reporter: Reporter, request: Request, db: DbSession, cases: CasesDep
) -> dict[str, str]:
    """The case with its alerts, evidence and supporting audit events, proved and signed.

    Signed with the audit key; `compliance:report`; escalated or reported cases only.
    """
    actor = Caller.of(reporter, request).actor
    return build_referral(db, cases.audit, cases, case_id, actor)
