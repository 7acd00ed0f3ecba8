"""Routes of order entry and the account's own views: orders, positions, the account.

Every route checks its permission at the gateway (``require``); the desk then checks
ownership (another account's order answers 404) and runs the pre-trade checks. Requests
signed with a ``trading`` API key reach the order routes; a ``data`` key only the reads.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from tradeguard.access.caller import Caller
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.fraud.context import OrderFacts
from tradeguard.fraud.decisions import Outcome
from tradeguard.fraud.guard import FraudGuard
from tradeguard.fraud.hooks import score_order, screen_order, settle_order
from tradeguard.trading.desk_port import DeskPort
from tradeguard.trading.orders.account_reads import (
    AccountReads,
    OrderFilter,
    OrderState,
)
from tradeguard.trading.orders.desk import OrderAsk
from tradeguard.trading.orders.schemas import (
    AccountView,
    ExecutionView,
    ModifyOrderRequest,
    OrderView,
    PlaceOrderRequest,
    PositionView,
    Symbol,
)
from tradeguard.trading.orders.views import execution_view, order_view, position_view
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

router = APIRouter(tags=["Trading"])
Placer = Annotated[Principal, require(Permission.ORDER_PLACE)]
Modifier = Annotated[Principal, require(Permission.ORDER_MODIFY)]
Canceller = Annotated[Principal, require(Permission.ORDER_CANCEL)]
Viewer = Annotated[Principal, require(Permission.ACCOUNT_VIEW)]
MAX_PAGE = 500
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token or signature (problem+json, AUTH_*, APIKEY_*)"},
    403: {"description": "Refused (ACCESS_DENIED, APIKEY_SCOPE, TRADING_NO_ACCOUNT)"},
    404: {"description": "No such order of the caller's (ORDER_NOT_FOUND)"},
    409: {"description": "ORDER_NOT_OPEN, ORDER_CLIENT_ID_REUSED, ORDER_NOT_MODIFIABLE"},
    422: {"description": "Invalid request (VALIDATION_FAILED) or a pre-trade denial (RISK_*)"},
    503: {"description": "The request could not be recorded; retry (TRADING_UNAVAILABLE)"},
}


DeskDep = Annotated[DeskPort, provided(DeskPort)]
ReadsDep = Annotated[AccountReads, provided(AccountReads)]
FraudDep = Annotated[FraudGuard, provided(FraudGuard)]


@router.post(
    "/v1/orders",
    status_code=status.HTTP_201_CREATED,
    summary="Place an order",
    responses={
        200: {"model": OrderView, "description": "A retry: the order first placed with this id"},
        **PROBLEMS,
    },
)
async def place_order(
    body: PlaceOrderRequest,
    principal: Placer,
    request: Request,
    response: Response,
    desk: DeskDep,
    fraud: FraudDep,
) -> OrderView:
    """Check the order against every pre-trade control, then match it.

    A denial is `422` with the check's `reason_code`, `inputs` and `threshold`. Sending
    the same `client_order_id` again returns the original order (`200`), never a second one.
    """
    ask = OrderAsk(
        client_order_id=body.client_order_id,
        symbol=body.symbol,
        side=body.side,
        type=body.type,
        time_in_force=body.effective_time_in_force,
        quantity=body.quantity,
        limit_price=None if body.limit_price is None else body.limit_price.units,
    )
    if fraud.enabled:
        await _screen(fraud, desk, principal, request, ask)
    placed = await desk.place_async(Caller.of(principal, request), ask)
    if not placed.created:
        response.status_code = status.HTTP_200_OK
    return order_view(placed.order)


async def _screen(
    fraud: FraudGuard, desk: DeskPort, principal: Principal, request: Request, ask: OrderAsk
) -> None:
    """Score a new order before the desk sees it; 403 on a step-up or a block.

    On the event loop when the decision needs nothing but memory (a limit order, the
    models loaded, no Redis); else, and to record a decision other than allow, on a thread.
    """
    if ask.limit_price is None or not fraud.decides_in_memory:
        await run_in_threadpool(_screen_waiting, fraud, desk, principal, request, ask)
        return
    score = score_order(fraud, principal, request, _facts(ask, ask.limit_price))
    if score.decision.outcome is not Outcome.ALLOW:  # recorded in a transaction: a thread
        await run_in_threadpool(settle_order, fraud, principal, score)


def _screen_waiting(
    fraud: FraudGuard, desk: DeskPort, principal: Principal, request: Request, ask: OrderAsk
) -> None:
    price = ask.limit_price
    if price is None:  # a market order is valued at its reference price
        price = desk.market_prices([ask.symbol]).get(ask.symbol)
    screen_order(fraud, principal, request, _facts(ask, price))


def _facts(ask: OrderAsk, price: int | None) -> OrderFacts:
    return OrderFacts(ask.symbol, ask.side.value.startswith("sell"), ask.quantity, price)


@router.get("/v1/orders", summary="List your orders", responses=PROBLEMS)
def list_orders(
    principal: Viewer,
    request: Request,
    db: DbSession,
    reads: ReadsDep,
    state: OrderState = "all",
    symbol: Annotated[Symbol | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    before: Annotated[UUID | None, Query(description="An order id: list older orders")] = None,
) -> list[OrderView]:
    """The caller's orders, newest first; page with `before` (the last id seen)."""
    wanted = OrderFilter(state, symbol, None if before is None else str(before), limit)
    return [order_view(row) for row in reads.orders(db, Caller.of(principal, request), wanted)]


