"""A gateway worker's view of the desk: the desk's ports, forwarded over the channel.

Everything that reads or changes the desk's memory goes to the desk process; what the
database alone answers (the caller's account id, one of their orders, the stored limits
and close-outs) is read here, in the worker's own session, as the desk would read it.
A desk that cannot be reached is a ``503 TRADING_UNAVAILABLE``; a client retries an order
with the same client order id, which the desk answers with the order if it was taken.

Without Redis, the nonces, key revocations and rate-limit counters every worker must
share live in the desk process too (``DeskKeyState``, ``DeskCounters``). A worker that
cannot reach the nonces refuses signed requests (fail closed); its rate limits count
in its own memory until the desk is back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from limits.errors import StorageError
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.apikeys.problems import unavailable as keys_unavailable
from tradeguard.apikeys.replay import Admission
from tradeguard.core.errors import ProblemError
from tradeguard.core.money import Money
from tradeguard.ledger.movements import CashMovement, CashPosted
from tradeguard.ratelimit.counters import CounterCall, MemoryCounters, run_each
from tradeguard.risk.model import AccountStatus, Locate, TradingState
from tradeguard.trading.channel.client import DeskChannel, DeskUnreachableError
from tradeguard.trading.channel.wire import WireError
from tradeguard.trading.controls.busts import Busted
from tradeguard.trading.controls.limits_store import (
    LimitValue,
    effective_limits,
    load_limits,
    stored_rows,
)
from tradeguard.trading.controls.risk_controls import Listing, RiskControls
from tradeguard.trading.controls.trading_controls import (
    AccountStanding,
    ControlChange,
    StateTarget,
)
from tradeguard.trading.models import CloseoutObligationRow, LocateRow, OrderRow
from tradeguard.trading.orders.account_reads import AccountReads
from tradeguard.trading.orders.accounts import account_of_user
from tradeguard.trading.orders.desk import OrderAsk, Placed
from tradeguard.trading.orders.problems import no_account, order_not_found, unavailable
from tradeguard.trading.orders.schemas import AccountView
from tradeguard.trading.wiring import TradingPorts

T = TypeVar("T")


def forwarded(channel: DeskChannel, kind: type[T], method: str, *args: Any, **kwargs: Any) -> T:  # noqa: ANN401 - the call's arguments
    """The desk's answer to ``method``, checked to be a ``kind``; 503 if the desk is gone."""
    try:
        answer = channel.call(method, *args, **kwargs)
    except (DeskUnreachableError, WireError) as error:
        raise _unreachable() from error
    return _of_kind(answer, kind, method)


async def forwarded_async(
    channel: DeskChannel,
    kind: type[T],
    method: str,
    *args: Any,  # noqa: ANN401 - the call's arguments
) -> T:
    """``forwarded``, awaited on the event loop."""
    try:
        answer = await channel.call_async(method, *args)
    except (DeskUnreachableError, WireError) as error:
        raise _unreachable() from error
    return _of_kind(answer, kind, method)


def _unreachable() -> ProblemError:
    """503: the desk process did not answer (a retry with the same ids is safe)."""
    return unavailable("the trading desk is not reachable; retry the request")


def _of_kind(answer: object, kind: type[T], method: str) -> T:
    """``answer``, or 503 when the desk answered ``method`` with something else."""
    if not isinstance(answer, kind):
        raise unavailable(f"the trading desk answered {method} with a {type(answer).__name__}")
    return answer


class RemoteDesk:
    """Order entry in the desk process; the caller's own rows read from the database."""

    def __init__(self, channel: DeskChannel) -> None:
        self.channel = channel

    def place(self, caller: Caller, ask: OrderAsk) -> Placed:
        """The desk's ``place``."""
        return forwarded(self.channel, Placed, "desk.place", caller, ask)

    async def place_async(self, caller: Caller, ask: OrderAsk) -> Placed:
        """The desk's ``place``, awaited."""
        return await forwarded_async(self.channel, Placed, "desk.place", caller, ask)

    def modify(
        self, caller: Caller, order_id: str, limit_price: int | None, quantity: int | None
    ) -> OrderRow:
        """The desk's ``modify``."""
        return forwarded(
            self.channel, OrderRow, "desk.modify", caller, order_id, limit_price, quantity
        )

    def cancel(self, caller: Caller, order_id: str) -> OrderRow:
        """The desk's ``cancel``."""
        return forwarded(self.channel, OrderRow, "desk.cancel", caller, order_id)

    def cancel_all(self, caller: Caller) -> list[OrderRow]:
        """The desk's ``cancel_all``."""
        rows = forwarded(self.channel, list, "desk.cancel_all", caller)
        return [row for row in rows if isinstance(row, OrderRow)]

    def account_view(self, db: Session, caller: Caller) -> AccountView:
        """The desk's view of the caller's account (its memory holds the reservations)."""
        del db
        return forwarded(self.channel, AccountView, "desk.account_view", caller)

    def market_prices(self, symbols: list[str]) -> dict[str, int | None]:
        """The desk's reference prices of ``symbols`` (its memory holds them)."""
        return forwarded(self.channel, dict, "desk.market_prices", symbols)

    def account_id(self, db: Session, caller: Caller) -> str:
        """The caller's account id from the database; 403 ``TRADING_NO_ACCOUNT`` if none."""
        row = account_of_user(db, caller.user_id)
        if row is None:
            raise no_account()
        return row.id

    def own_order(self, db: Session, caller: Caller, order_id: str) -> OrderRow:
        """One of the caller's orders as committed; another account's order answers 404."""
        row = db.get(OrderRow, order_id)
        if row is None or row.account_id != self.account_id(db, caller):
            raise order_not_found()
        return row

    def post_cash(self, caller: Caller, movement: CashMovement) -> CashPosted:
        """The desk's ``post_cash``."""
        return forwarded(self.channel, CashPosted, "desk.post_cash", caller, movement)


