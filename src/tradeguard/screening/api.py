"""Staff screening routes: screen a name, see the loaded list versions.

Both need ``compliance:screening``. Screening answers the same decision onboarding and
rescreening use; with no list loaded it answers ``503 SCREENING_NO_LIST_LOADED``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request

from tradeguard.access.caller import Caller
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.screening.schemas import ListVersionView, ScreeningResultView, ScreenRequest
from tradeguard.screening.service import SanctionsScreening
from tradeguard.screening.staff_screening import screen_audited
from tradeguard.services import ServicesDep
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

Screener = Annotated[Principal, require(Permission.COMPLIANCE_SCREENING)]
Screening = Annotated[SanctionsScreening, provided(SanctionsScreening)]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "The permission is missing (ACCESS_DENIED, APIKEY_SCOPE)"},
    422: {"description": "Invalid request (VALIDATION_FAILED)"},
    503: {"description": "No sanctions list is loaded (SCREENING_NO_LIST_LOADED)"},
}

router = APIRouter(prefix="/v1/screening", tags=["Sanctions screening"], responses=PROBLEMS)


@router.post("/screen", summary="Screen a name against the sanctions lists")
def screen_name(
    body: ScreenRequest, principal: Screener, request: Request, db: DbSession,
    screening: Screening, services: ServicesDep,
) -> ScreeningResultView:  # fmt: skip
    """The screening decision for a name, with its date of birth and country when known.

    Audited as ``screening.screened`` with the name as a keyed digest, never in clear.
    """
    actor = Caller.of(principal, request).actor
    decision = screen_audited(
        db, screening, services.audit, services.crypto.keyring, actor=actor, subject=body.subject()
    )
    return ScreeningResultView.of(decision)


@router.get("/lists", summary="Loaded sanctions list versions")
def list_versions(_principal: Screener, screening: Screening) -> list[ListVersionView]:
    """The current version of every loaded list, with its file hashes and counts."""
    return [ListVersionView.of(row) for row in screening.versions()]
