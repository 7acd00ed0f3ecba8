"""The trading desk: order entry, modify and cancel through risk, the book and the ledger.

One desk per process is the single writer of trading state. Order requests are committed
in groups (``group_commit``): those that arrive while a batch commits wait for the next.
A batch runs under the desk's lock: for each request in arrival order the risk checks
read the in-memory context and the book matches; then the order rows, executions,
positions, accounts and every request's audit events are written in one transaction on
the desk's own connection, and only after its commit are the requests answered and the
feed events published. If anything fails after the memory changed, the desk rebuilds its
memory from the database, so it never holds an order, fill or reservation that was not
committed; a database it cannot reach makes it answer 503 until it can load again.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.access.caller import Caller
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.core.ids import generator_for
from tradeguard.core.money import Money, Price
from tradeguard.ledger.models import LedgerEntryRow
from tradeguard.ledger.movements import (
    CashMovement,
    CashPosted,
    account_not_found,
    insufficient_funds,
)
from tradeguard.logs import get_logger
from tradeguard.risk.account import AccountRisk
from tradeguard.risk.context import RiskContext
from tradeguard.risk.engine import RiskEngine
from tradeguard.risk.model import Denial, OrderRequest, RiskLimits, TradingState
from tradeguard.risk.order_terms import OrderType, Side
from tradeguard.risk.pricing import business_day, market_order_bound
from tradeguard.trading.matching.engine import Exchange, OrderBook
from tradeguard.trading.matching.model import (
    Cancellation,
    CancelReason,
    MatchingError,
    Order,
    checked_limit_order,
)
from tradeguard.trading.models import InstrumentRow, OrderRow, TradingAccount
from tradeguard.trading.orders.accounts import account_of_user
from tradeguard.trading.orders.batch_runner import Batching, BatchRunner, DeskParts
from tradeguard.trading.orders.booking import BatchWrites, Booking, Context, FeedEvent
from tradeguard.trading.orders.calendar import previous_close_ns
from tradeguard.trading.orders.group_commit import Pending
from tradeguard.trading.orders.loader import (
    OPEN_STATUSES,
    DeskState,
    instrument_of,
    load_account,
    load_desk_state,
    open_day_orders,
)
from tradeguard.trading.orders.loader import request_of as stored_request
from tradeguard.trading.orders.order_rows import (
    OrderAsk,
    new_order_row,
    placed_terms,
    placed_via,
    price_text,
    request_of_ask,
    request_terms,
    same_terms,
    stored_by_client_id,
)
from tradeguard.trading.orders.problems import (
    TradingReason,
    no_account,
    order_conflict,
    order_not_found,
    risk_denied,
    unavailable,
)
from tradeguard.trading.orders.schemas import AccountView
from tradeguard.trading.orders.views import account_view

log = get_logger("tradeguard.trading")
SYSTEM = Actor.system("trading-desk")
MARKET_CLOSE = Actor.system("market-close")
T = TypeVar("T")
Publish = Callable[[str, Mapping[str, Any]], None]


__all__ = ["Batching", "OrderAsk", "OrderRouter", "Placed", "RouteChoice", "TradingDesk"]


@dataclass(frozen=True, slots=True)
class RouteChoice:
    """Where a new order goes: the internal book (no worse than ``cap``), or a venue."""

    internal: bool
    cap: int | None = None


INTERNAL_BOOK = RouteChoice(internal=True)


class OrderRouter(Protocol):
    """Routes orders after the risk checks, inside the desk's batch (``tradeguard.routing``)."""

    def route(self, booking: Booking, row: OrderRow, book: OrderBook, limit: int) -> RouteChoice:
        """Decide and record where a new order goes (under the desk's lock).

        ``limit`` is the worst price it may trade at: its limit or its collar bound.
        """
        ...

    def after_commit(self, feed: list[FeedEvent]) -> None:
        """Send the orders a committed batch routed out (the desk writes before it routes)."""
        ...

    def at_venue(self, order_id: str) -> bool:
        """Whether the order is working at an outside venue now."""
        ...

    def reload(self, db: Session) -> set[str]:
        """The orders working at venues, as stored (the desk loads them but not in its book)."""
        ...

    def rests_at_venue(self, order_id: str) -> bool:
        """Whether the order rests at an outside venue with no request pending there."""
        ...

    def resting_orders(self) -> list[str]:
        """The orders resting at outside venues with no request pending there."""
        ...

    def request_cancel(self, booking: Booking, row: OrderRow, actor: Actor) -> None:
        """Record a cancel of an order resting at a venue (sent there after commit)."""
        ...

    def request_replace(
        self, booking: Booking, row: OrderRow, quantity: int, limit: int, actor: Actor
    ) -> None:
        """Record new, checked terms for an order resting at a venue (sent after commit)."""
        ...