class RemoteTradingControls:
    """Kill switches and account standing, changed and read in the desk process."""

    def __init__(self, channel: DeskChannel) -> None:
        self.channel = channel

    def set_state(
        self,
        caller: Caller,
        target: StateTarget,
        state: TradingState,
        reason: str,
        *,
        cancel_open_orders: bool = False,
    ) -> ControlChange:
        """The desk's ``set_state``."""
        return forwarded(
            self.channel,
            ControlChange,
            "controls.set_state",
            caller,
            target,
            state,
            reason,
            cancel_open_orders=cancel_open_orders,
        )

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
        """The desk's ``change_standing``."""
        return forwarded(
            self.channel,
            ControlChange,
            "controls.change_standing",
            caller,
            account_id,
            reason,
            status=status,
            trading_permission=trading_permission,
            restriction=restriction,
        )

    def reset_pattern_day_trader(
        self, caller: Caller, account_id: str, reason: str
    ) -> ControlChange:
        """The desk's ``reset_pattern_day_trader``."""
        return forwarded(
            self.channel, ControlChange, "controls.reset_pdt", caller, account_id, reason
        )

    def bust_trade(self, caller: Caller, execution_id: str, reason: str) -> Busted:
        """The desk's ``bust_trade``."""
        return forwarded(self.channel, Busted, "controls.bust_trade", caller, execution_id, reason)

    def standing(self, db: Session, account_id: str) -> AccountStanding:
        """The desk's ``standing``."""
        del db
        return forwarded(self.channel, AccountStanding, "controls.standing", account_id)


class RemoteRiskControls:
    """Limits, lists, close-outs and locates: changes and live reads in the desk process."""

    def __init__(self, channel: DeskChannel) -> None:
        self.channel = channel

    def change_limit(
        self, caller: Caller, scope_text: str, name: str, value: int | Money | None, reason: str
    ) -> ControlChange:
        """The desk's ``change_limit``."""
        return forwarded(
            self.channel,
            ControlChange,
            "risk.change_limit",
            caller,
            scope_text,
            name,
            value,
            reason,
        )

    def limits(self, db: Session) -> list[LimitValue]:
        """Every limit as stored (the desk applies each change as it stores it)."""
        return effective_limits(load_limits(db), stored_rows(db))

    def set_flags(
        self, caller: Caller, symbol: str, flags: dict[str, bool], reason: str
    ) -> ControlChange:
        """The desk's ``set_flags``."""
        return forwarded(
            self.channel, ControlChange, "risk.set_flags", caller, symbol, flags, reason
        )

    def listed(self, db: Session, flag: str) -> list[Listing]:
        """The desk's ``listed`` (the live reference prices are in its memory)."""
        del db
        return _listings(forwarded(self.channel, list, "risk.listed", flag))

    def universe(self, db: Session, after: str | None, limit: int) -> list[Listing]:
        """The desk's ``universe``."""
        del db
        return _listings(forwarded(self.channel, list, "risk.universe", after, limit))

    def set_closeout(self, caller: Caller, symbol: str, shares: int, reason: str) -> ControlChange:
        """The desk's ``set_closeout``."""
        return forwarded(
            self.channel, ControlChange, "risk.set_closeout", caller, symbol, shares, reason
        )

    def closeouts(self, db: Session) -> list[tuple[CloseoutObligationRow, bool]]:
        """Open close-out obligations, as stored."""
        return RiskControls.closeouts(db)

    def grant_locate(
        self,
        caller: Caller,
        account_id: str,
        symbol: str,
        quantity: int,
        expires_at_ns: int | None,
    ) -> ControlChange:
        """The desk's ``grant_locate``."""
        return forwarded(
            self.channel,
            ControlChange,
            "risk.grant_locate",
            caller,
            account_id,
            symbol,
            quantity,
            expires_at_ns,
        )

    def locates(self, db: Session, account_id: str | None) -> list[tuple[LocateRow, Locate | None]]:
        """The desk's ``locates`` (what is left of each is in its memory)."""
        del db
        pairs = forwarded(self.channel, list, "risk.locates", account_id)
        return [
            (row, live)
            for row, live in pairs
            if isinstance(row, LocateRow) and (live is None or isinstance(live, Locate))
        ]


