"""The router inside the desk: routes new orders, sends them, books venues' reports.

Order of events for a routed order: the desk checks it, the router decides (inside the
batch, under the desk's lock) and the decision row, the order row and the audit events
commit together; only then is the NewOrderSingle sent (the desk writes before it
routes). Each execution report is booked in a unit of work of the desk like an internal
execution (order, execution, position, account, audit, the customer's feed); its
venue and ExecID are stored, so a report sent again is never booked twice, and a fill
beyond the order's quantity is refused. When the venue is done, the unfilled rest of a
DAY or GTC limit order rests in the internal book; any other rest is cancelled.

A venue whose session is down, or that left an order unacknowledged past the timeout,
is out of routing until it answers again; an order sent to it is not lost: the session
resends it on reconnect and the venue's reports on it come back then (and a timed-out
order gets a cancel request).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.audit.records import Actor
from tradeguard.core.clock import Clock
from tradeguard.core.money import Price
from tradeguard.logs import get_logger
from tradeguard.market.rule606 import OrderKind
from tradeguard.market.venue_book import VenueQuoteBook
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce
from tradeguard.routing.fix.messages import (
    FIX_BUY,
    FIX_SELL,
    FIX_SELL_SHORT,
    CancelReject,
    ExecType,
    ExecutionReport,
    OrdStatus,
    VenueOrder,
)
from tradeguard.routing.models import RoutingDecisionRow, VenueFillRow
from tradeguard.routing.policy import (
    Decision,
    FeeTerms,
    Market,
    RouteAsk,
    VenueTerms,
    decide,
    order_kind,
)
from tradeguard.routing.venue import SimulatedVenue
from tradeguard.trading.matching.engine import OrderBook
from tradeguard.trading.matching.model import Cancellation, CancelReason, Fill
from tradeguard.trading.models import OrderRow
from tradeguard.trading.orders.booking import Booking, FeedEvent
from tradeguard.trading.orders.desk import RouteChoice, TradingDesk
from tradeguard.trading.orders.loader import resting_order

log = get_logger("tradeguard.routing")
ROUTER = Actor.system("order-router")
ROUTE_INTENT = ""
"""The feed's account id of a routed order: no customer's feed, the router after commit."""
INTERNAL_STATUS = "internal"
ROUTED_STATUS = "routed"
DONE_STATUS = "done"
DEPTH_LEVELS = 10
WATCH_SECONDS = 0.05
FIX_SIDES = {Side.BUY: FIX_BUY, Side.SELL: FIX_SELL, Side.SELL_SHORT: FIX_SELL_SHORT}
RESTING = frozenset({TimeInForce.DAY.value, TimeInForce.GTC.value})


class Link(Protocol):
    """What the router needs of a venue's session (``VenueLink``)."""

    code: str

    @property
    def up(self) -> bool:
        """Whether the session is logged on."""
        ...

    def send_order(self, order: VenueOrder, *, resend: bool = False) -> None:
        """Send a NewOrderSingle."""
        ...

    def cancel(self, order: VenueOrder) -> None:
        """Send an OrderCancelRequest."""
        ...


