"""Routes of staff work: the support view of customers, and the access alerts for compliance.

``GET /v1/support/users/{user_id}`` (``support:users:view``) shows a customer masked;
``POST /v1/support/users/{user_id}/unmask`` (``support:users:unmask``) shows one field in
clear for a stated reason. ``GET /v1/admin/alerts`` and ``POST
/v1/admin/alerts/{alert_id}/acknowledge`` (``compliance:audit``) list and close access
alerts. Unknown customers and alerts answer 404.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from tradeguard.access.alerts import AccessAlerts, AlertQuery, alert_detail
from tradeguard.access.caller import Caller
from tradeguard.access.models import AccessAlert
from tradeguard.access.schemas import CustomerView, customer_view
from tradeguard.access.support import SupportDesk, Unmasked
from tradeguard.access.support_schemas import (
    AcknowledgeRequest,
    AlertFilters,
    AlertsPage,
    AlertView,
    UnmaskedView,
    UnmaskRequest,
)
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

router = APIRouter(tags=["access"])

Agent = Annotated[Principal, require(Permission.SUPPORT_USERS_VIEW)]
Unmasker = Annotated[Principal, require(Permission.SUPPORT_USERS_UNMASK)]
Auditor = Annotated[Principal, require(Permission.COMPLIANCE_AUDIT)]
ObjectId = Annotated[str, Path(min_length=1, max_length=64)]


AlertsDep = Annotated[AccessAlerts, provided(AccessAlerts)]


DeskDep = Annotated[SupportDesk, provided(SupportDesk)]


def staff_caller(request: Request, principal: Principal) -> Caller:
    """The calling staff member as the audit trail names them."""
    return Caller.of(principal, request)


@router.get("/v1/support/users/{user_id}", summary="A customer's record, masked")
def view_customer(
    user_id: ObjectId, principal: Agent, request: Request, db: DbSession, desk: DeskDep
) -> CustomerView:
    """The customer's record with email and phones masked; the look is audited."""
    return customer_view(desk.view(db, staff_caller(request, principal), user_id))


@router.post("/v1/support/users/{user_id}/unmask", summary="See one field of a customer in clear")
def unmask_field(
    user_id: ObjectId,
    body: UnmaskRequest,
    principal: Unmasker,
    request: Request,
    db: DbSession,
    desk: DeskDep,
) -> UnmaskedView:
    """The field in clear; the reason is stored and audited, and the unmasking counted."""
    caller = staff_caller(request, principal)
    unmasked = desk.unmask(
        db, caller, user_id, field=body.field, reason=body.reason, factor_id=body.factor_id
    )
    return _unmasked_view(unmasked)


@router.get("/v1/admin/alerts", summary="Access alerts (mass access, off hours, denials)")
def list_alerts(
    principal: Auditor,  # noqa: ARG001 - the permission check is the dependency
    db: DbSession,
    alerts: AlertsDep,
    filters: Annotated[AlertFilters, Query()],
) -> AlertsPage:
    """Alerts newest first, by kind, person or unacknowledged only."""
    query = AlertQuery(
        kind=filters.kind,
        staff_user_id=filters.staff_user_id,
        unacknowledged=filters.unacknowledged,
        after=None if filters.after is None else str(filters.after),
        limit=filters.limit,
    )
    found = alerts.find(db, query)
    next_after = found[-1].id if len(found) == filters.limit else None
    return AlertsPage(alerts=[_alert_view(alert) for alert in found], next_after=next_after)


@router.post("/v1/admin/alerts/{alert_id}/acknowledge", summary="Acknowledge an access alert")
def acknowledge_alert(
    alert_id: ObjectId,
    principal: Auditor,
    request: Request,
    db: DbSession,
    alerts: AlertsDep,
    body: AcknowledgeRequest | None = None,
) -> AlertView:
    """Mark the alert handled (not one about the caller); audited with the note."""
    actor = staff_caller(request, principal).actor
    note = body.note if body is not None else ""
    return _alert_view(alerts.acknowledge(db, alert_id, actor, note))


def _unmasked_view(unmasked: Unmasked) -> UnmaskedView:
    return UnmaskedView(
        user_id=unmasked.user_id,
        field=unmasked.field,
        value=unmasked.value,
        factor_id=unmasked.factor_id,
        unmasked_today=unmasked.unmasked_today,
    )


def _alert_view(alert: AccessAlert) -> AlertView:
    acknowledged = alert.acknowledged_at_ns
    return AlertView(
        id=alert.id,
        kind=alert.kind,
        staff_user_id=alert.staff_user_id,
        detail=alert_detail(alert),
        raised_at=ns_to_rfc3339(alert.raised_at_ns),
        acknowledged_by=alert.acknowledged_by,
        acknowledged_at=ns_to_rfc3339(acknowledged) if acknowledged is not None else None,
    )
