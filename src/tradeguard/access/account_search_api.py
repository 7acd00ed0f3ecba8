"""The staff account search: ``GET /v1/staff/accounts?email=...|username=...|account_id=...``.

Needs ``staff:accounts:search``, which compliance officers and support agents hold at every
access level. Exactly one key, matched exactly; the answer lists the customer found (or
none), masked as the support view shows them, with their brokerage account. Every search
is audited (``support.user.searched``). See ``docs/staff-account-search.md``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from tradeguard.access.account_search import AccountSearch
from tradeguard.access.caller import Caller
from tradeguard.access.schemas import AccountSearchParams, AccountSearchResult, search_result
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

router = APIRouter(tags=["access"])
Searcher = Annotated[Principal, require(Permission.STAFF_ACCOUNTS_SEARCH)]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "Refused (problem+json, ACCESS_DENIED)"},
    422: {"description": "Not exactly one well-formed key (problem+json, VALIDATION_FAILED)"},
}

SearchDep = Annotated[AccountSearch, provided(AccountSearch)]


@router.get(
    "/v1/staff/accounts",
    summary="Find a customer by email, username or account id",
    responses=PROBLEMS,
)
def search_accounts(
    params: Annotated[AccountSearchParams, Query()],
    principal: Searcher,
    request: Request,
    db: DbSession,
    search: SearchDep,
) -> AccountSearchResult:
    """The customer with exactly this key, masked (an empty list when none); audited."""
    query = params.query()
    return search_result(query, search.search(db, Caller.of(principal, request), query))
