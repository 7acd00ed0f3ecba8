"""Pages of onboarding: the applicant's form and status, and the reviewers' queue.

Static HTML from Jinja2 templates (autoescaped), extending identity's base page; their
behaviour is ``/static/web/kyc.js``, which talks to the JSON API with the signed-in
session, like every other page. No personal data is rendered by the server.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tradeguard.kyc.answers import AGREEMENT_VERSIONS
from tradeguard.kyc.schemas import (
    Band,
    EmploymentStatus,
    Experience,
    Industry,
    Objective,
    SourceOfFunds,
)
from tradeguard.web.routing import PUBLIC
from tradeguard.web.templates import page_templates

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])

_templates = page_templates("tradeguard.kyc")
CHOICES = {
    "employment_statuses": list(EmploymentStatus),
    "industries": list(Industry),
    "bands": list(Band),
    "sources": list(SourceOfFunds),
    "objectives": list(Objective),
    "experiences": list(Experience),
}


@router.get("/onboarding")
def onboarding_page() -> HTMLResponse:
    """Apply for a brokerage account: the form, documents, and where the application stands."""
    page = _templates.get_template("onboarding.html").render(
        page="onboarding",
        title="Open a brokerage account",
        agreements=AGREEMENT_VERSIONS,
        **CHOICES,
    )
    return HTMLResponse(page)


@router.get("/staff/kyc")
def review_page() -> HTMLResponse:
    """The review queue: an application's answers, documents, checks and screening."""
    page = _templates.get_template("staff_kyc.html").render(
        page="staff-kyc", title="Account applications"
    )
    return HTMLResponse(page)
