"""One unit of order work written down: order rows, executions, positions, accounts, audit.

The desk hands a ``Booking`` what the book did (fills, cancellations); the booking keeps
the risk context in step and collects, in the batch's ``BatchWrites``, the rows and audit
events to write and the feed events to publish once the batch has committed. Several
units of work share one batch (group commit): each sees the orders the earlier ones
placed or changed through ``BatchWrites.orders``, even before anything is flushed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from tradeguard.audit.recorder import AuditTrail, head_lock_sql
from tradeguard.audit.records import Actor, EventRecord
from tradeguard.core.clock import Clock
from tradeguard.core.ids import UUIDv7Generator, new_id_text
from tradeguard.db.pipeline import sent_together
from tradeguard.ledger.desk_cash import DeskCash
from tradeguard.risk.context import RiskContext, UnknownOrderError
from tradeguard.risk.model import AccountKind
from tradeguard.risk.order_terms import Side
from tradeguard.risk.pricing import business_day
from tradeguard.trading.controls.locate_store import sync_locate
from tradeguard.trading.matching.model import Cancellation, Fill, SubmitResult
from tradeguard.trading.models import ExecutionRow, OrderRow
from tradeguard.trading.orders.batch_rows import (
    detach_orders,
    insert_executions,
    insert_orders,
    load_order,
    read_stored,
    update_orders,
    write_accounts,
    write_positions,
    write_references,
)
from tradeguard.trading.orders.views import execution_json, order_json, order_status

MATCHING = Actor.system("matching")
Unbuilt = Callable[[], dict[str, Any]]
"""A feed event drafted while nobody watched its owner: built at publication if someone does."""
FeedEvent = tuple[str, dict[str, Any] | Unbuilt]
"""An account id and the event its owner's feed receives (built, or built when needed)."""


@dataclass(slots=True)
class BatchWrites:
    """What the units of work of one batch write together, after all of them ran."""

    orders: dict[str, OrderRow] = field(default_factory=dict)
    """Every order placed, read or changed in the batch, by id (new ones are not flushed)."""
    placed: dict[tuple[str, str], OrderRow] = field(default_factory=dict)
    """Orders placed in the batch by (account, client order id)."""
    executions: list[ExecutionRow] = field(default_factory=list)
    accounts: set[str] = field(default_factory=set)
    positions: set[tuple[str, str]] = field(default_factory=set)
    events: list[EventRecord] = field(default_factory=list)
    cash: DeskCash = field(default_factory=DeskCash)
    """The batch's cash movements, journaled with its rows."""

    references: dict[str, tuple[int, int]] = field(default_factory=dict)
    """The last sale of each symbol traded in the batch: price and time."""

    def commit(self, db: Session, risk: RiskContext, audit: AuditTrail, now_ns: int) -> None:
        """The rows from memory, one statement per table; the cash journal; the events; commit.

        Stored orders the batch changed leave the session; whatever else the units of
        work changed through the session (controls, routing, locates) is flushed before
        the accounts and positions are written from memory, so memory has the last word.
        Everything the writes depend on is read first, in one round trip on PostgreSQL:
        which positions are stored, the accounts' stored cash and the audit sequencer's
        head with its lock (``read_stored``). Then every write reads nothing back (stored
        orders, positions and accounts from memory, the cash journal, new orders as the
        batch left them, executions, last sales, the audit events), and all of them go to
        PostgreSQL with the commit in one round trip (``sent_together``), unless a
        checkpoint falls due: its signing key is read first.
        """
        connection = db.connection()
        placed = {row.id for row in self.placed.values()}
        changes = detach_orders(db, [row for key, row in self.orders.items() if key not in placed])
        for account_id, symbol in self.positions:
            sync_locate(db, risk.accounts[account_id], symbol)
        db.flush()
        lock = head_lock_sql(connection.dialect.name)
        stored, head = read_stored(connection, self.accounts, self.positions, lock)
        audit.adopt_locked_head(db, head)
        numbered = audit.number_batch(db, self.events)
        checkpoint = numbered.checkpoint_due
        traded = {execution.account_id for execution in self.executions}
        with nullcontext() if checkpoint else sent_together(connection):
            update_orders(connection, changes)
            write_positions(connection, risk, self.positions, stored, now_ns)
            write_accounts(
                connection, risk, self.accounts, stored, now_ns=now_ns, observe=self.cash.observe
            )
            self.cash.write(db, traded, new_id_text, now_ns)
            insert_orders(connection, self.placed.values())  # before their executions
            insert_executions(connection, self.executions)
            write_references(connection, self.references)
            audit.insert_numbered(db, numbered)
            if checkpoint:
                audit.checkpoint_if_due(db)
            db.commit()


