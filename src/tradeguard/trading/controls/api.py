"""Routes of the trading controls: halts, account standing, limits, lists, close-outs, locates.

Halts need ``trading:halt``; account standing, limits, lists and close-outs need
``risk:manage``; locates need ``locate:grant`` (staff permissions no API key carries).
The instrument universe is readable by anyone who may view an account. Every change is
audited and answers with what it changed; it applies to the very next order.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request

from tradeguard.access.caller import Caller
from tradeguard.core.clock import Clock
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.risk.model import TradingState
from tradeguard.trading.controls.schemas import (
    AccountControlView,
    AccountStateRequest,
    CloseoutRequest,
    CloseoutView,
    ControlChangeView,
    FlagsRequest,
    HaltRequest,
    InstrumentView,
    LimitChangeRequest,
    LimitsView,
    LocateRequest,
    LocateView,
    ReasonRequest,
    ResumeRequest,
    StandingRequest,
    TradingStateView,
)
from tradeguard.trading.controls.trading_controls import StateTarget, TradingControls
from tradeguard.trading.controls.views import (
    change_view,
    closeout_view,
    instrument_view,
    limit_view,
    locate_view,
    standing_view,
    state_view,
)
from tradeguard.trading.desk_port import RiskControlsPort, TradingControlsPort
from tradeguard.trading.orders.schemas import Symbol
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

Halter = Annotated[Principal, require(Permission.TRADING_HALT)]
RiskManager = Annotated[Principal, require(Permission.RISK_MANAGE)]
LocateGranter = Annotated[Principal, require(Permission.LOCATE_GRANT)]
Viewer = Annotated[Principal, require(Permission.ACCOUNT_VIEW)]
AccountId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$", description="A brokerage account id")]
SymbolPath = Annotated[str, Path(min_length=1, max_length=16, pattern=r"^[A-Z0-9.\-]+$")]
MAX_PAGE = 1000
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "The permission is missing (ACCESS_DENIED, APIKEY_SCOPE)"},
    404: {"description": "No such account or instrument (ACCOUNT_NOT_FOUND, INSTRUMENT_NOT_FOUND)"},
    422: {
        "description": "Invalid request (VALIDATION_FAILED, LIMIT_UNKNOWN, LIMIT_INVALID, "
        "LOCATE_EXPIRY_INVALID, or an account or symbol in the body that does not exist)"
    },
    503: {"description": "The change could not be recorded; nothing changed (TRADING_UNAVAILABLE)"},
}


Controls = Annotated[TradingControlsPort, provided(TradingControlsPort)]
Risk = Annotated[RiskControlsPort, provided(RiskControlsPort)]
ClockDep = Annotated[Clock, provided(Clock)]

halts_router = APIRouter(prefix="/v1/trading", tags=["Trading controls"], responses=PROBLEMS)
compliance_router = APIRouter(
    prefix="/v1/compliance", tags=["Trading controls"], responses=PROBLEMS
)
locates_router = APIRouter(prefix="/v1/locates", tags=["Trading controls"], responses=PROBLEMS)
instruments_router = APIRouter(tags=["Trading"], responses=PROBLEMS)


# -- halts -------------------------------------------------------------------------------


@halts_router.post("/halts", summary="Halt trading (the kill switch)")
def halt(
    body: HaltRequest, principal: Halter, request: Request, controls: Controls
) -> ControlChangeView:
    """Halt the platform or one symbol, or let only position-reducing orders through.

    HALTED refuses every new order and modify; REDUCING lets only orders that shrink a
    position through. Cancels always work. `cancel_open_orders` also cancels the open
    orders in scope, in the same step.
    """
    change = controls.set_state(
        Caller.of(principal, request),
        StateTarget.of(body.scope, body.symbol),
        TradingState(body.state),
        body.reason,
        cancel_open_orders=body.cancel_open_orders,
    )
    return change_view(change)


@halts_router.get("/halts", summary="Trading states in force")
def list_halts(
    _principal: Halter,
    db: DbSession,
    scope: Literal["global", "symbol", "account"] | None = None,
) -> list[TradingStateView]:
    """Every platform, symbol and account state other than ACTIVE, with who set it and why."""
    return [state_view(row) for row in TradingControls.states(db, scope)]


@halts_router.post("/resume", summary="Resume trading")
def resume(
    body: ResumeRequest, principal: Halter, request: Request, controls: Controls
) -> ControlChangeView:
    """Set the platform or a symbol back to ACTIVE."""
    target = StateTarget.of(body.scope, body.symbol)
    change = controls.set_state(
        Caller.of(principal, request), target, TradingState.ACTIVE, body.reason
    )
    return change_view(change)


# -- accounts ----------------------------------------------------------------------------


@compliance_router.put("/accounts/{account_id}/trading-state", summary="An account's kill switch")
def set_account_state(
    account_id: AccountId,
    body: AccountStateRequest,
    principal: RiskManager,
    request: Request,
    controls: Controls,
) -> ControlChangeView:
    """ACTIVE, REDUCING (position-reducing orders only) or HALTED, for one account."""
    change = controls.set_state(
        Caller.of(principal, request),
        StateTarget.account(account_id),
        body.state,
        body.reason,
        cancel_open_orders=body.cancel_open_orders,
    )
    return change_view(change)


@compliance_router.patch("/accounts/{account_id}", summary="An account's standing")
def change_standing(
    account_id: AccountId,
    body: StandingRequest,
    principal: RiskManager,
    request: Request,
    controls: Controls,
) -> ControlChangeView:
    """Set an account's status (active, restricted, suspended, closed) or trading approval.

    Restricted accounts may only reduce positions; suspending or closing an account
    cancels its open orders. `trading_permission: false` refuses every new order.
    """
    change = controls.change_standing(
        Caller.of(principal, request),
        account_id,
        body.reason,
        status=body.status,
        trading_permission=body.trading_permission,
    )
    return change_view(change)


@compliance_router.post("/accounts/{account_id}/pdt-reset", summary="Reset a pattern day trader")
def reset_pattern_day_trader(
    account_id: AccountId,
    body: ReasonRequest,
    principal: RiskManager,
    request: Request,
    controls: Controls,
) -> ControlChangeView:
    """Lift the 90-day pattern-day-trader restriction and start the day-trade count afresh."""
    caller = Caller.of(principal, request)
    return change_view(controls.reset_pattern_day_trader(caller, account_id, body.reason))


@compliance_router.get("/accounts/{account_id}", summary="An account as the checks see it")
def get_account(
    account_id: AccountId, _principal: RiskManager, db: DbSession, controls: Controls
) -> AccountControlView:
    """Standing, approvals, trading states, cash, reserved cash and recent day trades."""
    return standing_view(controls.standing(db, account_id))


# -- limits ------------------------------------------------------------------------------


@compliance_router.get("/limits", summary="Pre-trade limits in force")
def list_limits(_principal: RiskManager, db: DbSession, risk: Risk) -> LimitsView:
    """Firm and tier limits, and each account's own, with defaults and who changed them."""
    return LimitsView(limits=[limit_view(limit) for limit in risk.limits(db)])


