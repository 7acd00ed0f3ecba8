"""Pages of the compliance console: the alert queue of every source, and the cases.

Static HTML from Jinja2 templates (autoescaped), extending identity's base page; their
behaviour is ``/static/web/cases.js``, which calls the ``/v1/compliance`` API with the
signed-in session like every other page. The pages hold no data: what a reviewer sees is
what the API gives a caller with ``compliance:audit``, and nothing to anyone else.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tradeguard.cases.service import Decision
from tradeguard.web.routing import PUBLIC
from tradeguard.web.templates import page_templates

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])

_templates = page_templates("tradeguard.cases")
ALERT_SOURCES = ("surveillance", "aml", "sanctions", "fraud", "access")
"""Sources offered in the queue's filter; any other source's alerts are listed too."""
ALERT_STATUSES = ("open", "in_case", "closed")
CASE_STATUSES = ("open", "escalated", "closed")
DECISIONS = tuple(decision.value for decision in Decision)
TRADING_STATES = ("REDUCING", "HALTED")


def _page(template: str, page: str, title: str) -> HTMLResponse:
    context = {
        "sources": ALERT_SOURCES,
        "alert_statuses": ALERT_STATUSES,
        "case_statuses": CASE_STATUSES,
        "decisions": DECISIONS,
        "trading_states": TRADING_STATES,
    }
    html = _templates.get_template(template).render(page=page, title=title, **context)
    return HTMLResponse(html)


@router.get("/staff/alerts")
def alerts_page() -> HTMLResponse:
    """The alert queue with its filters, and one alert's evidence; a case is opened from it."""
    return _page("staff_alerts.html", "staff-alerts", "Alerts")


@router.get("/staff/cases")
def cases_page() -> HTMLResponse:
    """The case queue and one case: evidence, notes, history, assignment, decision, actions."""
    return _page("staff_cases.html", "staff-cases", "Cases")
