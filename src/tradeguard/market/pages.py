"""Pages of market data: a trader's quotes and positions at market, and the public 606 report.

The quotes and positions pages are static HTML from Jinja2 templates (autoescaped) that
extend identity's base page; their behaviour is ``/static/web/market.js``, which reads
the JSON API with the signed-in session like every other page. The order-routing page
is public, as Rule 606(a)(1) asks: the quarterly report rendered on the server from its
own XML (aggregates only, no customer's data), for quarters that have ended.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined

from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.db.session import DbSession
from tradeguard.market.rule606 import Quarter
from tradeguard.market.rule606_page import ORDER_TYPES, published_quarters, read_report
from tradeguard.trading.orders.routing_reports import quarterly_report
from tradeguard.web.provide import provided
from tradeguard.web.routing import PUBLIC

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])
SettingsDep = Annotated[Settings, provided(Settings)]
ClockDep = Annotated[Clock, provided(Clock)]
NOT_PUBLISHED = 404

_templates = Environment(
    loader=ChoiceLoader(
        [PackageLoader("tradeguard.market", "templates"), PackageLoader("tradeguard.identity")]
    ),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _page(template: str, **context: Any) -> HTMLResponse:  # noqa: ANN401 - template values
    return HTMLResponse(_templates.get_template(template).render(**context))


@router.get("/quotes")
def quotes_page() -> HTMLResponse:
    """The national best bid and offer of each listed symbol, kept up to date."""
    return _page("quotes.html", page="quotes", title="Quotes")


@router.get("/positions")
def positions_page() -> HTMLResponse:
    """The account's equity at market and each position's value and unrealised P&L."""
    return _page("positions.html", page="positions", title="Positions at market")


@router.get("/disclosures/order-routing")
def order_routing_page(
    db: DbSession,
    settings: SettingsDep,
    clock: ClockDep,
    year: Annotated[int | None, Query(ge=2000, le=9999)] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4)] = None,
) -> HTMLResponse:
    """The quarterly Rule 606(a)(1) held-order routing report of a quarter that has ended."""
    now = clock.now_ns()
    quarters = published_quarters(now)
    chosen = quarters[0] if year is None and quarter is None else Quarter(year or 0, quarter or 0)
    context: dict[str, Any] = {"page": "order-routing", "quarters": quarters, "chosen": chosen}
    if chosen not in quarters:
        title = "Order routing report not published"
        page = _page("order_routing.html", title=title, report=None, **context)
        page.status_code = NOT_PUBLISHED
        return page
    report = read_report(quarterly_report(db, settings.market_broker_name, chosen, now))
    title = f"Order routing report, Q{chosen.number} {chosen.year}"
    return _page(
        "order_routing.html", title=title, report=report, order_types=ORDER_TYPES, **context
    )