@dataclass(frozen=True, slots=True)
class Context:
    """Where the work happens: the transaction, the risk state and who is acting."""

    db: Session
    risk: RiskContext
    audit: AuditTrail
    clock: Clock
    ids: UUIDv7Generator
    """Where the clock's ids come from (held: no look-up per id)."""
    actor: Actor
    request_id: str | None
    sequence_base: int
    batch: BatchWrites
    watched: Callable[[str], bool]
    """Whether an account's owner has a live feed subscriber now (their events are built)."""


class Booking:
    """The rows, events and feed messages of one unit of order work."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.now_ns = context.clock.now_ns()
        self.feed: list[FeedEvent] = []
        self.changed = False
        """Whether this unit of work changed an order, account or position."""
        self.first_event = len(context.batch.events)
        """Where this unit of work's audit events start in the batch's."""
        self._orders: dict[str, OrderRow] = {}
        self._accounts: set[str] = set()

    def order(self, order_id: str) -> OrderRow:
        """An order of this batch, or the stored one (read once per batch)."""
        row = self.stored_order(order_id)
        if row is None:
            raise LookupError(f"order {order_id} is not stored")
        return row

    def stored_order(self, order_id: str) -> OrderRow | None:
        """An order of this batch, or the stored one, or None; written back with the batch."""
        row = self._orders.get(order_id)
        if row is None:
            known = self.context.batch.orders
            row = known.get(order_id)
            if row is None:
                row = load_order(self.context.db.connection(), order_id)
                if row is None:
                    return None
                known[order_id] = row
            self._orders[order_id] = row
        return row

    def track(self, row: OrderRow) -> None:
        """Include an order (new or changed) in what is written and published."""
        self._orders[row.id] = row
        self.context.batch.orders[row.id] = row
        self.changed = True

    def placed(self, row: OrderRow) -> None:
        """A new order: written with the batch, found by its client order id until then."""
        self.context.batch.placed[row.account_id, row.client_order_id] = row
        self.track(row)

    def touch_account(self, account_id: str) -> None:
        """Write this account's row when the batch is written."""
        self._accounts.add(account_id)
        self.context.batch.accounts.add(account_id)
        self.changed = True

    def record(self, event: str, subject: str, data: Mapping[str, Any], actor: Actor) -> None:
        """An audit event, appended with the batch's in this unit of work's place."""
        context = self.context
        draft = context.audit.draft(event, actor, subject, data, context.request_id)
        context.batch.events.append(draft)

    def discard_events(self) -> None:
        """Forget this unit of work's audit events (a refusal that keeps nothing)."""
        del self.context.batch.events[self.first_event :]

    def apply(self, result: SubmitResult) -> None:
        """Book everything one submit or modify did."""
        for fill in result.fills:
            self.fill(fill)
        for cancellation in result.cancellations:
            self.cancelled(cancellation)
        state = result.order
        row = self.order(state.order_id)
        self.track(row)
        row.book_sequence = self.context.sequence_base + state.sequence

    def fill(self, fill: Fill) -> None:
        """One trade: both orders, both executions, the risk state and the reference price."""
        price = fill.price.units
        buy, sell = _sides(fill)
        for order_id, liquidity in ((fill.maker_order_id, "maker"), (fill.taker_order_id, "taker")):
            self._execute(order_id, fill, liquidity)
        self._mark_reference(fill.symbol, price)
        self.record(
            "trade.executed",
            fill.symbol,
            {
                "symbol": fill.symbol,
                "quantity": fill.quantity,
                "price": str(fill.price),
                "sequence": fill.sequence,
                "buy": buy,
                "sell": sell,
                "aggressor": fill.aggressor_side.value,
            },
            MATCHING,
        )

    def venue_fill(self, fill: Fill) -> None:
        """An execution an outside venue reported for our order (the fill's taker)."""
        self._execute(fill.taker_order_id, fill, "taker")

    def cancelled(self, cancellation: Cancellation, actor: Actor = MATCHING) -> None:
        """An order (or its remainder) left the book unfilled."""
        with suppress(UnknownOrderError):  # already released by its fills
            self.context.risk.cancel(cancellation.order_id)
        row = self.order(cancellation.order_id)
        row.cancel_reason = cancellation.reason.value
        self.touch(row)
        self.record(
            "order.cancelled",
            row.id,
            {
                "account": row.account_id,
                "symbol": row.symbol,
                "reason": cancellation.reason.value,
                "cancelled_quantity": cancellation.cancelled_quantity,
                "filled_quantity": row.filled_quantity,
            },
            actor,
        )

    def finish(self) -> None:
        """Flag pattern day traders and queue every touched order for the feed."""
        for account_id in self._accounts:
            self._flag_pattern_day_trader(account_id)
        for row in self._orders.values():
            status = order_status(row)
            if row.status != status:  # a set is a tracked change, dearer than a read
                row.status = status
            self._publish(row.account_id, partial(order_event, row))

    def _execute(self, order_id: str, fill: Fill, liquidity: str) -> None:
        context = self.context
        context.risk.fill(order_id, fill.quantity, fill.price.units)
        row = self.order(order_id)
        row.filled_quantity += fill.quantity
        row.filled_units += fill.quantity * fill.price.units
        self.touch(row)
        execution = ExecutionRow(
            id=context.ids.new_text(),
            trade_sequence=fill.sequence,
            order_id=row.id,
            account_id=row.account_id,
            symbol=row.symbol,
            side=row.side,
            quantity=fill.quantity,
            price=fill.price.units,
            liquidity=liquidity,
            executed_at_ns=self.now_ns,
        )
        context.batch.executions.append(execution)
        self.touch_account(row.account_id)
        context.batch.positions.add((row.account_id, row.symbol))
        self._publish(row.account_id, partial(execution_event, execution))

    def _publish(self, account_id: str, event: Unbuilt) -> None:
        """Queue a feed event, built now only if the account's owner is watching.

        One drafted unbuilt is built after the commit if a subscriber arrived meanwhile:
        from the order as the batch left it (the state the database holds).
        """
        self.feed.append((account_id, event() if self.context.watched(account_id) else event))

    def touch(self, row: OrderRow) -> None:
        """Include an order that changed: its ``updated_at`` moves to now."""
        row.updated_at_ns = self.now_ns
        row.status = order_status(row)
        self.track(row)

    def _mark_reference(self, symbol: str, price: int) -> None:
        """The last sale is the new reference price, in memory and in the stored instrument."""
        risk = self.context.risk
        instrument = risk.instruments.get(symbol)
        if instrument is not None:
            risk.add_instrument(
                replace(instrument, reference_price=price, reference_at_ns=self.now_ns)
            )
        self.context.batch.references[symbol] = (price, self.now_ns)

    def _flag_pattern_day_trader(self, account_id: str) -> None:
        """A margin account under the equity minimum that made its 4th day trade is flagged."""
        risk = self.context.risk
        account, limits = risk.accounts[account_id], risk.limits
        today = business_day(self.now_ns)
        restricted = account.pdt_restricted_until_ns
        if (
            restricted is not None and restricted > self.now_ns
        ) or account.kind is not AccountKind.MARGIN:
            return
        day_trades = account.day_trades(today, limits.pdt_window_business_days)
        if day_trades <= limits.pdt_day_trade_limit:
            return
        if account.equity_cents >= limits.pdt_equity_threshold_cents:
            return
        risk.flag_pattern_day_trader(account_id)
        self.record(
            "account.pdt.flagged",
            account_id,
            {
                "day_trades": day_trades,
                "equity_cents": account.equity_cents,
                "restricted_until_ns": account.pdt_restricted_until_ns,
            },
            MATCHING,
        )


def order_event(row: OrderRow) -> dict[str, Any]:
    """The feed's event for an order as it stands."""
    return {"type": "order", "order": order_json(row)}


def execution_event(row: ExecutionRow) -> dict[str, Any]:
    """The feed's event for an execution."""
    return {"type": "execution", "execution": execution_json(row)}


def _sides(fill: Fill) -> tuple[dict[str, str], dict[str, str]]:
    maker = {"order": fill.maker_order_id, "account": fill.maker_account}
    taker = {"order": fill.taker_order_id, "account": fill.taker_account}
    return (taker, maker) if fill.aggressor_side is Side.BUY else (maker, taker)
