"""The fraud pages: staff review (alerts, a decision's why, recovery), customers' step-up.

Static HTML from Jinja2 templates (autoescaped) extending identity's base page. The
review page's behaviour is ``/static/web/fraud.js``, which reads the shared alert queue
and the fraud routes with the signed-in session; the routes check the permissions. The
step-up screen (``/account/verify``, where a ``FRAUD_STEP_UP_REQUIRED`` problem points)
is driven by ``auth.js``: it explains the fixed reason code in its address and runs the
same second-factor dialog as the account page. The lock screen is part of the sign-in
page (``auth.js`` shows it when sign-in answers ``FRAUD_BLOCKED``).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tradeguard.web.routing import PUBLIC
from tradeguard.web.templates import page_templates

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])

_templates = page_templates("tradeguard.fraud")


@router.get("/account/verify")
def verify_page() -> HTMLResponse:
    """The customer's step-up screen: why an action was held, then a second factor."""
    page = _templates.get_template("customer_verify.html").render(
        page="fraud-verify", title="Confirm it is you"
    )
    return HTMLResponse(page)


@router.get("/staff/fraud")
def fraud_review_page() -> HTMLResponse:
    """The fraud alerts, one decision's score and reasons, the customer's activity."""
    page = _templates.get_template("staff_fraud.html").render(
        page="staff-fraud", title="Fraud review"
    )
    return HTMLResponse(page)
