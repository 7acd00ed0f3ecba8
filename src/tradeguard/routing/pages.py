"""The compliance page of order routing: execution quality per venue and the routing records.

Static HTML from a Jinja2 template (autoescaped) extending identity's base page; its
behaviour is ``/static/web/routing.js``, which reads ``/v1/compliance/routing/*`` with
the signed-in staff member's session. The page holds no data: the API checks
``compliance:report`` on every call, so anyone else opening it sees nothing.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tradeguard.web.routing import PUBLIC
from tradeguard.web.templates import page_templates

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])

_templates = page_templates("tradeguard.routing")


@router.get("/staff/routing")
def routing_page() -> HTMLResponse:
    """Execution quality per venue over a month, and recent routing decisions."""
    template = _templates.get_template("staff_routing.html")
    title = "Order routing and execution quality"
    return HTMLResponse(template.render(page="routing", title=title))
