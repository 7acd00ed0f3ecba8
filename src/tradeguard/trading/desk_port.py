"""The desk's port: what routes and the gateway ask of the single writer of trading state.

Routes never hold a ``TradingDesk``; they ask the registry for these protocols. In one
process (``serve_workers = 1``) the in-process desk and its controls satisfy them; with
gateway workers each worker holds clients that forward every call over the desk's local
channel (``tradeguard.trading.channel``) to the desk process, which runs the same code.
Either way a call either happens whole in the desk or is refused with a problem.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.core.money import Money
from tradeguard.ledger.movements import CashMovement, CashPosted
from tradeguard.risk.model import AccountStatus, Locate, TradingState
from tradeguard.trading.controls.busts import Busted
from tradeguard.trading.controls.limits_store import LimitValue
from tradeguard.trading.controls.risk_controls import Listing
from tradeguard.trading.controls.trading_controls import (
    AccountStanding,
    ControlChange,
    StateTarget,
)
from tradeguard.trading.models import CloseoutObligationRow, LocateRow, OrderRow
from tradeguard.trading.orders.desk import OrderAsk, Placed
from tradeguard.trading.orders.schemas import AccountView

__all__ = ["DeskLink", "DeskPort", "LocalDeskLink", "RiskControlsPort", "TradingControlsPort"]


class DeskPort(Protocol):
    """Order entry and the account's views that read the desk's memory."""

    def place(self, caller: Caller, ask: OrderAsk) -> Placed:
        """Check, accept and match a new order; a known client order id returns its order."""
        ...

    async def place_async(self, caller: Caller, ask: OrderAsk) -> Placed:
        """``place`` awaited on the event loop, with no thread waiting for it."""
        ...

    def modify(
        self, caller: Caller, order_id: str, limit_price: int | None, quantity: int | None
    ) -> OrderRow:
        """Change an open limit order's price and/or quantity, through the risk checks."""
        ...

    def cancel(self, caller: Caller, order_id: str) -> OrderRow:
        """Cancel an open order of the caller's."""
        ...

    def cancel_all(self, caller: Caller) -> list[OrderRow]:
        """Cancel every open order of the caller's account."""
        ...

    def account_view(self, db: Session, caller: Caller) -> AccountView:
        """The caller's account as the checks see it now."""
        ...

    def account_id(self, db: Session, caller: Caller) -> str:
        """The caller's account id; 403 ``TRADING_NO_ACCOUNT`` if none."""
        ...

    def market_prices(self, symbols: list[str]) -> dict[str, int | None]:
        """The reference price of each symbol now (None for one without a price)."""
        ...

    def own_order(self, db: Session, caller: Caller, order_id: str) -> OrderRow:
        """One of the caller's orders; another account's order answers 404."""
        ...

    def post_cash(self, caller: Caller, movement: CashMovement) -> CashPosted:
        """Apply a payment's cash to its account and journal it (once per reference)."""
        ...


class TradingControlsPort(Protocol):
    """Kill switches and account standing (``TradingControls`` in the desk)."""

    def set_state(
        self,
        caller: Caller,
        target: StateTarget,
        state: TradingState,
        reason: str,
        *,
        cancel_open_orders: bool = False,
    ) -> ControlChange:
        """Set a kill switch (ACTIVE deletes it); optionally cancel the open orders in scope."""
        ...

    def change_standing(  # noqa: PLR0913 - who, which account, why, and each part of standing
        self,
        caller: Caller,
        account_id: str,
        reason: str,
        *,
        status: AccountStatus | None = None,
        trading_permission: bool | None = None,
        restriction: str | None = None,
    ) -> ControlChange:
        """Set an account's status and/or trading permission; ``restriction``: whose hold."""
        ...

    def reset_pattern_day_trader(
        self, caller: Caller, account_id: str, reason: str
    ) -> ControlChange:
        """Lift the PDT restriction and start the day-trade count afresh."""
        ...

    def bust_trade(self, caller: Caller, execution_id: str, reason: str) -> Busted:
        """Reverse one execution on its account's books; the firm takes the other side."""
        ...

    def standing(self, db: Session, account_id: str) -> AccountStanding:
        """An account as the checks see it now (404 if there is no such account)."""
        ...


class RiskControlsPort(Protocol):
    """Limits, instrument lists, close-outs and locates (``RiskControls`` in the desk)."""

    def change_limit(
        self, caller: Caller, scope_text: str, name: str, value: int | Money | None, reason: str
    ) -> ControlChange:
        """Override one limit (``None``: back to the default)."""
        ...

    def limits(self, db: Session) -> list[LimitValue]:
        """Every limit as it applies now."""
        ...

    def set_flags(
        self, caller: Caller, symbol: str, flags: dict[str, bool], reason: str
    ) -> ControlChange:
        """Put an instrument on or off the restricted, threshold and easy-to-borrow lists."""
        ...

    def listed(self, db: Session, flag: str) -> list[Listing]:
        """The instruments on one list, by symbol."""
        ...

    def universe(self, db: Session, after: str | None, limit: int) -> list[Listing]:
        """Up to ``limit`` instruments by symbol, after ``after``."""
        ...

    def set_closeout(self, caller: Caller, symbol: str, shares: int, reason: str) -> ControlChange:
        """Record the firm's open close-out obligation in ``symbol``."""
        ...

    def closeouts(self, db: Session) -> list[tuple[CloseoutObligationRow, bool]]:
        """Open close-out obligations and whether each symbol is a threshold security."""
        ...

    def grant_locate(
        self,
        caller: Caller,
        account_id: str,
        symbol: str,
        quantity: int,
        expires_at_ns: int | None,
    ) -> ControlChange:
        """Grant (replacing any earlier one) a locate."""
        ...

    def locates(self, db: Session, account_id: str | None) -> list[tuple[LocateRow, Locate | None]]:
        """Stored locates, each with what the checks hold now."""
        ...


class DeskLink(Protocol):
    """Whether this process can reach the desk (the readiness check)."""

    def reachable(self) -> tuple[bool, str]:
        """``(ok, detail)`` of the desk as this process sees it."""
        ...


class LocalDeskLink:
    """The desk runs in this process: always reachable."""

    def reachable(self) -> tuple[bool, str]:
        """Always ``(True, "in process")``."""
        return True, "in process"
