"""Compliance pages of AML reporting: SARs, CTRs and the monitors' parameters.

Static HTML from Jinja2 templates (autoescaped), extending identity's base page; their
behaviour is ``/static/web/aml.js``, which calls the JSON API with the signed-in staff
member's session. The pages carry no data: every SAR, CTR and parameter comes from the
API, which checks ``aml:sar``, ``compliance:report`` or ``aml:parameters`` on each call,
so a customer or a staff member without the permission opening a page sees nothing.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tradeguard.web.routing import PUBLIC
from tradeguard.web.templates import page_templates

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])

_templates = page_templates("tradeguard.aml")


def _page(template: str, page: str, title: str) -> HTMLResponse:
    return HTMLResponse(_templates.get_template(template).render(page=page, title=title))


@router.get("/staff/aml/sars")
def sars_page() -> HTMLResponse:
    """SARs by deadline, drafting from a case, review, generation, download, filing."""
    return _page("staff_aml_sars.html", "aml-sars", "Suspicious activity reports")


@router.get("/staff/aml/ctrs")
def ctrs_page() -> HTMLResponse:
    """CTRs of a business day: writing them, their files, recording their filing."""
    return _page("staff_aml_ctrs.html", "aml-ctrs", "Currency transaction reports")


@router.get("/staff/aml/parameters")
def parameters_page() -> HTMLResponse:
    """The monitors' parameters in force, a change with its reason, the changes made."""
    return _page("staff_aml_parameters.html", "aml-parameters", "AML monitor parameters")