@router.get("/v1/orders/{order_id}", summary="One of your orders", responses=PROBLEMS)
def get_order(
    order_id: str, principal: Viewer, request: Request, db: DbSession, desk: DeskDep
) -> OrderView:
    """The order as it stands now."""
    return order_view(desk.own_order(db, Caller.of(principal, request), order_id))


@router.get(
    "/v1/orders/{order_id}/executions", summary="Fills of one of your orders", responses=PROBLEMS
)
def order_executions(
    order_id: str, principal: Viewer, request: Request, db: DbSession, reads: ReadsDep
) -> list[ExecutionView]:
    """Every fill of the order, oldest first."""
    fills = reads.executions(db, Caller.of(principal, request), order_id)
    return [execution_view(fill) for fill in fills]


@router.patch("/v1/orders/{order_id}", summary="Modify an open order", responses=PROBLEMS)
def modify_order(
    order_id: str, body: ModifyOrderRequest, principal: Modifier, request: Request, desk: DeskDep
) -> OrderView:
    """A new limit price and/or total quantity, checked like a new order.

    Lowering the quantity at the same price keeps the order's time priority; any other
    change puts it at the back of its price level.
    """
    price = None if body.limit_price is None else body.limit_price.units
    row = desk.modify(Caller.of(principal, request), order_id, price, body.quantity)
    return order_view(row)


@router.delete("/v1/orders/{order_id}", summary="Cancel an open order", responses=PROBLEMS)
def cancel_order(order_id: str, principal: Canceller, request: Request, desk: DeskDep) -> OrderView:
    """Cancels are always accepted, also while trading is halted."""
    return order_view(desk.cancel(Caller.of(principal, request), order_id))


@router.delete("/v1/orders", summary="Cancel all your open orders", responses=PROBLEMS)
def cancel_all_orders(principal: Canceller, request: Request, desk: DeskDep) -> list[OrderView]:
    """Every open order of the caller's account, cancelled."""
    return [order_view(row) for row in desk.cancel_all(Caller.of(principal, request))]


@router.get("/v1/positions", summary="Your positions", responses=PROBLEMS)
def list_positions(
    principal: Viewer, request: Request, db: DbSession, reads: ReadsDep
) -> list[PositionView]:
    """Every symbol the account holds or is short, by symbol."""
    rows = reads.positions(db, Caller.of(principal, request))
    prices = reads.market_prices([row.symbol for row in rows])
    return [position_view(row, prices.get(row.symbol)) for row in rows]


@router.get("/v1/account", summary="Your brokerage account", responses=PROBLEMS)
def get_account(principal: Viewer, request: Request, db: DbSession, desk: DeskDep) -> AccountView:
    """Standing, trading state, cash, reserved cash, equity and recent day trades."""
    return desk.account_view(db, Caller.of(principal, request))
