"""Trading controls for staff: halts (the kill switch) and each account's standing.

Every change runs as one unit of work of the trading desk (``TradingDesk.run``): under
the desk's lock, so the very next order sees all of it and no order sees half of it, and
in one transaction with its row and its audit event. A request that cannot be applied is
refused before anything in memory changes; if the work fails after memory changed, the
desk rebuilds its memory from the database. Orders cancelled on the way are audited by
the booking, one by one. ``risk_controls`` holds the limits, lists, close-outs and locates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.risk.account import AccountRisk
from tradeguard.risk.model import AccountStatus, TradingState
from tradeguard.risk.pricing import business_day
from tradeguard.trading.controls.busts import Busted, bust_trade
from tradeguard.trading.controls.problems import account_not_found, instrument_not_found
from tradeguard.trading.controls.restrictions import STAFF, holders, lift, place
from tradeguard.trading.models import InstrumentRow, OrderRow, TradingAccount, TradingStateRow
from tradeguard.trading.orders.booking import Booking
from tradeguard.trading.orders.desk import TradingDesk
from tradeguard.trading.orders.loader import GLOBAL_KEY
from tradeguard.trading.orders.schemas import AccountView
from tradeguard.trading.orders.views import account_view

T = TypeVar("T")
JsonScalar = str | int | bool | None
Snapshot = JsonScalar | dict[str, JsonScalar]
"""A value before or after a change: a state, or an object of the values that changed."""
GLOBAL, SYMBOL, ACCOUNT = "global", "symbol", "account"
CANCELLING_STATUSES = (AccountStatus.SUSPENDED, AccountStatus.CLOSED)
"""An account put in one of these loses its open orders."""


@dataclass(frozen=True, slots=True)
class ControlChange:
    """What one control request changed; its audit event carries the same."""

    event: str
    subject: str
    before: Snapshot
    after: Snapshot
    reason: str | None
    context: dict[str, JsonScalar] = field(default_factory=dict)
    cancelled: tuple[OrderRow, ...] = ()

    def audit_data(self) -> dict[str, Snapshot]:
        """The audit event's data: context, before, after, reason, how many orders went."""
        data: dict[str, Snapshot] = dict(self.context)
        data |= {"before": self.before, "after": self.after, "reason": self.reason}
        if self.cancelled:
            data["cancelled_orders"] = len(self.cancelled)
        return data


@dataclass(frozen=True, slots=True)
class StateTarget:
    """What a trading state applies to: the platform, one symbol or one account."""

    scope: str
    key: str

    @classmethod
    def of(cls, scope: str, symbol: str | None) -> StateTarget:
        """The platform (``global``) or ``symbol``, as a halt request names them."""
        return cls(GLOBAL, GLOBAL_KEY) if scope == GLOBAL else cls(SYMBOL, symbol or "")

    @classmethod
    def account(cls, account_id: str) -> StateTarget:
        """One account."""
        return cls(ACCOUNT, account_id)


@dataclass(frozen=True, slots=True)
class AccountStanding:
    """An account as compliance sees it: the owner's view plus approvals and its own state."""

    view: AccountView
    user_id: str
    trading_permission: bool
    account_state: TradingState
    """The account's own trading state (the platform's and symbols' apply on top)."""
    open_orders: int
    restrictions: tuple[str, ...] = ()
    """Who holds a restriction of the account (``restrictions.py``)."""


class DeskControls:
    """What every control needs: the desk's unit of work and its account and symbol lookups."""

    def __init__(self, desk: TradingDesk) -> None:
        self.desk = desk

    def run(self, caller: Caller, work: Callable[[Booking], T]) -> T:
        """``work`` as one unit of work of the desk, on behalf of ``caller``."""
        return self.desk.run(caller.actor, caller.request_id, work)

    def account(
        self, db: Session, account_id: str, *, in_body: bool = False
    ) -> tuple[TradingAccount, AccountRisk]:
        """An account's row and risk state (one opened since start-up is loaded); 404/422."""
        row = self.account_row(db, account_id, in_body=in_body)
        return row, self.desk.adopt(db, row)

    @staticmethod
    def account_row(db: Session, account_id: str, *, in_body: bool = False) -> TradingAccount:
        """An account's row; 404 (422 when named in a request body) if there is none."""
        row = db.get(TradingAccount, account_id)
        if row is None:
            raise account_not_found(in_body=in_body)
        return row

    @staticmethod
    def instrument_row(db: Session, symbol: str, *, in_body: bool = False) -> InstrumentRow:
        """An instrument's row; 404 (422 when named in a request body) if there is none."""
        row = db.get(InstrumentRow, symbol)
        if row is None:
            raise instrument_not_found(symbol, in_body=in_body)
        return row


