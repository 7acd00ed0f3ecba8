"""The router inside the desk: routes new orders, sends them, books venues' reports.

Order of events for a routed order: the desk checks it, the router decides (inside the
batch, under the desk's lock) and the decision row, the order row and the audit events
commit together; only then is the NewOrderSingle sent (the desk writes before it
routes). Each execution report is booked in a unit of work of the desk like an internal
execution (order, execution, position, account, audit, the customer's feed); its
venue and ExecID are stored, so a report sent again is never booked twice, and a fill
beyond the order's quantity is refused. When the venue is done with an order sent
immediate-or-cancel, the unfilled rest of a DAY or GTC limit order rests in the internal
book; any other rest is cancelled.

A non-marketable DAY limit order rests at the venue ``rest_venue`` when it is in reach
(decision 76): it is sent DAY and stays ``resting`` there; the venue fills it later
(unsolicited reports, booked the same way). The customer's cancel or modify of it is
recorded, then sent after commit as an OrderCancelRequest or OrderCancelReplaceRequest
(ClOrdID ``<order id>:<n>``); the decision shows ``cancelling`` or ``replacing`` until the
venue answers, and a refusal leaves the order as it was. The risk reservation stays
on the order's terms while it rests and moves to the new ones when the venue confirms a
replace. When a venue's session logs on again, each order resting there is asked for
its status (35=H) and the venue stays out of routing until all have answered or the
acknowledgement timeout passed; an order the venue no longer knows ends cancelled.

A venue whose session is down, or that left an order unacknowledged past the timeout,
is out of routing until it answers again; an order sent to it is not lost: the session
resends it on reconnect and the venue's reports on it come back then (and a timed-out
order gets a cancel request).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

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
    FIX_DAY,
    FIX_IOC,
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
    Reason,
    RouteAsk,
    VenueTerms,
    decide,
    order_kind,
    rest_at,
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
RESTING_STATUS = "resting"
CANCELLING_STATUS = "cancelling"
REPLACING_STATUS = "replacing"
DONE_STATUS = "done"
REQUEST_STATUSES = (CANCELLING_STATUS, REPLACING_STATUS)
WORKING_STATUSES = (ROUTED_STATUS, RESTING_STATUS, *REQUEST_STATUSES)
"""The decisions of orders a venue works now."""
DEPTH_LEVELS = 10
WATCH_SECONDS = 0.05
FIX_SIDES = {Side.BUY: FIX_BUY, Side.SELL: FIX_SELL, Side.SELL_SHORT: FIX_SELL_SHORT}
RESTING = frozenset({TimeInForce.DAY.value, TimeInForce.GTC.value})
BUY, LIMIT, DAY = Side.BUY, OrderType.LIMIT, TimeInForce.DAY.value
"""Members read on every decision, bound once (an enum's member is slow to read)."""


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

    def replace(self, order: VenueOrder, new: VenueOrder) -> None:
        """Send an OrderCancelReplaceRequest turning ``order`` into ``new``."""
        ...

    def status(self, order: VenueOrder) -> None:
        """Send an OrderStatusRequest."""
        ...


class VenueProposal(NamedTuple):
    """New terms asked of a venue for a resting order, applied when it confirms."""

    order: VenueOrder
    quantity: int
    limit: int


class Router:
    """Best-execution routing for one desk over the venues' FIX sessions."""

    def __init__(
        self,
        terms: Mapping[str, VenueTerms],
        quotes: VenueQuoteBook,
        clock: Clock,
        *,
        ack_timeout_seconds: float = 2.0,
        rest_venue: str | None = None,
    ) -> None:
        self.terms = dict(terms)
        self.quotes = quotes
        self.clock = clock
        self.ack_timeout_seconds = ack_timeout_seconds
        self.rest_venue = rest_venue or None
        """Where non-marketable DAY limit orders rest (None: in the internal book)."""
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
        self._resting: set[str] = set()
        self._pending: dict[str, VenueProposal | None] = {}
        """Orders with a request at their venue: new terms asked, or None (a cancel)."""
        self._reconciling: dict[str, set[str]] = {}
        self._reconcile_until: dict[str, float] = {}
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
        up = link is not None and link.up and venue not in self.silent
        return up and not self._reconciling.get(venue)

    # -- inside the desk's batch ---------------------------------------------------------

    def route(self, booking: Booking, row: OrderRow, book: OrderBook, limit: int) -> RouteChoice:
        """Decide and record ``row``'s route; the internal book or a venue (sent later)."""
        decision, market = self.decide(row, book, booking.now_ns)
        self._record(booking, row, decision, market, limit)
        if decision.internal:
            return RouteChoice(internal=True, cap=decision.cap)
        rests = Reason.REST_AT_VENUE in decision.reasons
        side = FIX_SIDES[Side(row.side)]
        tif = FIX_DAY if rests else FIX_IOC
        order = VenueOrder(row.id, row.symbol, side, row.quantity, limit, tif)
        if rests:
            self._resting.add(row.id)
        self._working[row.id] = decision.venue
        self._orders[row.id] = order
        booking.feed.append((ROUTE_INTENT, {"venue": decision.venue, "order": order}))
        return RouteChoice(internal=False)

    def decide(self, row: OrderRow, book: OrderBook, now: int) -> tuple[Decision, Market]:
        """The policy's decision for ``row`` on the market as it stands at ``now``."""
        ask = _ask(row)
        view = self.quotes.venue_view(row.symbol, now)
        reachable = self.reachable
        market = Market(
            view.bid,
            view.ask,
            [quote for quote in view.quotes if reachable(quote.venue)],
            book.top_levels(asks=ask.buy, levels=DEPTH_LEVELS),
        )
        decision = rest_at(decide(ask, market, self.terms), self._rest_venue_of(row))
        return decision, market

    def at_venue(self, order_id: str) -> bool:
        """Whether the order is at a venue and out of the customer's reach now.

        An order resting at a venue with no request pending is not: it is cancelled and
        modified through the venue (``request_cancel``, ``request_replace``).
        """
        return order_id in self._working and not self.rests_at_venue(order_id)

    def rests_at_venue(self, order_id: str) -> bool:
        """Whether the order rests at a venue with no cancel or replace pending."""
        return order_id in self._resting and order_id not in self._pending

    def resting_orders(self) -> list[str]:
        """The orders resting at venues with no cancel or replace pending."""
        return [order_id for order_id in self._resting if order_id not in self._pending]

    def request_cancel(self, booking: Booking, row: OrderRow, actor: Actor) -> None:
        """Record a cancel of ``row`` resting at its venue; it is sent after commit."""
        self._request(booking, row, None, actor)

    def request_replace(
        self, booking: Booking, row: OrderRow, quantity: int, limit: int, actor: Actor
    ) -> None:
        """Record new terms for ``row`` resting at its venue (already risk-checked)."""
        current = self._orders[row.id]
        number = int(current.cl_ord_id.partition(":")[2] or 0) + 1
        new = VenueOrder(f"{row.id}:{number}", row.symbol, current.side, quantity, limit, FIX_DAY)
        self._request(booking, row, VenueProposal(new, quantity, limit), actor)

    def _request(
        self, booking: Booking, row: OrderRow, proposal: VenueProposal | None, actor: Actor
    ) -> None:
        decision = booking.context.db.get(RoutingDecisionRow, row.id)
        venue, order = self._working[row.id], self._orders[row.id]
        if decision is None:
            raise LookupError(f"order {row.id} rests at {venue} without a routing decision")
        decision.status = CANCELLING_STATUS if proposal is None else REPLACING_STATUS
        self._pending[row.id] = proposal
        event = "order.cancel.requested" if proposal is None else "order.replace.requested"
        data: dict[str, Any] = {"venue": venue, "symbol": row.symbol}
        if proposal is not None:
            data |= {"quantity": proposal.quantity, "limit_price": _text(proposal.limit)}
        booking.record(event, row.id, data, actor)
        intent = {"venue": venue, "order": order, "request": proposal or "cancel"}
        booking.feed.append((ROUTE_INTENT, intent))

    def venue_changed(self, venue: str, up: bool) -> None:  # noqa: FBT001 - the link's callback
        """When ``venue`` logs on again, ask it where each order resting there stands."""
        asked = [o for o, v in list(self._working.items()) if v == venue and o in self._resting]
        if not up or not asked or venue not in self.links:
            return
        self._reconciling[venue] = set(asked)
        self._reconcile_until[venue] = time.monotonic() + self.ack_timeout_seconds
        for order_id in asked:
            order = self._orders.get(order_id)
            if order is not None:
                self.links[venue].status(order)

    def reload(self, db: Session) -> set[str]:
        """The orders working at venues, as stored (the desk keeps them out of its book).

        Before the router started (a start of the process), they are the orders to send
        again to their venues.
        """
        query = select(RoutingDecisionRow).where(RoutingDecisionRow.status.in_(WORKING_STATUSES))
        working = db.scalars(query).all()
        self._working = {row.order_id: row.venue for row in working}
        self._resting = {row.order_id for row in working if row.status != ROUTED_STATUS}
        asking = {row.order_id for row in working if row.status in REQUEST_STATUSES}
        self._pending = {o: request for o, request in self._pending.items() if o in asking}
        if not self._watchdog.is_alive():
            self._recover = [row.order_id for row in working]
            self._orders.update(_venue_orders(db, working))
        return set(self._working)

    def after_commit(self, feed: list[FeedEvent]) -> None:
        """Send the orders the committed batch routed out."""
        for account_id, event in feed:
            if account_id != ROUTE_INTENT or callable(event):
                continue
            order: VenueOrder = event["order"]
            link, request = self.links[event["venue"]], event.get("request")
            if isinstance(request, VenueProposal):
                link.replace(order, request.order)
            elif request is not None:
                link.cancel(order)
            else:
                self._waiting[order.cl_ord_id] = time.monotonic()
                link.send_order(order)

    # -- reports from venues -------------------------------------------------------------

    def on_report(self, venue: str, report: ExecutionReport) -> None:
        """Book a venue's execution report (on its session's thread)."""
        self.silent.discard(venue)
        order_id = _order_id(report.cl_ord_id)
        if report.exec_type is ExecType.ORDER_STATUS:
            self._reconciling.get(venue, set()).discard(order_id)
            if not report.done:
                return  # still resting there: nothing to book
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
        order_id = _order_id(reject.orig_cl_ord_id)
        if self._working.get(order_id) != venue:
            return
        if order_id in self._pending and self.desk is not None:
            desk = self.desk
            desk.run(ROUTER, None, lambda booking: self._refused(booking, order_id, reject))
            if not reject.unknown_order:
                return
        if not reject.unknown_order:
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
        decision = db.get(RoutingDecisionRow, _order_id(report.cl_ord_id))
        if decision is None or decision.venue != venue:
            log.warning("routing.report.unknown_order", venue=venue, order=report.cl_ord_id)
            return
        if report.exec_type is ExecType.REPLACED:
            self._replaced(booking, desk, decision)
            return
        if report.last_qty > 0:
            self._fill(booking, decision, report)
        if report.done and decision.status in WORKING_STATUSES:
            self._done(booking, desk, decision, report)

    def _replaced(self, booking: Booking, desk: TradingDesk, decision: RoutingDecisionRow) -> None:
        """The venue took the new terms: the order (and its reservation) takes them too."""
        proposal = self._pending.pop(decision.order_id, None)
        if proposal is None or decision.status != REPLACING_STATUS:
            log.warning("routing.replace.unasked", order=decision.order_id)
            return
        self._orders[decision.order_id] = proposal.order
        decision.status = RESTING_STATUS
        decision.sent_limit = proposal.limit
        row = booking.order(decision.order_id)
        desk.replaced_at_venue(booking, row, proposal.quantity, proposal.limit, ROUTER)

    def _refused(self, booking: Booking, order_id: str, reject: CancelReject) -> None:
        """The venue refused a cancel or replace: the order stays as it was."""
        decision = booking.context.db.get(RoutingDecisionRow, order_id)
        self._pending.pop(order_id, None)
        if decision is None or decision.status not in REQUEST_STATUSES:
            return
        decision.status = RESTING_STATUS
        data = {"venue": decision.venue, "replace": reject.replace, "unknown": reject.unknown_order}
        booking.record("order.venue_request.refused", order_id, data, ROUTER)

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
        at_venue = row.id in self._resting
        self._resting.discard(row.id)
        cancelling = row.id in self._pending
        self._pending.pop(row.id, None)
        remaining = row.quantity - row.filled_quantity
        rests = row.type == OrderType.LIMIT and row.time_in_force in RESTING and not at_venue
        if remaining > 0 and rests and row.limit_price is not None:
            booking.apply(desk.exchange.submit(resting_order(row, remaining)))
        elif remaining > 0:
            reason = _cancel_reason(row, report, at_venue=at_venue, requested=cancelling)
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
                status=_status_of(decision),
                routed_at_ns=booking.now_ns,
            )
        )
        nbbo = {"bid": _text(market.nbbo_bid), "ask": _text(market.nbbo_ask)}
        data = {"venue": decision.venue, "reasons": reasons, "nbbo": nbbo, "symbol": row.symbol}
        booking.record("order.routed", row.id, data, ROUTER)

    def _rest_venue_of(self, row: OrderRow) -> str | None:
        """The venue ``row`` may rest at, if it is a DAY limit and that venue is in reach."""
        venue = self.rest_venue
        if venue is None:
            return None
        day_limit = row.type == LIMIT and row.time_in_force == DAY
        if not day_limit or venue not in self.terms:
            return None
        return venue if self.reachable(venue) else None

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
            self._end_overdue_reconciliations()
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

    def _end_overdue_reconciliations(self) -> None:
        """A venue whose status answers are overdue goes back into routing all the same."""
        now = time.monotonic()
        for venue, until in list(self._reconcile_until.items()):
            if until <= now or not self._reconciling.get(venue):
                if self._reconciling.get(venue):
                    log.error("routing.reconcile.timed_out", venue=venue)
                self._reconciling.pop(venue, None)
                self._reconcile_until.pop(venue, None)


