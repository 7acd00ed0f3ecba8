"""Pages of money movement: funding, withdrawals with their history, the staff review queue.

Funding links bank accounts, confirms micro-deposits and deposits by ACH; withdrawals take
a step-up and then the email and SMS codes.

Static HTML from Jinja2 templates (autoescaped) extending identity's base page; their
behaviour is ``/static/web/funding.js`` and ``/static/web/payments_review.js``, which call
the ``/v1/payments`` API with the signed-in session. The pages hold no data: a bank account
number is typed into a form and sent once; what comes back shows only its last four digits.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tradeguard.web.routing import PUBLIC
from tradeguard.web.templates import page_templates

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])

_templates = page_templates("tradeguard.payments", "tradeguard.cases")


def _page(template: str, page: str, title: str) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(template).render(page=page, title=title))


@router.get("/funding")
def funding_page() -> HTMLResponse:
    """Your bank links: add one, confirm its micro-deposits, remove it; deposit by ACH."""
    return _page("funding.html", "funding", "Funding")


@router.get("/funding/withdrawals")
def withdrawals_page() -> HTMLResponse:
    """Withdraw to a verified link (step-up, then the email and SMS codes); money history."""
    return _page("withdrawals.html", "withdrawals", "Withdrawals and history")


@router.get("/staff/payments")
def payments_review_page() -> HTMLResponse:
    """Withdrawals and bank links held for review; approve or reject with a reason."""
    return _page("staff_payments.html", "staff-payments", "Payments review")