def recorded(booking: Booking, caller: Caller, change: ControlChange) -> ControlChange:
    """``change``, once its audit event is in the unit of work."""
    booking.record(change.event, change.subject, change.audit_data(), caller.actor)
    return change


class TradingControls(DeskControls):
    """Kill switches of the platform, symbols and accounts, and each account's standing."""

    # -- trading states ------------------------------------------------------------------

    def set_state(
        self,
        caller: Caller,
        target: StateTarget,
        state: TradingState,
        reason: str,
        *,
        cancel_open_orders: bool = False,
    ) -> ControlChange:
        """Set a kill switch (ACTIVE deletes it); optionally cancel the open orders it covers."""

        def work(booking: Booking) -> ControlChange:
            db = booking.context.db
            self._check_target(db, target)
            before = self._swap_state(target, state)
            _store_state(db, target, state, reason, by=caller.actor.id, now_ns=booking.now_ns)
            cancelled = self._withdraw(booking, caller, target) if cancel_open_orders else ()
            context: dict[str, JsonScalar] = {"scope": target.scope, "key": target.key}
            change = ControlChange(
                "trading.state.changed",
                target.key,
                before.value,
                state.value,
                reason,
                context,
                cancelled,
            )
            return recorded(booking, caller, change)

        return self.run(caller, work)

    @staticmethod
    def states(db: Session, scope: str | None = None) -> list[TradingStateRow]:
        """Every trading state other than ACTIVE (of one scope if given)."""
        query = select(TradingStateRow)
        if scope is not None:
            query = query.where(TradingStateRow.scope == scope)
        return list(db.scalars(query.order_by(TradingStateRow.scope, TradingStateRow.key)))

    # -- accounts ------------------------------------------------------------------------

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
        """Set ``status`` and/or ``trading_permission``; suspending or closing cancels orders.

        ``restriction`` names who places or lifts a restriction (``restrictions.py``);
        without it, it is staff's, and setting the account active lifts every one.
        """

        def work(booking: Booking) -> ControlChange:
            db = booking.context.db
            row, account = self.account(db, account_id)
            before = _standing(account)
            held = Held(restriction, reason, caller.actor.id or caller.actor.kind, booking.now_ns)
            wanted, context = held.apply(db, account_id, account.status, status)
            if wanted is not None:
                account.status = wanted
            if trading_permission is not None:
                account.trading_permission = trading_permission
            cancelled: tuple[OrderRow, ...] = ()
            if account.status in CANCELLING_STATUSES:
                cancelled = tuple(self.desk.withdraw(booking, caller.actor, account=account_id))
            row.status, row.trading_permission = account.status.value, account.trading_permission
            booking.touch_account(account_id)  # the rest of the row is written as it finishes
            after = _standing(account)
            change = ControlChange(
                "account.standing.changed", account_id, before, after, reason, context, cancelled
            )
            return recorded(booking, caller, change)

        return self.run(caller, work)

    def reset_pattern_day_trader(
        self, caller: Caller, account_id: str, reason: str
    ) -> ControlChange:
        """Lift the PDT restriction and start the day-trade count afresh.

        The count goes too: with the old day trades still in the window, the account's
        next fill would flag it again at once.
        """

        def work(booking: Booking) -> ControlChange:
            row, account = self.account(booking.context.db, account_id)
            before = self._pdt(account, booking.now_ns)
            self.desk.risk.reset_pattern_day_trader(account_id)
            account.day_trade_days.clear()
            row.pdt_restricted_until_ns = None
            booking.touch_account(account_id)
            after = self._pdt(account, booking.now_ns)
            change = ControlChange("account.pdt.reset", account_id, before, after, reason)
            return recorded(booking, caller, change)

        return self.run(caller, work)

    def bust_trade(self, caller: Caller, execution_id: str, reason: str) -> Busted:
        """Reverse one execution on its account's books (``busts``: the firm takes the side)."""
        return bust_trade(self.desk, caller, execution_id, reason)

    def standing(self, db: Session, account_id: str) -> AccountStanding:
        """An account as the checks see it now (404 if there is no such account)."""
        with self.desk.lock:
            row, account = self.account(db, account_id)
            now = self.desk.clock.now_ns()
            window = self.desk.risk.limits.pdt_window_business_days
            view = account_view(
                account,
                trading_state=self.desk.effective_state(account_id).value,
                day_trades=account.day_trades(business_day(now), window),
                now_ns=now,
                instruments=self.desk.risk.instruments,
            )
            own = self.desk.risk.account_states.get(account_id, TradingState.ACTIVE)
            return AccountStanding(
                view,
                row.user_id,
                account.trading_permission,
                own,
                len(account.open_orders),
                tuple(holders(db, account_id)),
            )

    # -- helpers -------------------------------------------------------------------------

    def _check_target(self, db: Session, target: StateTarget) -> None:
        if target.scope == SYMBOL:
            self.instrument_row(db, target.key, in_body=True)
        elif target.scope == ACCOUNT:
            self.account(db, target.key)

    def _swap_state(self, target: StateTarget, state: TradingState) -> TradingState:
        engine, risk = self.desk.engine, self.desk.risk
        if target.scope == GLOBAL:
            return engine.set_global_state(risk, state)
        if target.scope == SYMBOL:
            return engine.set_symbol_state(risk, target.key, state)
        return engine.set_account_state(risk, target.key, state)

    def _withdraw(
        self, booking: Booking, caller: Caller, target: StateTarget
    ) -> tuple[OrderRow, ...]:
        account = target.key if target.scope == ACCOUNT else None
        symbol = target.key if target.scope == SYMBOL else None
        return tuple(self.desk.withdraw(booking, caller.actor, account=account, symbol=symbol))

    def _pdt(self, account: AccountRisk, now_ns: int) -> dict[str, JsonScalar]:
        until = account.pdt_restricted_until_ns
        window = self.desk.risk.limits.pdt_window_business_days
        return {
            "restricted_until": None if until is None else ns_to_rfc3339(until),
            "day_trades": account.day_trades(business_day(now_ns), window),
        }


