"""The fraud review page for staff: the fraud alerts, a decision's why, recovery.

Static HTML from a Jinja2 template (autoescaped) extending identity's base page; its
behaviour is ``/static/web/fraud.js``, which reads the shared alert queue and the fraud
routes with the signed-in session; the routes check the permissions.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined

from tradeguard.web.routing import PUBLIC

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])

_templates = Environment(
    loader=ChoiceLoader(
        [PackageLoader("tradeguard.fraud", "templates"), PackageLoader("tradeguard.identity")]
    ),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@router.get("/staff/fraud")
def fraud_review_page() -> HTMLResponse:
    """The fraud alerts, one decision's score and reasons, the customer's activity."""
    page = _templates.get_template("staff_fraud.html").render(
        page="staff-fraud", title="Fraud review"
    )
    return HTMLResponse(page)
