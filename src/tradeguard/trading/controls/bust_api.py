"""The trade-bust routes of the takeover recovery workflow.

A reviewer (``fraud:review``) lists the customer's latest trades, each marked busted or
not (the reading audited); a bust needs ``fraud:recover``. They live with the trading
controls because the bust runs in the desk; their paths are under the fraud routes,
beside recovery, because staff use them there (the review page's Bust buttons).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from tradeguard.access.caller import Caller
from tradeguard.audit.recorder import AuditTrail
from tradeguard.core.money import Money, Price
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.fraud.recovery import user_or_404
from tradeguard.trading.controls.busts import (
    COUNTERPARTY,
    CustomerTrade,
    bust_for_customer,
    customer_trades,
)
from tradeguard.trading.controls.schemas import ReasonRequest
from tradeguard.trading.desk_port import TradingControlsPort
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

Reviewer = Annotated[Principal, require(Permission.FRAUD_REVIEW)]
Recoverer = Annotated[Principal, require(Permission.FRAUD_RECOVER)]
AuditDep = Annotated[AuditTrail, provided(AuditTrail)]
Controls = Annotated[TradingControlsPort, provided(TradingControlsPort)]
UserPath = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
ExecutionPath = Annotated[str, Path(pattern=r"^[0-9a-zA-Z-]{1,36}$")]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "fraud:review or fraud:recover is missing (ACCESS_DENIED)"},
    404: {"description": "No such user or execution of theirs (FRAUD_USER_NOT_FOUND, TRADE_*)"},
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


class TradeView(BaseModel):
    """One of the customer's executions: what, when, and whether it was busted."""

    execution_id: str
    symbol: str
    side: str
    quantity: int
    price: str
    executed_at_ns: int
    busted: bool


def trade_view(trade: CustomerTrade) -> TradeView:
    """The view of one of the customer's executions."""
    row = trade.execution
    return TradeView(
        execution_id=row.id,
        symbol=row.symbol,
        side=row.side,
        quantity=row.quantity,
        price=str(Price(row.price)),
        executed_at_ns=row.executed_at_ns,
        busted=trade.busted,
    )


@router.get("/users/{user_id}/trades", summary="A customer's latest trades, for review")
def list_trades(
    user_id: UserPath, staff: Reviewer, request: Request, db: DbSession, audit: AuditDep
) -> list[TradeView]:
    """The latest 100 executions, newest first, each marked busted or not."""
    user_or_404(db, user_id)
    trades = customer_trades(db, user_id)
    actor = Caller.of(staff, request).actor
    audit.record(db, "fraud.trades.viewed", actor, subject=user_id, data={})
    return [trade_view(trade) for trade in trades]


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
