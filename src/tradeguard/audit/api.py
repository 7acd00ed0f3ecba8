"""Audit API: search and retrieve events for compliance staff (JSON or CSV).

Every route needs ``compliance:audit``. Each access is itself recorded in the audit
trail, in the same transaction as the read (``audit.reading``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from tradeguard.audit.reading import Reader, event_recorded, search_recorded
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.audit.schemas import AuditEventOut, AuditEventsPage, EventFilters
from tradeguard.audit.search import (
    MAX_INT64,
    AuditEvent,
    AuditQuery,
    events_csv,
)
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

PERMISSION = Permission.COMPLIANCE_AUDIT.value
SAR_EVENTS = "aml.sar."
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "The caller lacks compliance:audit (problem+json, ACCESS_DENIED)"},
    422: {"description": "Invalid query (problem+json, VALIDATION_FAILED)"},
}

Auditor = Annotated[Principal, require(Permission.COMPLIANCE_AUDIT)]
AuditTrailDep = Annotated[AuditTrail, provided(AuditTrail)]
router = APIRouter(tags=["audit"])


@router.get(
    "/v1/audit/events",
    summary="Search audit events by time, type, actor, subject or request (JSON or CSV)",
    response_model=AuditEventsPage,
    responses={200: {"content": {"text/csv": {}}}, **PROBLEMS},
    openapi_extra={"x-permission": PERMISSION},
)
def search_events(
    request: Request,
    auditor: Auditor,
    db: DbSession,
    audit: AuditTrailDep,
    filters: Annotated[EventFilters, Query()],
) -> AuditEventsPage | Response:
    """Search the trail; every returned event is decoded from its signed record."""
    query = _audit_query(filters, _hidden_from(auditor))
    page = search_recorded(db, audit, query, _reader(request, auditor))
    if filters.format == "csv":
        return Response(
            events_csv(page.events),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'},
        )
    return AuditEventsPage(
        events=[_out(event) for event in page.events], next_after_seq=page.next_after_seq
    )


@router.get(
    "/v1/audit/events/{seq}",
    summary="One audit event by sequence number",
    responses={404: {"description": "No such event (problem+json, NOT_FOUND)"}, **PROBLEMS},
    openapi_extra={"x-permission": PERMISSION},
)
def read_event(
    request: Request,
    auditor: Auditor,
    db: DbSession,
    audit: AuditTrailDep,
    seq: Annotated[int, Path(ge=1, le=MAX_INT64)],
) -> AuditEventOut:
    """The event at ``seq``, decoded from its signed record."""
    reader = _reader(request, auditor)
    return _out(event_recorded(db, audit, seq, reader, _hidden_from(auditor)))


def _hidden_from(auditor: Principal) -> tuple[str, ...]:
    """SAR events (their existence is confidential) only for holders of ``aml:sar``."""
    return () if Permission.AML_SAR.value in auditor.permissions else (SAR_EVENTS,)


def _audit_query(filters: EventFilters, hidden: tuple[str, ...]) -> AuditQuery:
    return AuditQuery(
        since_ns=filters.since,
        until_ns=filters.to,
        event_type=filters.event_type,
        actor_id=filters.actor_id,
        subject=filters.subject,
        request_id=filters.request_id,
        after_seq=filters.after_seq,
        limit=filters.limit,
        hidden_prefixes=hidden,
    )


def _reader(request: Request, auditor: Principal) -> Reader:
    host = request.client.host if request.client else None
    actor = Actor("staff", auditor.user_id, ip=host, session_id=auditor.session_id)
    return Reader(actor, getattr(request.state, "request_id", None))


def _out(event: AuditEvent) -> AuditEventOut:
    return AuditEventOut.model_validate(event.to_json())
