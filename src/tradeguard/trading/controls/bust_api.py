"""The trade-bust route of the takeover recovery workflow (``fraud:recover``).

It lives with the trading controls because the bust runs in the desk; its path is under
the fraud routes, beside recovery, because staff use it there.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from tradeguard.access.caller import Caller
from tradeguard.core.money import Money
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.trading.controls.busts import COUNTERPARTY, bust_for_customer
from tradeguard.trading.controls.schemas import ReasonRequest
from tradeguard.trading.desk_port import TradingControlsPort
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

Recoverer = Annotated[Principal, require(Permission.FRAUD_RECOVER)]
Controls = Annotated[TradingControlsPort, provided(TradingControlsPort)]
UserPath = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
ExecutionPath = Annotated[str, Path(pattern=r"^[0-9a-zA-Z-]{1,36}$")]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "fraud:recover is missing (ACCESS_DENIED)"},
    404: {"description": "No such execution of this customer (TRADE_NOT_FOUND)"},
    409: {"description": "Busted before, or its shares are gone (TRADE_*)"},
    422: {"description": "Invalid request (VALIDATION_FAILED)"},
}
router = APIRouter(prefix="/v1/fraud", tags=["Fraud"], responses=PROBLEMS)


class BustView(BaseModel):
    """A busted execution: what came back to or left the customer, and the position after."""

    execution_id: str
    account_id: str
    symbol: str
    shares_change: int
    cash_change: str
    position_after: int
    counterparty: str


@router.post(
    "/users/{user_id}/trades/{execution_id}/bust",
    summary="Bust a fraudulent trade of the customer's",
)
def bust_trade(
    user_id: UserPath,
    execution_id: ExecutionPath,
    body: ReasonRequest,
    staff: Recoverer,
    request: Request,
    db: DbSession,
    controls: Controls,
) -> BustView:
    """Reverse one execution on the customer's books; the counterparty keeps its fill."""
    caller = Caller.of(staff, request)
    done = bust_for_customer(db, controls, caller, user_id, (execution_id, body.reason))
    return BustView(
        execution_id=done.execution_id,
        account_id=done.account_id,
        symbol=done.symbol,
        shares_change=done.shares_change,
        cash_change=str(Money(done.cash_change_cents)),
        position_after=done.position_after,
        counterparty=COUNTERPARTY,
    )