class Router:
    """Best-execution routing for one desk over the venues' FIX sessions."""

    def __init__(
        self,
        terms: Mapping[str, VenueTerms],
        quotes: VenueQuoteBook,
        clock: Clock,
        *,
        ack_timeout_seconds: float = 2.0,
    ) -> None:
        self.terms = dict(terms)
        self.quotes = quotes
        self.clock = clock
        self.ack_timeout_seconds = ack_timeout_seconds
        self.links: dict[str, Link] = {}
        self.desk: TradingDesk | None = None
        self.simulated: dict[str, SimulatedVenue] = {}
        """The simulated venues behind the links, when they run in this process."""
        self.silent: set[str] = set()
        """Venues that left an order unacknowledged past the timeout (out of routing)."""
        self._working: dict[str, str] = {}
        self._orders: dict[str, VenueOrder] = {}
        self._waiting: dict[str, float] = {}
        self._acked_ns: dict[str, int] = {}
        self._recover: list[str] = []
        self._stop = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, daemon=True, name="router")

    def attach(
        self,
        desk: TradingDesk,
        links: Mapping[str, Link],
        simulated: Mapping[str, SimulatedVenue] | None = None,
    ) -> None:
        """Route ``desk``'s orders over ``links`` (by venue code) to ``simulated`` venues."""
        self.desk = desk
        self.links = dict(links)
        self.simulated = dict(simulated or {})
        desk.router = self

    def start(self) -> None:
        """Resend the orders left at venues by an earlier run; watch acknowledgements."""
        for order_id in self._recover:
            self._resend(order_id)
        self._recover = []
        self._watchdog.start()

    def stop(self) -> None:
        """Stop watching acknowledgements."""
        self._stop.set()

    def reachable(self, venue: str) -> bool:
        """Whether ``venue`` takes orders now: its session is up and it answers."""
        link = self.links.get(venue)
        return link is not None and link.up and venue not in self.silent

    # -- inside the desk's batch ---------------------------------------------------------

    def route(self, booking: Booking, row: OrderRow, book: OrderBook, limit: int) -> RouteChoice:
        """Decide and record ``row``'s route; the internal book or a venue (sent later)."""
        decision, market = self.decide(row, book, booking.now_ns)
        self._record(booking, row, decision, market, limit)
        if decision.internal:
            return RouteChoice(internal=True, cap=decision.cap)
        order = VenueOrder(row.id, row.symbol, FIX_SIDES[Side(row.side)], row.quantity, limit)
        self._working[row.id] = decision.venue
        self._orders[row.id] = order
        booking.feed.append((ROUTE_INTENT, {"venue": decision.venue, "order": order}))
        return RouteChoice(internal=False)

    def decide(self, row: OrderRow, book: OrderBook, now: int) -> tuple[Decision, Market]:
        """The policy's decision for ``row`` on the market as it stands at ``now``."""
        fresh = self.quotes.venue_quotes(row.symbol, now)
        market = Market(
            max((quote.bid for quote in fresh), default=None),
            min((quote.ask for quote in fresh), default=None),
            [quote for quote in fresh if self.reachable(quote.venue)],
            _depth(book, buy=row.side == Side.BUY),
        )
        return decide(_ask(row), market, self.terms), market

    def at_venue(self, order_id: str) -> bool:
        """Whether the order is working at a venue now."""
        return order_id in self._working

    def reload(self, db: Session) -> set[str]:
        """The orders working at venues, as stored (the desk keeps them out of its book).

        Before the router started (a start of the process), they are the orders to send
        again to their venues.
        """
        query = select(RoutingDecisionRow).where(RoutingDecisionRow.status == ROUTED_STATUS)
        working = db.scalars(query).all()
        self._working = {row.order_id: row.venue for row in working}
        if not self._watchdog.is_alive():
            self._recover = [row.order_id for row in working]
            self._orders.update(_venue_orders(db, working))
        return set(self._working)

    def after_commit(self, feed: list[FeedEvent]) -> None:
        """Send the orders the committed batch routed out."""
        for account_id, event in feed:
            if account_id == ROUTE_INTENT:
                order: VenueOrder = event["order"]
                self._waiting[order.cl_ord_id] = time.monotonic()
                self.links[event["venue"]].send_order(order)

    # -- reports from venues -------------------------------------------------------------

    def on_report(self, venue: str, report: ExecutionReport) -> None:
        """Book a venue's execution report (on its session's thread)."""
        self.silent.discard(venue)
        order_id = report.cl_ord_id
        if order_id in self._waiting:
            self._acked_ns.setdefault(order_id, self.clock.now_ns())
            if report.done:
                self._waiting.pop(order_id, None)
            else:
                self._waiting[order_id] = time.monotonic()  # heard of: the clock restarts
        if report.exec_type is ExecType.NEW or self.desk is None:
            return
        desk = self.desk
        desk.run(ROUTER, None, lambda booking: self._book(booking, desk, venue, report))

    def on_cancel_reject(self, venue: str, reject: CancelReject) -> None:
        """A venue that never had an order: the order ends here, unfilled (it cannot fill)."""
        self.silent.discard(venue)
        order_id = reject.orig_cl_ord_id
        if not reject.unknown_order or self._working.get(order_id) != venue:
            return
        self._waiting.pop(order_id, None)
        unknown = ExecutionReport(
            order_id, f"unknown-{order_id}", ExecType.REJECTED, OrdStatus.REJECTED, 0, 0, 0, 0,
            "the venue never received the order",
        )  # fmt: skip
        self.on_report(venue, unknown)

    def _book(
        self, booking: Booking, desk: TradingDesk, venue: str, report: ExecutionReport
    ) -> None:
        db = booking.context.db
        decision = db.get(RoutingDecisionRow, report.cl_ord_id)
        if decision is None or decision.venue != venue:
            log.warning("routing.report.unknown_order", venue=venue, order=report.cl_ord_id)
            return
        if report.last_qty > 0:
            self._fill(booking, decision, report)
        if report.done and decision.status == ROUTED_STATUS:
            self._done(booking, desk, decision, report)

    def _fill(
        self, booking: Booking, decision: RoutingDecisionRow, report: ExecutionReport
    ) -> None:
        db = booking.context.db
        if db.get(VenueFillRow, (decision.venue, report.exec_id)) is not None:
            return  # a report sent again: booked already
        row = booking.order(decision.order_id)
        if row.filled_quantity + report.last_qty > row.quantity:
            log.error("routing.overfill_refused", order=row.id, exec_id=report.exec_id)
            return
        fill = Fill(
            symbol=row.symbol,
            maker_order_id=f"{decision.venue}:{report.exec_id}",
            taker_order_id=row.id,
            maker_account=decision.venue,
            taker_account=row.account_id,
            price=Price(report.last_px),
            quantity=report.last_qty,
            aggressor_side=Side(row.side).book_side,
            sequence=0,
        )
        booking.venue_fill(fill)
        nbbo = self.quotes.nbbo(row.symbol, booking.now_ns)
        db.add(
            VenueFillRow(
                venue=decision.venue,
                exec_id=report.exec_id,
                order_id=row.id,
                quantity=report.last_qty,
                price=report.last_px,
                midpoint_after=nbbo.midpoint if nbbo and not nbbo.crossed else None,
                executed_at_ns=booking.now_ns,
            )
        )
        ours = {"order": row.id, "account": row.account_id}
        theirs = {"order": fill.maker_order_id, "account": decision.venue}
        buy, sell = (ours, theirs) if row.side == Side.BUY else (theirs, ours)
        booking.record(
            "trade.executed",
            row.symbol,
            {
                "symbol": row.symbol,
                "quantity": report.last_qty,
                "price": str(fill.price),
                "sequence": fill.maker_order_id,
                "buy": buy,
                "sell": sell,
                "aggressor": Side(row.side).book_side.value,
                "venue": decision.venue,
            },
            ROUTER,
        )

    def _done(
        self,
        booking: Booking,
        desk: TradingDesk,
        decision: RoutingDecisionRow,
        report: ExecutionReport,
    ) -> None:
        row = booking.order(decision.order_id)
        decision.status = DONE_STATUS
        decision.done_at_ns = booking.now_ns
        decision.acked_at_ns = self._acked_ns.pop(row.id, None)
        decision.venue_text = report.text[:200] or None
        self._working.pop(row.id, None)
        self._orders.pop(row.id, None)
        remaining = row.quantity - row.filled_quantity
        rests = row.type == OrderType.LIMIT and row.time_in_force in RESTING
        if remaining > 0 and rests and row.limit_price is not None:
            booking.apply(desk.exchange.submit(resting_order(row, remaining)))
        elif remaining > 0:
            reason = (
                CancelReason.IOC_REMAINDER if row.filled_quantity else CancelReason.NO_LIQUIDITY
            )
            cancellation = Cancellation(
                row.id,
                row.symbol,
                row.account_id,
                Side(row.side),
                remaining,
                row.filled_quantity,
                reason,
            )
            booking.cancelled(cancellation, ROUTER)
        booking.record(
            "order.route.done",
            row.id,
            {
                "venue": decision.venue,
                "status": report.status.value,
                "filled_quantity": row.filled_quantity,
                "remaining": remaining,
                "rests_internally": bool(remaining and rests),
                "text": report.text,
            },
            ROUTER,
        )

    # -- helpers -------------------------------------------------------------------------

    def _record(
        self,
        booking: Booking,
        row: OrderRow,
        decision: Decision,
        market: Market,
        limit: int,
    ) -> None:
        terms = self.terms.get(decision.venue)
        kind = _kind(row, market)
        fees = terms.fees(kind) if terms else FeeTerms()
        reasons = [reason.value for reason in decision.reasons]
        booking.context.db.add(
            RoutingDecisionRow(
                order_id=row.id,
                account_id=row.account_id,
                symbol=row.symbol,
                side=row.side,
                order_type=row.type,
                quantity=row.quantity,
                venue=decision.venue,
                reasons=",".join(reasons),
                nbbo_bid=market.nbbo_bid,
                nbbo_ask=market.nbbo_ask,
                sent_limit=None if decision.internal else limit,
                pfof=fees.pfof,
                access_fee=fees.access_fee,
                rebate=fees.rebate,
                order_kind=kind.value,
                status=INTERNAL_STATUS if decision.internal else ROUTED_STATUS,
                routed_at_ns=booking.now_ns,
            )
        )
        nbbo = {"bid": _text(market.nbbo_bid), "ask": _text(market.nbbo_ask)}
        data = {"venue": decision.venue, "reasons": reasons, "nbbo": nbbo, "symbol": row.symbol}
        booking.record("order.routed", row.id, data, ROUTER)

    def _resend(self, order_id: str) -> None:
        venue, order = self._working.get(order_id), self._orders.get(order_id)
        if venue is None or order is None or venue not in self.links:
            return
        self._waiting[order_id] = time.monotonic()
        self.links[venue].send_order(order, resend=True)

    def _watch(self) -> None:
        """Take a venue out of routing when it leaves an order unanswered too long.

        The order gets a cancel request, again each timeout until the venue answers: a
        cancel, its fills, or a refusal saying it never had the order.
        """
        while not self._stop.wait(WATCH_SECONDS):
            cutoff = time.monotonic() - self.ack_timeout_seconds
            for order_id, sent in list(self._waiting.items()):
                venue = self._working.get(order_id)
                if sent > cutoff or venue is None:
                    continue
                self._waiting[order_id] = time.monotonic()  # asked again until answered
                if venue not in self.silent:
                    log.error("routing.venue.not_answering", venue=venue, order=order_id)
                self.silent.add(venue)
                order = self._orders.get(order_id)
                if order is not None and venue in self.links:
                    self.links[venue].cancel(order)