def _store_state(  # noqa: PLR0913 - the row's key, its content and who set it when
    db: Session, target: StateTarget, state: TradingState, reason: str, *, by: str, now_ns: int
) -> None:
    row = db.get(TradingStateRow, (target.scope, target.key))
    if state is TradingState.ACTIVE:
        if row is not None:
            db.delete(row)
        return
    if row is None:
        row = TradingStateRow(scope=target.scope, key=target.key)
        db.add(row)
    row.state, row.reason, row.set_by, row.set_at_ns = state.value, reason, by, now_ns


@dataclass(frozen=True, slots=True)
class Held:
    """A restriction placed or lifted by one holder (None: staff, who may lift them all)."""

    holder: str | None
    reason: str
    by: str
    now_ns: int

    def apply(
        self, db: Session, account_id: str, current: AccountStatus, status: AccountStatus | None
    ) -> tuple[AccountStatus | None, dict[str, JsonScalar]]:
        """The status to set (None: leave it) and what the audit event says of restrictions."""
        if status is AccountStatus.RESTRICTED:
            place(db, account_id, self.holder or STAFF, self.reason, self.by, self.now_ns)
            loosens = self.holder is not None and current in CANCELLING_STATUSES
            status = None if loosens else status  # a holder never loosens a suspension
        elif status is AccountStatus.ACTIVE:
            remaining = lift(db, account_id, self.holder)
            others_stand = bool(remaining) or current is not AccountStatus.RESTRICTED
            status = None if self.holder is not None and others_stand else status
        else:
            return status, {}
        standing = ",".join(holders(db, account_id))
        return status, {"restriction": self.holder or STAFF, "restrictions": standing}


def _standing(account: AccountRisk) -> dict[str, JsonScalar]:
    return {"status": account.status.value, "trading_permission": account.trading_permission}