def _order_id(cl_ord_id: str) -> str:
    """The order a ClOrdID names (a replace's is ``<order id>:<n>``)."""
    return cl_ord_id.partition(":")[0]


def _status_of(decision: Decision) -> str:
    if decision.internal:
        return INTERNAL_STATUS
    return RESTING_STATUS if Reason.REST_AT_VENUE in decision.reasons else ROUTED_STATUS


def _cancel_reason(
    row: OrderRow, report: ExecutionReport, *, at_venue: bool, requested: bool
) -> CancelReason:
    """Why the unfilled rest of an order a venue finished is cancelled here."""
    if not at_venue:
        return CancelReason.IOC_REMAINDER if row.filled_quantity else CancelReason.NO_LIQUIDITY
    if requested and report.status is OrdStatus.CANCELED:
        return CancelReason.REQUESTED
    if report.status is OrdStatus.EXPIRED:
        return CancelReason.EXPIRED
    return CancelReason.VENUE_CANCELLED


def _ask(row: OrderRow) -> RouteAsk:
    limit = row.limit_price if row.type == LIMIT else None
    return RouteAsk(row.side == BUY, row.quantity, limit)


def _kind(row: OrderRow, market: Market) -> OrderKind:
    """The order's Rule 606 type on receipt: against the NBBO, or the internal book's best."""
    ask = _ask(row)
    opposite = market.nbbo_ask if ask.buy else market.nbbo_bid
    if opposite is None and market.internal_depth:
        opposite = market.internal_depth[0][0]
    return order_kind(ask, opposite)


def _venue_orders(db: Session, decisions: Sequence[RoutingDecisionRow]) -> dict[str, VenueOrder]:
    """The venue orders of routed decisions, for the remaining quantity of each."""
    orders: dict[str, VenueOrder] = {}
    for decision in decisions:
        row = db.get(OrderRow, decision.order_id)
        if row is None or decision.sent_limit is None:
            continue
        remaining = row.quantity - row.filled_quantity
        side = FIX_SIDES[Side(row.side)]
        tif = FIX_IOC if decision.status == ROUTED_STATUS else FIX_DAY
        orders[row.id] = VenueOrder(row.id, row.symbol, side, remaining, decision.sent_limit, tif)
    return orders


def _text(price: int | None) -> str | None:
    return None if price is None else str(Price(price))