@compliance_router.put("/limits", summary="Change a pre-trade limit")
def change_limit(
    body: LimitChangeRequest, principal: RiskManager, request: Request, risk: Risk
) -> ControlChangeView:
    """Override one limit of the firm, a tier or an account; `null` restores the default.

    Money limits take decimal strings, the others whole numbers. The next order is
    checked against the new value.
    """
    change = risk.change_limit(
        Caller.of(principal, request), body.scope, body.name, body.value, body.reason
    )
    return change_view(change)


# -- lists and close-outs ----------------------------------------------------------------


@compliance_router.patch("/instruments/{symbol}", summary="Restricted, threshold, borrow lists")
def change_flags(
    symbol: SymbolPath, body: FlagsRequest, principal: RiskManager, request: Request, risk: Risk
) -> ControlChangeView:
    """Put a security on or off the restricted, threshold and easy-to-borrow lists.

    Orders in a restricted security are refused; short sales in a hard-to-borrow one
    need a locate; a threshold security with an open close-out takes no new short sales.
    """
    change = risk.set_flags(Caller.of(principal, request), symbol, body.flags, body.reason)
    return change_view(change)


@compliance_router.get("/restricted-list", summary="The firm's restricted list")
def restricted_list(_principal: RiskManager, db: DbSession, risk: Risk) -> list[InstrumentView]:
    """Securities in which every order is refused."""
    return [instrument_view(listing) for listing in risk.listed(db, "restricted")]


@compliance_router.get("/threshold-list", summary="Reg SHO threshold securities")
def threshold_list(_principal: RiskManager, db: DbSession, risk: Risk) -> list[InstrumentView]:
    """Threshold securities (open close-outs there stop new short sales)."""
    return [instrument_view(listing) for listing in risk.listed(db, "threshold")]


@compliance_router.get("/closeouts", summary="Open Reg SHO close-out obligations")
def list_closeouts(_principal: RiskManager, db: DbSession, risk: Risk) -> list[CloseoutView]:
    """Fails to deliver the firm must still close out, by symbol."""
    return [closeout_view(row, threshold=flag) for row, flag in risk.closeouts(db)]


@compliance_router.put("/closeouts/{symbol}", summary="Record a close-out obligation")
def set_closeout(
    symbol: SymbolPath, body: CloseoutRequest, principal: RiskManager, request: Request, risk: Risk
) -> ControlChangeView:
    """The open fails to deliver from the clearing firm's report; 0 clears the obligation."""
    change = risk.set_closeout(Caller.of(principal, request), symbol, body.shares, body.reason)
    return change_view(change)


# -- locates and the universe ------------------------------------------------------------


@locates_router.post("", summary="Grant a locate")
def grant_locate(
    body: LocateRequest, principal: LocateGranter, request: Request, risk: Risk
) -> ControlChangeView:
    """Shares an account may sell short in a symbol until the locate expires.

    Replaces the account's earlier locate in the symbol.
    """
    caller = Caller.of(principal, request)
    change = risk.grant_locate(caller, body.account_id, body.symbol, body.quantity, body.expires_at)
    return change_view(change)


@locates_router.get("", summary="Locates and the shares left on them")
def list_locates(
    _principal: LocateGranter,
    db: DbSession,
    risk: Risk,
    clock: ClockDep,
    account_id: Annotated[str | None, Query(pattern=r"^[0-9a-f-]{36}$")] = None,
) -> list[LocateView]:
    """Every locate (of one account if given); short sales use them up as they fill."""
    now = clock.now_ns()
    return [locate_view(row, live, now) for row, live in risk.locates(db, account_id)]


@instruments_router.get("/v1/instruments", summary="The instrument universe")
def list_instruments(
    _principal: Viewer,
    db: DbSession,
    risk: Risk,
    after: Annotated[Symbol | None, Query(description="A symbol: the page after it")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 500,
) -> list[InstrumentView]:
    """Tradable symbols by symbol: reference data, lists and the firm's trading state."""
    return [instrument_view(listing) for listing in risk.universe(db, after, limit)]
