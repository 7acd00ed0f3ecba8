"""Audit API: search and retrieve events for compliance staff (JSON or CSV).

Until role-based permissions exist, a configured bearer token (``audit_api_token``)
guards every route; with none configured the API is closed. Each access is itself
recorded in the audit trail, in the same transaction as the read.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from tradeguard.access.guard import require
from tradeguard.access.permissions import Permission
from tradeguard.audit.records import Actor
from tradeguard.audit.search import (
    DEFAULT_LIMIT,
    MAX_INT64,
    ActorIdFilter,
    AuditEvent,
    AuditQuery,
    EventTypeFilter,
    NonNegativeInt64,
    PageLimit,
    RequestIdFilter,
    Rfc3339Ns,
    SubjectFilter,
    events_csv,
    get_event,
    search,
)
from tradeguard.core.errors import NOT_FOUND, ProblemError, ReasonCode
from tradeguard.db.session import transaction
from tradeguard.identity.principal import Principal
from tradeguard.services import Services, ServicesDep

PERMISSION = Permission.COMPLIANCE_AUDIT.value
EVENT_SEARCHED = "audit.events.searched"
EVENT_READ = "audit.event.read"
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "The caller lacks compliance:audit (problem+json, ACCESS_DENIED)"},
    422: {"description": "Invalid query (problem+json, VALIDATION_FAILED)"},
}

Auditor = Annotated[Principal, require(Permission.COMPLIANCE_AUDIT)]
TimeFilter = Annotated[Rfc3339Ns, Field(ge=0, le=MAX_INT64)]
router = APIRouter(tags=["audit"])


class EventFilters(BaseModel):
    """Query parameters of the search; unknown parameters are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    since: TimeFilter | None = Field(default=None, alias="from", description="RFC 3339, inclusive")
    to: TimeFilter | None = Field(default=None, description="RFC 3339, exclusive")
    event_type: EventTypeFilter | None = Field(
        default=None, description="Exact type, or a prefix like key.*"
    )
    actor_id: ActorIdFilter | None = None
    subject: SubjectFilter | None = None
    request_id: RequestIdFilter | None = None
    after_seq: NonNegativeInt64 = Field(default=0, description="Cursor from the last page")
    limit: PageLimit = DEFAULT_LIMIT
    format: Literal["json", "csv"] = "json"


class ActorOut(BaseModel):
    """Who acted, as the signed record states it."""

    kind: str
    id: str
    ip: str | None
    session_id: str | None
    device_id: str | None


class AuditEventOut(BaseModel):
    """One audit event; ``personal`` is ciphertext under the subject's key, never decrypted."""

    seq: int
    event_id: str
    ts: str = Field(description="RFC 3339 UTC with nanoseconds")
    ts_ns: int
    type: str
    actor: ActorOut
    subject: str | None
    request_id: str | None
    data: dict[str, Any]
    personal: dict[str, Any] | None


class AuditEventsPage(BaseModel):
    """A page of events in sequence order; pass ``next_after_seq`` as ``after_seq`` for more."""

    events: list[AuditEventOut]
    next_after_seq: int | None


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
    services: ServicesDep,
    filters: Annotated[EventFilters, Query()],
) -> AuditEventsPage | Response:
    """Search the trail; every returned event is decoded from its signed record."""
    query = _audit_query(filters)
    with transaction(services.sessions) as session:
        page = search(session, query)
        accessed = {**query.model_dump(exclude_none=True), "returned": len(page.events)}
        _record_access(services, session, request, auditor, EVENT_SEARCHED, accessed)
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
    services: ServicesDep,
    seq: Annotated[int, Path(ge=1, le=MAX_INT64)],
) -> AuditEventOut:
    """The event at ``seq``, decoded from its signed record."""
    with transaction(services.sessions) as session:
        event = get_event(session, seq)
        _record_access(
            services, session, request, auditor, EVENT_READ, {"seq": seq, "found": bool(event)}
        )
    if event is None:
        raise ProblemError(NOT_FOUND, ReasonCode.NOT_FOUND, f"No audit event has seq {seq}.")
    return _out(event)


def _audit_query(filters: EventFilters) -> AuditQuery:
    return AuditQuery(
        since_ns=filters.since,
        until_ns=filters.to,
        event_type=filters.event_type,
        actor_id=filters.actor_id,
        subject=filters.subject,
        request_id=filters.request_id,
        after_seq=filters.after_seq,
        limit=filters.limit,
    )


def _record_access(
    services: Services,
    session: Session,
    request: Request,
    auditor: Principal,
    event_type: str,
    data: dict[str, Any],
) -> None:
    """Staff data access is audited like any other: who read what, in the reading transaction."""
    host = request.client.host if request.client else None
    actor = Actor("staff", auditor.user_id, ip=host, session_id=auditor.session_id)
    request_id = getattr(request.state, "request_id", None)
    services.audit.record(session, event_type, actor, None, data, request_id=request_id)


def _out(event: AuditEvent) -> AuditEventOut:
    return AuditEventOut.model_validate(event.to_json())