@dataclass(frozen=True, slots=True)
class Placed:
    """The order a submit produced, or found: a retried client order id returns the original."""

    order: OrderRow
    created: bool


class TradingDesk:
    """Single writer of orders, executions, positions and account cash."""

    def __init__(  # noqa: PLR0913 - its collaborators, and how it groups requests
        self,
        sessions: sessionmaker[Session],
        audit: AuditTrail,
        engine: RiskEngine,
        limits: RiskLimits,
        publish: Publish | None = None,
        *,
        batching: Batching | None = None,
    ) -> None:
        self.sessions = sessions
        self.audit = audit
        self.clock = engine.clock
        self._ids = generator_for(self.clock)
        self.engine = engine
        self.lock = threading.RLock()
        """Held while a batch runs and commits; reads of the memory take it too.

        Never call ``place``, ``modify``, ``cancel`` or ``cancel_all`` while holding it.
        """
        self._publish = publish
        self._watched: Callable[[str], bool] | None = None
        self.router: OrderRouter | None = None
        self._after_load: list[Callable[[], None]] = []
        self._state = DeskState(engine.new_context(limits), Exchange(), {}, {}, 0)
        self._stale = False
        parts = DeskParts(
            self.lock,
            sessions,
            audit,
            self.clock,
            lambda: self._state.risk,
            self._booking,
            self._loaded,
            self._rebuild,
            self._send,
        )
        self._batches = BatchRunner(parts, batching or Batching())

    @property
    def waiting(self) -> int:
        """Order requests waiting for the next batch."""
        return self._batches.queue.waiting

    @property
    def batch_in_flight(self) -> bool:
        """Whether a batch of order requests is being run or committed now."""
        return self._batches.queue.leading

    @property
    def batches(self) -> int:
        """Batches of order requests run so far (each one commit, or one failure)."""
        return self._batches.queue.batches

    @property
    def risk(self) -> RiskContext:
        """The in-memory risk context (read or change it only under ``lock``)."""
        return self._state.risk

    @property
    def limits(self) -> RiskLimits:
        """The firm's risk limits in force (held by the risk context, once)."""
        return self._state.risk.limits

    @property
    def exchange(self) -> Exchange:
        """The order books (read or change them only under ``lock``)."""
        return self._state.exchange

    def start(self) -> None:
        """Load the committed state: accounts, instruments, controls and open orders."""
        with self.lock, self.sessions() as db:
            away = set() if self.router is None else self.router.reload(db)
            self._state = load_desk_state(db, self.engine, self.limits, away)
            self._stale = False
            for restore in self._after_load:
                restore()

    def after_load(self, restore: Callable[[], None]) -> None:
        """Have ``restore`` run (under the lock) each time the memory is loaded again."""
        self._after_load.append(restore)

    def set_publisher(
        self, publish: Publish | None, watched: Callable[[str], bool] | None = None
    ) -> None:
        """Where feed events go after each commit (the order feed).

        ``watched(user_id)`` says whether a user has a live subscriber: events of users
        nobody watches are not built. ``None`` builds every event (a relay to other
        processes, which cannot tell).
        """
        self._publish, self._watched = publish, watched

    def apply_limits(self, limits: RiskLimits) -> None:
        """Swap the firm's limits (under the lock, so no order sees half of a change)."""
        with self.lock:
            self._state.risk.limits = limits

    # -- order entry ---------------------------------------------------------------------

    def place(self, caller: Caller, ask: OrderAsk) -> Placed:
        """Check, accept and match a new order; a known client order id returns its order."""
        return self._submit(caller, self._placing(caller, ask))

    def place_later(
        self, caller: Caller, ask: OrderAsk, done: Callable[[Pending[Placed]], None]
    ) -> None:
        """``place`` without waiting: ``done`` gets the request once its batch committed.

        It is called on the thread that ran the batch, and must not block.
        """
        pending = Pending(caller.actor, caller.request_id, self._placing(caller, ask), on_done=done)
        self._batches.submit_later(pending)

    async def place_async(self, caller: Caller, ask: OrderAsk) -> Placed:
        """``place`` awaited on the running event loop: the desk's sequencer answers it."""
        loop = asyncio.get_running_loop()
        placed: asyncio.Future[Placed] = loop.create_future()

        def settle(pending: Pending[Placed]) -> None:
            loop.call_soon_threadsafe(_settle, placed, pending)

        self.place_later(caller, ask, settle)
        return await placed

    def _placing(self, caller: Caller, ask: OrderAsk) -> Callable[[Booking], Placed]:
        """The unit of work of placing ``ask``."""

        def work(booking: Booking) -> Placed:
            account_id = self.account_id(booking.context.db, caller)
            existing = self._placed_before(booking, account_id, ask.client_order_id)
            if existing is not None:
                return Placed(same_terms(existing, ask), created=False)
            self._note_caller(account_id, caller)
            request = request_of_ask(account_id, ask)
            self._deny_if(
                booking, caller, "order.denied", request, self.engine.check(self.risk, request)
            )
            order_id, via = self._ids.new_text(), placed_via(caller)
            reserved = self.risk.accepted(request, order_id).price
            row = new_order_row(
                order_id, account_id, ask, via=via, reserve_price=reserved, now_ns=booking.now_ns
            )
            self._state.client_ids.add(account_id, ask.client_order_id)
            booking.placed(row)
            terms = placed_terms(account_id, ask, via)
            booking.record("order.placed", order_id, terms, booking.context.actor)
            choice = self._route(booking, row, ask)
            if choice.internal:
                order = self._book_order(order_id, account_id, ask, choice.cap)
                booking.apply(self.exchange.submit(order))
            return Placed(row, created=True)

        return work

    def modify(
        self, caller: Caller, order_id: str, limit_price: int | None, quantity: int | None
    ) -> OrderRow:
        """Change an open limit order's price and/or total quantity, through the risk checks."""

        def work(booking: Booking) -> OrderRow:
            row = self._own_open_order(booking, caller, order_id)
            if row.type != OrderType.LIMIT:
                raise order_conflict(TradingReason.NOT_MODIFIABLE, "only limit orders rest")
            total = row.quantity if quantity is None else quantity
            price = row.limit_price if limit_price is None else limit_price
            if total <= row.filled_quantity:
                raise order_conflict(
                    TradingReason.QUANTITY_NOT_ABOVE_FILLED,
                    f"{row.filled_quantity} already filled; the quantity must be above it",
                )
            request = replace(
                stored_request(row, total - row.filled_quantity, modifies=row.id),
                limit_price=price,
            )
            denial = self.engine.check(self.risk, request)
            self._deny_if(booking, caller, "order.modify.denied", request, denial, order=row.id)
            if self.router is not None and self._rests_at_venue(row.id):
                self.router.request_replace(booking, row, total, price or 0, caller.actor)
                return row  # the venue's answer changes it (or leaves it as it was)
            before = {"quantity": row.quantity, "limit_price": price_text(row.limit_price)}
            result = self._requeue(row, request, total)
            row.quantity, row.limit_price = total, price
            row.reserve_price = self.risk.open_order(row.id).price
            after = {"quantity": total, "limit_price": price_text(price)}
            booking.touch(row)
            booking.record(
                "order.modified",
                row.id,
                {"account": row.account_id, "symbol": row.symbol, "before": before, "after": after},
                caller.actor,
            )
            booking.apply(result)
            return row

        return self._submit(caller, work)

    def cancel(self, caller: Caller, order_id: str) -> OrderRow:
        """Cancel an open order of the caller's; always allowed, also while halted."""

        def work(booking: Booking) -> OrderRow:
            row = self._own_open_order(booking, caller, order_id)
            if self.router is not None and self._rests_at_venue(row.id):
                self.router.request_cancel(booking, row, caller.actor)
                return row  # ends when the venue confirms the cancel
            cancellation = self.exchange.cancel(row.symbol, row.id)
            booking.cancelled(cancellation, caller.actor)
            return row

        return self._submit(caller, work)

    def replaced_at_venue(
        self, booking: Booking, row: OrderRow, quantity: int, limit: int, actor: Actor
    ) -> None:
        """A venue confirmed new terms for ``row`` resting there: the order takes them.

        The risk reservation moves to the new terms (checked when they were asked for).
        """
        request = replace(
            stored_request(row, quantity - row.filled_quantity, modifies=row.id),
            limit_price=limit,
        )
        self.risk.accept(request, row.id)
        before = {"quantity": row.quantity, "limit_price": price_text(row.limit_price)}
        row.quantity, row.limit_price = quantity, limit
        row.reserve_price = self.risk.open_order(row.id).price
        after = {"quantity": quantity, "limit_price": price_text(limit)}
        booking.touch(row)
        data = {"account": row.account_id, "symbol": row.symbol, "before": before, "after": after}
        booking.record("order.modified", row.id, data, actor)

    def cancel_all(self, caller: Caller) -> list[OrderRow]:
        """Cancel every open order of the caller's account."""

        def work(booking: Booking) -> list[OrderRow]:
            account_id = self.account_id(booking.context.db, caller)
            return self.withdraw(booking, caller.actor, account=account_id)

        return self._submit(caller, work)

    def withdraw(
        self,
        booking: Booking,
        actor: Actor,
        *,
        account: str | None = None,
        symbol: str | None = None,
    ) -> list[OrderRow]:
        """Cancel open orders of an account and/or symbol (all when neither) inside ``run``.

        Orders resting at outside venues get a cancel request; they end when it is confirmed.
        """
        cancelled: list[Cancellation] = self.exchange.cancel_all(account=account, symbol=symbol)
        for cancellation in cancelled:
            booking.cancelled(cancellation, actor)
        if self.router is not None:
            self._withdraw_at_venues(self.router, booking, actor, (account, symbol))
        return [booking.order(cancellation.order_id) for cancellation in cancelled]

    @staticmethod
    def _withdraw_at_venues(
        router: OrderRouter, booking: Booking, actor: Actor, scope: tuple[str | None, str | None]
    ) -> None:
        """Ask venues to cancel the resting orders of an account and/or symbol (``scope``)."""
        account, symbol = scope
        for order_id in router.resting_orders():
            row = booking.order(order_id)
            if account in {None, row.account_id} and symbol in {None, row.symbol}:
                router.request_cancel(booking, row, actor)

    def expire_day_orders(self, created_before_ns: int) -> int:
        """At the close: cancel open DAY orders placed before ``created_before_ns``."""

        def work(booking: Booking) -> int:
            due = open_day_orders(booking.context.db, created_before_ns)
            for row in due:
                if self._at_venue(row.id) or self._rests_at_venue(row.id):
                    continue  # the venue ends it (a venue expires DAY orders at its close)
                cancelled = self.exchange.cancel(row.symbol, row.id)
                expired = replace(cancelled, reason=CancelReason.EXPIRED)
                booking.cancelled(expired, MARKET_CLOSE)
            return len(due)

        return self.run(MARKET_CLOSE, None, work)

    def housekeeping(self) -> None:
        """The desk's periodic work: new reference data, settlement, expiry at the close."""
        self.refresh_instruments()
        self.settle()
        self.expire_day_orders(previous_close_ns(self.clock.now_ns()))

    def refresh_instruments(self) -> int:
        """Take in instruments loaded or changed in the database since last seen."""

        def work(booking: Booking) -> int:
            state = self._state
            since = state.instruments_seen_ns
            query = select(InstrumentRow).where(InstrumentRow.updated_at_ns > since)
            changed = booking.context.db.scalars(query).all()
            for row in changed:
                self.risk.add_instrument(instrument_of(row))
                state.instruments_seen_ns = max(state.instruments_seen_ns, row.updated_at_ns)
            return len(changed)

        return self.run(SYSTEM, None, work)

    def settle(self) -> int:
        """Move sale proceeds that have settled into settled cash, in memory and stored."""

        def work(booking: Booking) -> int:
            today = business_day(booking.now_ns)
            due = [
                account
                for account in self.risk.accounts.values()
                if account.unsettled and account.unsettled[0][0] <= today
            ]
            for account in due:
                before = account.settled_cash_cents
                account.settle(today)
                booking.touch_account(account.account_id)
                settled = {"settled": str(Money(account.settled_cash_cents - before))}
                booking.record("account.cash.settled", account.account_id, settled, SYSTEM)
            return len(due)

        return self.run(SYSTEM, None, work)

    def post_cash(self, caller: Caller, movement: CashMovement) -> CashPosted:
        """Apply a payment's cash to its account and journal it, alone, in one transaction."""

        def work(booking: Booking) -> CashPosted:
            db = booking.context.db
            row = db.get(TradingAccount, movement.account_id)
            if row is None:
                raise account_not_found()
            account = self.adopt(db, row)
            reference = movement.entry.reference
            done = db.scalar(select(LedgerEntryRow.id).where(LedgerEntryRow.reference == reference))
            if done is not None:
                return CashPosted(done, posted=False, settled_cash_cents=account.settled_cash_cents)
            change = movement.change_cents
            available = account.settled_cash_cents - account.reserved_cents - movement.keep_cents
            if change < 0 and available + change < 0 and not movement.may_overdraw:
                raise insufficient_funds(available, -change)
            account.settled_cash_cents += change
            account.equity_cents += change
            booking.touch_account(row.id)
            booking.context.batch.cash.add(movement.entry)
            facts = {"kind": movement.entry.kind.value, "change": str(Money(change))}
            booking.record("account.cash.moved", row.id, facts, caller.actor)
            return CashPosted(
                movement.entry.id, posted=True, settled_cash_cents=account.settled_cash_cents
            )

        return self.run(caller.actor, caller.request_id, work)

    # -- reads ---------------------------------------------------------------------------

    def account_view(self, db: Session, caller: Caller) -> AccountView:
        """The caller's account as the checks see it now."""
        with self.lock:
            self._ensure_loaded()
            account_id = self.account_id(db, caller)
            account = self.risk.accounts[account_id]
            now = self.clock.now_ns()
            window = self.risk.limits.pdt_window_business_days
            return account_view(
                account,
                trading_state=self.effective_state(account_id).value,
                day_trades=account.day_trades(business_day(now), window),
                now_ns=now,
                instruments=self.risk.instruments,
            )

    def market_prices(self, symbols: list[str]) -> dict[str, int | None]:
        """The reference price of each symbol now (None for one without a price)."""
        with self.lock:
            instruments = self.risk.instruments
            return {
                symbol: item.reference_price if (item := instruments.get(symbol)) else None
                for symbol in symbols
            }

    def effective_state(self, account_id: str) -> TradingState:
        """The most restrictive of the platform's and the account's trading states."""
        order = (TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED)
        account_state = self.risk.account_states.get(account_id, TradingState.ACTIVE)
        return max(self.risk.global_state, account_state, key=order.index)

    def account_id(self, db: Session, caller: Caller) -> str:
        """The caller's account id, loading an account opened since start-up; 403 if none."""
        account_id = self._state.user_accounts.get(caller.user_id)
        if account_id is not None:
            return account_id
        row = account_of_user(db, caller.user_id)
        if row is None:
            raise no_account()
        self.adopt(db, row)
        return row.id

    def adopt(self, db: Session, row: TradingAccount) -> AccountRisk:
        """The risk state of an account row, loading one opened since start-up."""
        with self.lock:
            state = self._state
            if row.id not in state.risk.accounts:
                load_account(db, state.risk, row)
            state.account_owners[row.id] = row.user_id
            state.user_accounts[row.user_id] = row.id
            return state.risk.accounts[row.id]

    def own_order(self, db: Session, caller: Caller, order_id: str) -> OrderRow:
        """One of the caller's orders; another account's order answers 404."""
        row = db.get(OrderRow, order_id)
        if row is None or row.account_id != self.account_id(db, caller):
            raise order_not_found()
        return row

    # -- the unit of work ----------------------------------------------------------------

    def run(self, actor: Actor, request_id: str | None, work: Callable[[Booking], T]) -> T:
        """Do ``work`` alone, at once, under the lock in one transaction; publish after.

        For controls and housekeeping (order requests are grouped: ``place`` and the
        others). A refusal (``ProblemError``) is raised before anything in memory
        changes; the transaction is committed only if it keeps its changes (a denial's
        audit event). Any other failure means memory may be ahead of the database, so it
        is rebuilt and the caller gets a 503.
        """
        pending = Pending(actor, request_id, work)
        self._batches.commit([pending], alone=True)  # type: ignore[list-item]
        return pending.answer()

    def close(self) -> None:
        """Give the desk's database connection back (at shutdown; batches take it again)."""
        self._batches.close()

    def _submit(self, caller: Caller, work: Callable[[Booking], T]) -> T:
        """Queue an order request for the next batch; its answer once that has committed."""
        result: T = self._batches.submit(Pending(caller.actor, caller.request_id, work))
        return result

    def _booking(self, db: Session, writes: BatchWrites, pending: Pending[object]) -> Booking:
        state = self._state
        context = Context(
            db,
            state.risk,
            self.audit,
            self.clock,
            self._ids,
            pending.actor,
            pending.request_id,
            state.sequence_base,
            writes,
            self._watching,
        )
        return Booking(context)

    def _loaded(self) -> bool:
        """Load the memory again if a rebuild failed; False while it cannot."""
        if self._stale:
            self._rebuild()
        return not self._stale

    def _ensure_loaded(self) -> None:
        if not self._loaded():
            raise unavailable("trading is unavailable while its state cannot be loaded; retry")

    def _rebuild(self) -> None:
        try:
            self.start()
        except Exception:
            log.exception("trading.rebuild_failed")
            self._state = DeskState(self.engine.new_context(self.limits), Exchange(), {}, {}, 0)
            self._state.risk.global_state = TradingState.HALTED  # fail closed until loaded
            self._stale = True

    def _send(self, feed: list[FeedEvent]) -> None:
        if self.router is not None:
            self.router.after_commit(feed)
        publish = self._publish
        if publish is None:
            return
        owners, watched = self._state.account_owners, self._watched
        for account_id, drafted in feed:
            user_id = owners.get(account_id)
            if user_id is None:
                continue
            if not callable(drafted):
                publish(user_id, drafted)
            elif watched is None or watched(user_id):  # a subscriber arrived since
                publish(user_id, drafted())

    def _watching(self, account_id: str) -> bool:
        """Whether the account's feed events must be built when drafted."""
        if self._publish is None:
            return False
        watched, user_id = self._watched, self._state.account_owners.get(account_id)
        return watched is None or (user_id is not None and watched(user_id))

    # -- helpers -------------------------------------------------------------------------

    def _note_caller(self, account_id: str, caller: Caller) -> None:
        # A known account missing from memory raises here: the desk rebuilds (503, retry).
        self.risk.accounts[account_id].mfa_enrolled = not caller.principal.enrollment_only

    def _deny_if(  # noqa: PLR0913 - the denial and where it is recorded
        self,
        booking: Booking,
        caller: Caller,
        event: str,
        request: OrderRequest,
        denial: Denial | None,
        *,
        order: str | None = None,
    ) -> None:
        if denial is None:
            return
        data = request_terms(request) | {
            "order": order,
            "reason_code": denial.reason_code.value,
            "inputs": denial.inputs,
            "threshold": denial.threshold,
        }
        booking.record(event, request.account_id, data, caller.actor)
        raise risk_denied(denial)

    def _route(self, booking: Booking, row: OrderRow, ask: OrderAsk) -> RouteChoice:
        router = self.router
        if router is None:
            return INTERNAL_BOOK
        limit = self._book_order(row.id, row.account_id, ask).limit_price
        book = self.exchange.book(ask.symbol)
        return router.route(booking, row, book, limit.units if limit else 0)

    def _at_venue(self, order_id: str) -> bool:
        return self.router is not None and self.router.at_venue(order_id)

    def _rests_at_venue(self, order_id: str) -> bool:
        return self.router is not None and self.router.rests_at_venue(order_id)

    def _book_order(
        self, order_id: str, account_id: str, ask: OrderAsk, cap: int | None = None
    ) -> Order:
        """The book's order; a market order trades as IOC at its collar bound, never beyond.

        Nor beyond ``cap``: the NBBO, when routing keeps the order in the internal book.
        The ask passed the checks (positive quantity, a positive limit on the tick grid),
        so its order is built without the book's own checks, unless a cap moves its price.
        """
        side = ask.side
        if ask.type is not OrderType.LIMIT:
            price = self._collar_bound(ask.symbol, side)
        elif ask.limit_price is None:
            raise LookupError("a limit order passed the checks without a limit price")
        else:
            price = ask.limit_price
        if cap is None:
            return checked_limit_order(
                order_id,
                symbol=ask.symbol,
                account=account_id,
                side=side,
                quantity=ask.quantity,
                limit_price=Price(price),
                time_in_force=ask.time_in_force,
            )
        price = min(price, cap) if side is Side.BUY else max(price, cap)
        return Order(
            order_id=order_id,
            symbol=ask.symbol,
            account=account_id,
            side=side,
            quantity=ask.quantity,
            order_type=OrderType.LIMIT,
            limit_price=Price(price),
            time_in_force=ask.time_in_force,
        )

    def _collar_bound(self, symbol: str, side: Side) -> int:
        """The collar's edge on the order's side, on the tick grid and inside the LULD band."""
        instrument = self.risk.instruments[symbol]
        bound = market_order_bound(self.risk.limits, instrument, side)
        if bound is None:
            raise LookupError("a market order passed the checks without a reference price")
        return bound

    def _requeue(self, row: OrderRow, request: OrderRequest, total: int) -> Any:  # noqa: ANN401 - SubmitResult
        book = self.exchange.book(row.symbol)
        working = book.open_order(row.id)
        if working is None:
            raise LookupError(f"open order {row.id} is not in its book")
        earlier_fills = row.filled_quantity - working.filled_quantity
        self.risk.accept(request, row.id)
        try:
            return self.exchange.modify(
                row.symbol, row.id, Price(request.limit_price or 0), total - earlier_fills
            )
        except MatchingError as error:
            raise LookupError(f"the book refused a checked modify: {error}") from error

    def _placed_before(
        self, booking: Booking, account_id: str, client_order_id: str
    ) -> OrderRow | None:
        """The order this client order id named, in this batch or stored, if any."""
        in_batch = booking.context.batch.placed.get((account_id, client_order_id))
        if in_batch is not None or not self._state.client_ids.may_contain(
            account_id, client_order_id
        ):
            return in_batch
        return stored_by_client_id(booking.context.db, account_id, client_order_id)

    def _own_open_order(self, booking: Booking, caller: Caller, order_id: str) -> OrderRow:
        """One of the caller's open orders, placed earlier in this batch or stored."""
        db = booking.context.db
        row = booking.stored_order(order_id)
        if row is None or row.account_id != self.account_id(db, caller):
            raise order_not_found()
        if row.status not in OPEN_STATUSES:
            raise order_conflict(TradingReason.ORDER_NOT_OPEN, f"the order is {row.status}")
        if self._at_venue(row.id):
            raise order_conflict(
                TradingReason.AT_VENUE, "the order is working at a venue; it ends there shortly"
            )
        return row


def _settle(future: asyncio.Future[T], pending: Pending[T]) -> None:
    """Give ``future`` the answer of ``pending`` (unless its caller stopped waiting)."""
    if future.done():
        return
    if pending.error is not None:
        future.set_exception(pending.error)
    else:
        future.set_result(pending.answer())