def _listings(items: list[Any]) -> list[Listing]:
    return [item for item in items if isinstance(item, Listing)]


class ChannelLink:
    """The desk process as a worker sees it, for ``/readyz``."""

    def __init__(self, channel: DeskChannel) -> None:
        self.channel = channel

    def reachable(self) -> tuple[bool, str]:
        """Whether the desk answers a ping now."""
        try:
            answer = self.channel.call("desk.ping")
        except (DeskUnreachableError, WireError):
            return False, "desk process unreachable"
        return answer == "pong", "desk process"


class DeskKeyState:
    """API-key nonces and revocations kept by the desk process for every worker."""

    def __init__(self, channel: DeskChannel) -> None:
        self.channel = channel

    def admit(self, key_id: str, nonce: str, ttl_ms: int) -> Admission:
        """Claim the nonce in the desk process; refused (503) if it cannot be asked."""
        try:
            answer = self.channel.call("keys.admit", key_id, nonce, ttl_ms)
        except (DeskUnreachableError, WireError) as error:
            raise keys_unavailable(f"the shared nonce store does not answer: {error}") from None
        if not isinstance(answer, Admission):
            raise keys_unavailable("the shared nonce store answered nonsense")
        return answer

    def mark_revoked(self, key_id: str, ttl_ms: int) -> None:
        """Tell the desk process (the database keeps the revocation too)."""
        try:
            self.channel.call("keys.mark_revoked", key_id, ttl_ms)
        except (DeskUnreachableError, WireError) as error:
            raise keys_unavailable(f"the shared nonce store does not answer: {error}") from None


class DeskCounters:
    """Rate-limit counters kept by the desk process for every worker (``Counters``).

    While the desk process is gone (it is restarted within seconds) each worker counts in
    its own memory instead: the limits still hold, each per worker, rather than every
    request of the API, sign-ins and reads included, failing with the desk.
    """

    def __init__(self, channel: DeskChannel) -> None:
        self.channel = channel
        self.local = MemoryCounters()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to ``key`` in the desk process."""
        try:
            return int(self.channel.call("counters.incr", key, expiry, amount))
        except (DeskUnreachableError, WireError):
            return self.local.incr(key, expiry, amount)

    def get(self, key: str) -> int:
        """The count of ``key``."""
        try:
            return int(self.channel.call("counters.get", key))
        except (DeskUnreachableError, WireError):
            return self.local.get(key)

    def get_expiry(self, key: str) -> float:
        """When ``key`` expires, as Unix seconds."""
        try:
            return float(self.channel.call("counters.get_expiry", key))
        except (DeskUnreachableError, WireError):
            return self.local.get_expiry(key)

    def run_calls(self, calls: Sequence[CounterCall]) -> list[float]:
        """The answers of ``calls``, run in order by the desk process in one round trip."""
        try:
            answers = self.channel.call("counters.run", _sent(calls))
        except (DeskUnreachableError, WireError):
            return run_each(self.local, calls)
        return _answers(answers, calls)

    async def run_calls_async(self, calls: Sequence[CounterCall]) -> list[float]:
        """``run_calls`` awaited on the event loop (no thread waits for the desk)."""
        try:
            answers = await self.channel.call_async("counters.run", _sent(calls))
        except (DeskUnreachableError, WireError):
            return run_each(self.local, calls)
        return _answers(answers, calls)

    def clear(self, key: str) -> None:
        """Forget ``key`` (in both places)."""
        self.local.clear(key)
        try:
            self.channel.call("counters.clear", key)
        except (DeskUnreachableError, WireError) as error:
            raise StorageError(error) from None


def _sent(calls: Sequence[CounterCall]) -> list[list[str | int]]:
    return [list(call) for call in calls]


def _answers(answers: object, calls: Sequence[CounterCall]) -> list[float]:
    if not isinstance(answers, list) or len(answers) != len(calls):
        raise StorageError(ValueError("the desk answered counter calls with nonsense"))
    return [float(answer) for answer in answers]


def remote_trading(channel: DeskChannel) -> TradingPorts:
    """The trading ports of a gateway worker, all over ``channel``."""
    desk = RemoteDesk(channel)
    return TradingPorts(
        desk,
        AccountReads(desk),
        RemoteTradingControls(channel),
        RemoteRiskControls(channel),
        ChannelLink(channel),
        None,
    )
