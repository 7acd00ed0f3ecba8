"""Rule 606 reports over HTTP: a customer's 606(b)(1) and compliance's 606(a)(1), as XML.

Both, and the public page, come from the routing records (``routing.disclosure``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from tradeguard.access.caller import Caller
from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.market.pages import order_routing_page, published
from tradeguard.market.rule606 import Quarter
from tradeguard.routing.disclosure import customer_disclosure, quarterly_disclosure
from tradeguard.routing.install import configured_terms
from tradeguard.trading.desk_port import DeskPort
from tradeguard.web.provide import provided
from tradeguard.web.routing import PUBLIC, require

router = APIRouter(tags=["Reports"])
pages_router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])
Viewer = Annotated[Principal, require(Permission.ACCOUNT_VIEW)]
Reporter = Annotated[Principal, require(Permission.COMPLIANCE_REPORT)]
DeskDep = Annotated[DeskPort, provided(DeskPort)]
SettingsDep = Annotated[Settings, provided(Settings)]
ClockDep = Annotated[Clock, provided(Clock)]
XML = "application/xml"
XML_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {XML: {}}, "description": "The report (SEC schema oh-20191231.xsd)"},
    401: {"description": "No valid access token or signature (problem+json, AUTH_*, APIKEY_*)"},
    403: {"description": "Refused (ACCESS_DENIED, APIKEY_SCOPE, TRADING_NO_ACCOUNT)"},
    422: {"description": "Invalid request (VALIDATION_FAILED)"},
}


@router.get(
    "/v1/reports/order-routing",
    summary="Your Rule 606(b)(1) order-routing report",
    response_class=Response,
    responses=XML_RESPONSE,
)
def my_order_routing(
    principal: Viewer,
    request: Request,
    db: DbSession,
    desk: DeskDep,
    settings: SettingsDep,
    clock: ClockDep,
) -> Response:
    """Where each of your orders of the last six months was routed and when it executed."""
    account_id = desk.account_id(db, Caller.of(principal, request))
    terms = configured_terms(settings)
    report = customer_disclosure(db, settings.market_broker_name, account_id, clock.now_ns(), terms)
    return Response(report, media_type=XML)


@router.get(
    "/v1/compliance/reports/order-routing",
    summary="The quarterly Rule 606(a)(1) held-order routing report",
    response_class=Response,
    responses=XML_RESPONSE,
)
def quarterly_order_routing(
    principal: Reporter,  # noqa: ARG001 - the permission is the point
    db: DbSession,
    settings: SettingsDep,
    clock: ClockDep,
    year: Annotated[int, Query(ge=2000, le=9999)],
    quarter: Annotated[int, Query(ge=1, le=4)],
) -> Response:
    """Per month of the quarter: order types, venues and net payments, as the SEC's XML."""
    report = quarterly_disclosure(
        db,
        settings.market_broker_name,
        Quarter(year, quarter),
        clock.now_ns(),
        configured_terms(settings),
    )
    return Response(report, media_type=XML)


@pages_router.get("/disclosures/order-routing")
def public_order_routing(
    db: DbSession,
    settings: SettingsDep,
    clock: ClockDep,
    year: Annotated[int | None, Query(ge=2000, le=9999)] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
) -> HTMLResponse:
    """The public page of the quarterly 606(a)(1) report, for a quarter that has ended."""
    now = clock.now_ns()
    chosen = published(now, year, quarter)
    if chosen is None:
        return order_routing_page(now, Quarter(year or 0, quarter or 0), None)
    terms = configured_terms(settings)
    report = quarterly_disclosure(db, settings.market_broker_name, chosen, now, terms)
    return order_routing_page(now, chosen, report)