def _ask(row: OrderRow) -> RouteAsk:
    limit = row.limit_price if row.type == OrderType.LIMIT else None
    return RouteAsk(row.side == Side.BUY, row.quantity, limit)


def _kind(row: OrderRow, market: Market) -> OrderKind:
    """The order's Rule 606 type on receipt: against the NBBO, or the internal book's best."""
    ask = _ask(row)
    opposite = market.nbbo_ask if ask.buy else market.nbbo_bid
    if opposite is None and market.internal_depth:
        opposite = market.internal_depth[0][0]
    return order_kind(ask, opposite)


def _depth(book: OrderBook, *, buy: bool) -> list[tuple[int, int]]:
    """The internal book's side an order of ``buy`` would trade against, best first."""
    best = book.best_ask if buy else book.best_bid
    if best is None:
        return []
    depth = book.depth(DEPTH_LEVELS)
    levels = depth.asks if buy else depth.bids
    return [(level.price.units, level.quantity) for level in levels]


def _venue_orders(db: Session, decisions: Sequence[RoutingDecisionRow]) -> dict[str, VenueOrder]:
    """The venue orders of routed decisions, for the remaining quantity of each."""
    orders: dict[str, VenueOrder] = {}
    for decision in decisions:
        row = db.get(OrderRow, decision.order_id)
        if row is None or decision.sent_limit is None:
            continue
        remaining = row.quantity - row.filled_quantity
        side = FIX_SIDES[Side(row.side)]
        orders[row.id] = VenueOrder(row.id, row.symbol, side, remaining, decision.sent_limit)
    return orders


def _text(price: int | None) -> str | None:
    return None if price is None else str(Price(price))
