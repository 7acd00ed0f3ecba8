"""Routing records, execution quality and the 606 disclosure over HTTP, for compliance."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from tradeguard.config import Settings
from tradeguard.core.clock import Clock, datetime_to_ns
from tradeguard.core.money import Price
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.routing.disclosure import net_payment
from tradeguard.routing.models import RoutingDecisionRow, VenueFillRow
from tradeguard.routing.quality import VenueQuality, execution_quality
from tradeguard.routing.reports_api import quarterly_order_routing
from tradeguard.trading.orders.problems import order_not_found
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

router = APIRouter(tags=["Order routing"])
Reviewer = Annotated[Principal, require(Permission.COMPLIANCE_REPORT)]
SettingsDep = Annotated[Settings, provided(Settings)]
ClockDep = Annotated[Clock, provided(Clock)]
XML = "application/xml"
DECEMBER = 12
PRICE_SCALE = Decimal(10_000)
CENTS = Decimal("0.01")
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token or signature (problem+json, AUTH_*, APIKEY_*)"},
    403: {"description": "Refused (ACCESS_DENIED, APIKEY_SCOPE)"},
    422: {"description": "Invalid request (VALIDATION_FAILED)"},
}


class VenueFillView(BaseModel):
    """One execution a venue reported."""

    exec_id: str
    quantity: int
    price: str
    executed_at_ns: int


class RoutingDecisionView(BaseModel):
    """Where an order went, the NBBO then, why, and the venue's terms."""

    order_id: str
    account_id: str
    symbol: str
    side: str
    order_type: str
    quantity: int
    venue: str
    reasons: list[str]
    nbbo_bid: str | None
    nbbo_ask: str | None
    sent_limit: str | None
    order_kind: str | None = Field(
        description="The Rule 606 order type on receipt: market, marketable_limit, "
        "non_marketable_limit or other (null for orders routed before it was recorded)"
    )
    pfof_per_share: str
    access_fee_per_share: str
    rebate_per_share: str
    net_payment: str = Field(
        description="Payment for order flow and rebates received less access fees paid on "
        "the shares executed at the venue, in dollars (negative: paid)"
    )
    status: str
    venue_text: str | None
    routed_at_ns: int
    acknowledged_at_ns: int | None
    done_at_ns: int | None
    fills: list[VenueFillView]


@router.get(
    "/v1/compliance/routing/orders/{order_id}",
    summary="An order's routing decision and the executions its venue reported",
    responses={**ERRORS, 404: {"description": "No such routed order (ORDER_NOT_FOUND)"}},
)
def routing_decision(principal: Reviewer, db: DbSession, order_id: str) -> RoutingDecisionView:  # noqa: ARG001 - the permission is the point
    """Venue, time, NBBO at routing and the reasons of one order's route."""
    row = db.get(RoutingDecisionRow, order_id)
    if row is None:
        raise order_not_found()
    return _view(db, row)


@router.get(
    "/v1/compliance/routing/decisions",
    summary="Recent routing decisions, newest first",
    responses=ERRORS,
)
def routing_decisions(
    principal: Reviewer,  # noqa: ARG001 - the permission is the point
    db: DbSession,
    venue: Annotated[str | None, Query(max_length=16)] = None,
    symbol: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[RoutingDecisionView]:
    """Routing decisions filtered by venue and/or symbol."""
    query = select(RoutingDecisionRow)
    if venue is not None:
        query = query.where(RoutingDecisionRow.venue == venue)
    if symbol is not None:
        query = query.where(RoutingDecisionRow.symbol == symbol)
    rows = db.scalars(query.order_by(RoutingDecisionRow.routed_at_ns.desc()).limit(limit))
    return [_view(db, row) for row in rows]


@router.get(
    "/v1/compliance/routing/quality",
    summary="Execution quality per venue over a month",
    responses=ERRORS,
)
def routing_quality(
    principal: Reviewer,  # noqa: ARG001 - the permission is the point
    db: DbSession,
    year: Annotated[int, Query(ge=2000, le=9999)],
    month: Annotated[int, Query(ge=1, le=12)],
) -> list[VenueQuality]:
    """Price improvement, spreads, fill rate, speed and payments per venue."""
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // DECEMBER, month % DECEMBER + 1, 1, tzinfo=UTC)
    return execution_quality(db, datetime_to_ns(start), datetime_to_ns(end))


@router.get(
    "/v1/compliance/routing/rule606",
    summary="The quarterly Rule 606(a)(1) report with routed venues and payments received",
    response_class=Response,
    responses={200: {"content": {XML: {}}, "description": "SEC schema oh-20191231.xsd"}, **ERRORS},
)
def rule606_with_payments(
    principal: Reviewer,
    db: DbSession,
    settings: SettingsDep,
    clock: ClockDep,
    year: Annotated[int, Query(ge=2000, le=9999)],
    quarter: Annotated[int, Query(ge=1, le=4)],
) -> Response:
    """The report of ``GET /v1/compliance/reports/order-routing``, under routing's paths."""
    return quarterly_order_routing(principal, db, settings, clock, year, quarter)


def _view(db: DbSession, row: RoutingDecisionRow) -> RoutingDecisionView:
    query = select(VenueFillRow).where(VenueFillRow.order_id == row.order_id)
    fills = db.scalars(query.order_by(VenueFillRow.executed_at_ns)).all()
    return RoutingDecisionView(
        order_id=row.order_id,
        account_id=row.account_id,
        symbol=row.symbol,
        side=row.side,
        order_type=row.order_type,
        quantity=row.quantity,
        venue=row.venue,
        reasons=row.reasons.split(",") if row.reasons else [],
        nbbo_bid=_price(row.nbbo_bid),
        nbbo_ask=_price(row.nbbo_ask),
        sent_limit=_price(row.sent_limit),
        order_kind=row.order_kind,
        pfof_per_share=str(Price(row.pfof).to_decimal()),
        access_fee_per_share=str(Price(row.access_fee).to_decimal()),
        rebate_per_share=str(Price(row.rebate or 0).to_decimal()),
        net_payment=_dollars(net_payment(row, fills)),
        status=row.status,
        venue_text=row.venue_text,
        routed_at_ns=row.routed_at_ns,
        acknowledged_at_ns=row.acked_at_ns,
        done_at_ns=row.done_at_ns,
        fills=[
            VenueFillView(
                exec_id=fill.exec_id,
                quantity=fill.quantity,
                price=str(Price(fill.price)),
                executed_at_ns=fill.executed_at_ns,
            )
            for fill in fills
        ],
    )


def _dollars(units: int) -> str:
    return str((Decimal(units) / PRICE_SCALE).quantize(CENTS, ROUND_HALF_UP))


def _price(units: int | None) -> str | None:
    return None if units is None else str(Price(units))
