"""The cards page: add a card (sent to the vault, never here) and deposit by card.

Static HTML from a Jinja2 template extending identity's base page; its behaviour is
``/static/web/cards.js``. The card number field has no ``name`` and is never part of a
form this server receives: the script posts it to the vault's intake endpoint only.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tradeguard.web.routing import PUBLIC
from tradeguard.web.templates import page_templates

router = APIRouter(include_in_schema=False, dependencies=[PUBLIC])

_templates = page_templates("tradeguard.cards")


@router.get("/funding/cards")
def cards_page() -> HTMLResponse:
    """Your cards: add one, remove one, deposit by card."""
    page = _templates.get_template("cards.html").render(page="cards", title="Cards and deposits")
    return HTMLResponse(page)
