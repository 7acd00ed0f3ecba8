"""Pages of market data: a trader's quotes and positions at market, and the public 606 report.

The quotes and positions pages are static HTML from Jinja2 templates (autoescaped) that
extend identity's base page; their behaviour is ``/static/web/market.js``, which reads
the JSON API with the signed-in session like every other page. The order-routing page
is public, as Rule 606(a)(1) asks: the quarterly report rendered on the server from its
own XML (aggregates only, no customer's data), for quarters that have ended; its route
is beside the reports' API (``routing.reports_api``), which reads the routing records.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tradeguard.market.rule606 import Quarter
from tradeguard.market.rule606_page import ORDER_TYPES, published_quarters, read_report
from tradeguard.web.routing import PUBLIC
from tradeguard.web.templates import page_templates

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])
NOT_PUBLISHED = 404

_templates = page_templates("tradeguard.market")


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


def order_routing_page(now_ns: int, chosen: Quarter | None, report: bytes | None) -> HTMLResponse:
    """The page of ``chosen`` (None: the last quarter that ended) from its report's XML.

    A quarter that has not ended, or one further back than the page offers, is a 404 page
    (``report`` is not read then).
    """
    quarters = published_quarters(now_ns)
    shown = quarters[0] if chosen is None else chosen
    context: dict[str, Any] = {"page": "order-routing", "quarters": quarters, "chosen": shown}
    if report is None or shown not in quarters:
        title = "Order routing report not published"
        page = _page("order_routing.html", title=title, report=None, **context)
        page.status_code = NOT_PUBLISHED
        return page
    title = f"Order routing report, Q{shown.number} {shown.year}"
    return _page(
        "order_routing.html",
        title=title,
        report=read_report(report),
        order_types=ORDER_TYPES,
        **context,
    )


def published(now_ns: int, year: int | None, quarter: int | None) -> Quarter | None:
    """The quarter asked for if its report is published (the last one when none is asked)."""
    quarters = published_quarters(now_ns)
    if year is None and quarter is None:
        return quarters[0]
    asked = Quarter(year or 0, quarter or 0)
    return asked if asked in quarters else None
