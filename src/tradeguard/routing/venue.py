"""A simulated venue: a FIX 4.4 acceptor over TLS on loopback, filling against its quote.

An order is a limit: after ``latency_ms`` it fills at the venue's quote for the size
displayed there (if the limit reaches it), in two executions ``partial_fill_pct`` of
the time. The rest of an immediate-or-cancel order is cancelled; a DAY order rests in
the venue's book and fills later, unsolicited, when the venue's quote crosses its limit
(checked every ``SWEEP_SECONDS``), until it is filled, cancelled (35=F), replaced with
new terms (35=G) or expired at the close (``close``). An OrderStatusRequest (35=H) is
answered with a status report (150=I), of an unknown order too. A ClOrdID seen
before is never filled again: a NewOrderSingle marked PossResend has the order's
reports sent again instead (same ExecIDs). ``answering`` set to False makes the venue
swallow messages (a venue that does not answer); ``stop`` takes it down.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tradeguard.logs import get_logger
from tradeguard.routing.fix.codec import Message, MsgType, Tag
from tradeguard.routing.fix.messages import (
    FIX_BUY,
    UNKNOWN_ORDER_TEXT,
    ExecType,
    ExecutionReport,
    OrdStatus,
    VenueOrder,
    cancel_reject_fields,
    execution_report_fields,
    venue_order_of,
)
from tradeguard.routing.fix.session import FixSession, SessionStore
from tradeguard.routing.fix.tls import LOOPBACK, VenueCertificate, venue_certificate
from tradeguard.routing.policy import VenueQuote

log = get_logger("tradeguard.routing.venue")
PERCENT = 100
SWEEP_SECONDS = 0.01
"""How often resting orders are matched against the venue's quote."""
QuoteOf = Callable[[str], VenueQuote | None]
"""A symbol's quote at this venue now (None when it quotes none)."""


@dataclass(frozen=True, slots=True)
class VenueBehaviour:
    """How the simulated venue acts: its latency, partial fills and rejects."""

    latency_ms: float = 2.0
    partial_fill_pct: int = 30
    reject_pct: int = 0
    seed: int | None = None


@dataclass(slots=True)
class _Working:
    order: VenueOrder
    venue_order_id: str
    cum_qty: int = 0
    done: bool = False
    resting: bool = False
    status: OrdStatus = OrdStatus.NEW
    reports: list[ExecutionReport] = field(default_factory=list)

    @property
    def leaves(self) -> int:
        """What is left of the order."""
        return 0 if self.done else self.order.quantity - self.cum_qty


class Scheduler:
    """Runs callables at their due time on one thread."""

    def __init__(self) -> None:
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._count = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="venue-scheduler")
        self._thread.start()

    def later(self, seconds: float, action: Callable[[], None]) -> None:
        """Run ``action`` after ``seconds``."""
        with self._wake:
            heapq.heappush(self._due, (time.monotonic() + seconds, next(self._count), action))
            self._wake.notify()

    def stop(self) -> None:
        """Stop running anything."""
        with self._wake:
            self._stopped = True
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (not self._due or self._due[0][0] > time.monotonic()):
                    timeout = self._due[0][0] - time.monotonic() if self._due else None
                    self._wake.wait(timeout)
                if self._stopped:
                    return
                _, _, action = heapq.heappop(self._due)
            try:
                action()
            except Exception:
                log.exception("venue.action_failed")


class SimulatedVenue:
    """A FIX acceptor for one initiator (comp id ``client``), quoting through ``quote_of``."""

    def __init__(
        self,
        code: str,
        quote_of: QuoteOf,
        behaviour: VenueBehaviour | None = None,
        *,
        client: str = "TRADEGUARD",
    ) -> None:
        self.code = code
        self.quote_of = quote_of
        self.behaviour = behaviour or VenueBehaviour()
        self.certificate: VenueCertificate = venue_certificate(code)
        self.answering = True
        self.session = FixSession(code, client, SessionStore(), self._on_app, acceptor=True)
        self.orders: dict[str, _Working] = {}
        self._random = random.Random(self.behaviour.seed)  # noqa: S311 - simulated behaviour
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._scheduler = Scheduler()
        self._scheduler.later(SWEEP_SECONDS, self._sweep)
        self._listener: socket.socket | None = None
        self.port = 0

    def start(self, port: int = 0) -> int:
        """Listen on loopback (``port`` 0: any free one); the port."""
        listener = socket.create_server((LOOPBACK, port))
        self._listener = listener
        self.port = listener.getsockname()[1]
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="venue").start()
        return self.port

    def stop(self) -> None:
        """Stop listening and drop the connection (the venue is down)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
            listener.close()
        self.session.close()

    def shut_down(self) -> None:
        """Stop for good (its scheduler too)."""
        self.stop()
        self._scheduler.stop()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            if self._listener is not listener:
                raw.close()
                return
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                connection = self.certificate.server.wrap_socket(raw, server_side=True)
            except OSError:
                raw.close()
                continue
            self.session.close()
            self.session.attach(connection)

    # -- orders --------------------------------------------------------------------------

    def _on_app(self, message: Message) -> None:
        if not self.answering:
            return
        if message.msg_type == MsgType.NEW_ORDER_SINGLE:
            self._new_order(message)
        elif message.msg_type == MsgType.ORDER_CANCEL_REQUEST:
            self._cancel(message)
        elif message.msg_type == MsgType.ORDER_CANCEL_REPLACE_REQUEST:
            self._replace(message)
        elif message.msg_type == MsgType.ORDER_STATUS_REQUEST:
            self._status(message)

    def _new_order(self, message: Message) -> None:
        order = venue_order_of(message)
        with self._lock:
            known = self.orders.get(order.cl_ord_id)
            if known is None:
                working = self.orders[order.cl_ord_id] = _Working(
                    order, f"{self.code}-{next(self._ids)}"
                )
        if known is not None:
            if message.get(Tag.POSS_RESEND) == "Y":
                for report in list(known.reports):
                    self._send(known, report)
            return
        if self._random.randrange(PERCENT) < self.behaviour.reject_pct:
            self._finish(working, ExecType.REJECTED, OrdStatus.REJECTED, "rejected by the venue")
            return
        self._report(working, ExecType.NEW, OrdStatus.NEW, 0, 0)
        self._scheduler.later(self._latency(), lambda: self._execute(working))

    def _execute(self, working: _Working) -> None:
        order = working.order
        quote = self.quote_of(order.symbol)
        buy = order.side == FIX_BUY
        price = None if quote is None else (quote.ask if buy else quote.bid)
        size = 0 if quote is None else (quote.ask_size if buy else quote.bid_size)
        reachable = price is not None and (price <= order.limit if buy else price >= order.limit)
        quantity = min(order.quantity, size) if reachable and price is not None else 0
        if (quantity <= 0 or price is None) and order.rests:
            self._rest(working)
            return
        if quantity <= 0 or price is None:
            self._finish(
                working, ExecType.CANCELED, OrdStatus.CANCELED, "no liquidity at the limit"
            )
            return
        parts = [quantity]
        if quantity > 1 and self._random.randrange(PERCENT) < self.behaviour.partial_fill_pct:
            first = self._random.randint(1, quantity - 1)
            parts = [first, quantity - first]
        self._fill_parts(working, price, parts)

    def _fill_parts(self, working: _Working, price: int, parts: list[int]) -> None:
        with self._lock:
            if working.done:
                return
            part = min(parts[0], working.leaves)  # a replace may have lowered the quantity
            working.cum_qty += part
            leaves = working.order.quantity - working.cum_qty
            last = len(parts) == 1
            status = OrdStatus.FILLED if leaves == 0 else OrdStatus.PARTIALLY_FILLED
            working.done = leaves == 0
        self._report(working, ExecType.TRADE, status, part, price, leaves=leaves)
        if not last:
            self._scheduler.later(
                self._latency(), lambda: self._fill_parts(working, price, parts[1:])
            )
        elif leaves > 0 and working.order.rests:
            self._rest(working)
        elif leaves > 0:
            self._finish(working, ExecType.CANCELED, OrdStatus.CANCELED, "immediate or cancel")

    def _rest(self, working: _Working) -> None:
        with self._lock:
            working.resting = not working.done

    def _sweep(self) -> None:
        """Fill the resting orders the venue's quote crosses now; then again later."""
        with self._lock:
            resting = [w for w in self.orders.values() if w.resting and not w.done]
        for working in {id(w): w for w in resting}.values():
            self._cross(working)
        self._scheduler.later(SWEEP_SECONDS, self._sweep)

    def _cross(self, working: _Working) -> None:
        order = working.order
        quote = self.quote_of(order.symbol)
        if quote is None or not self.answering:
            return
        buy = order.side == FIX_BUY
        price, size = (quote.ask, quote.ask_size) if buy else (quote.bid, quote.bid_size)
        if size <= 0 or (price > order.limit if buy else price < order.limit):
            return
        with self._lock:
            quantity = min(working.leaves, size)
            if quantity <= 0:
                return
            working.cum_qty += quantity
            leaves = working.order.quantity - working.cum_qty
            working.done = leaves == 0
        status = OrdStatus.FILLED if leaves == 0 else OrdStatus.PARTIALLY_FILLED
        self._report(working, ExecType.TRADE, status, quantity, price, leaves=leaves)

    def close(self) -> int:
        """The close: every resting DAY order expires (150=C); how many did."""
        with self._lock:
            resting = {id(w): w for w in self.orders.values() if w.resting and not w.done}
        for working in resting.values():
            self._finish(working, ExecType.EXPIRED, OrdStatus.EXPIRED, "expired at the close")
        return len(resting)

    def _replace(self, message: Message) -> None:
        new = venue_order_of(message)
        original = message.get(Tag.ORIG_CL_ORD_ID, "") or ""
        with self._lock:
            working = self.orders.get(original)
            fits = (
                working is not None
                and not working.done
                and working.order.cl_ord_id == original
                and new.quantity > working.cum_qty
            )
            if working is not None and fits:
                working.order = new
                self.orders[new.cl_ord_id] = working
        if working is None or not fits:
            fields = cancel_reject_fields(
                working.venue_order_id if working else "NONE",
                new.cl_ord_id,
                original,
                known=working is not None,
                replace=True,
            )
            self.session.send(MsgType.ORDER_CANCEL_REJECT, fields)
            return
        status = OrdStatus.PARTIALLY_FILLED if working.cum_qty else OrdStatus.NEW
        self._report(working, ExecType.REPLACED, status, 0, 0, text="replaced on request")

    def _status(self, message: Message) -> None:
        cl_ord_id = message.require(Tag.CL_ORD_ID)
        working = self.orders.get(cl_ord_id)
        if working is None:
            symbol, side = message.require(Tag.SYMBOL), message.require(Tag.SIDE)
            asked = VenueOrder(cl_ord_id, symbol, side, 0, 0)
            unknown = _Working(asked, "NONE", status=OrdStatus.REJECTED, done=True)
            self._report(
                unknown, ExecType.ORDER_STATUS, OrdStatus.REJECTED, 0, 0,
                text=UNKNOWN_ORDER_TEXT, leaves=0,
            )  # fmt: skip
            return
        self._report(working, ExecType.ORDER_STATUS, working.status, 0, 0, leaves=working.leaves)

    def _cancel(self, message: Message) -> None:
        original = message.get(Tag.ORIG_CL_ORD_ID, "") or ""
        working = self.orders.get(original)
        if working is None or working.done or working.order.cl_ord_id != original:
            fields = cancel_reject_fields(
                working.venue_order_id if working else "NONE",
                message.get(Tag.CL_ORD_ID) or "",
                original,
                known=working is not None,
            )
            self.session.send(MsgType.ORDER_CANCEL_REJECT, fields)
            return
        self._finish(working, ExecType.CANCELED, OrdStatus.CANCELED, "cancelled on request")

    def _finish(self, working: _Working, kind: ExecType, status: OrdStatus, text: str) -> None:
        with self._lock:
            if working.done:
                return
            working.done = True
            working.resting = False
        self._report(working, kind, status, 0, 0, text=text, leaves=0)

    def _report(  # noqa: PLR0913 - the fields of a report
        self,
        working: _Working,
        kind: ExecType,
        status: OrdStatus,
        last_qty: int,
        last_px: int,
        *,
        text: str = "",
        leaves: int | None = None,
    ) -> None:
        report = ExecutionReport(
            cl_ord_id=working.order.cl_ord_id,
            exec_id=f"{self.code}-E{next(self._ids)}",
            exec_type=kind,
            status=status,
            last_qty=last_qty,
            last_px=last_px,
            leaves_qty=working.order.quantity - working.cum_qty if leaves is None else leaves,
            cum_qty=working.cum_qty,
            text=text,
        )
        if kind is not ExecType.ORDER_STATUS:
            working.status = status
        working.reports.append(report)
        self._send(working, report)

    def _send(self, working: _Working, report: ExecutionReport) -> None:
        fields = execution_report_fields(report, working.order, working.venue_order_id)
        self.session.send(MsgType.EXECUTION_REPORT, fields)

    def _latency(self) -> float:
        base = self.behaviour.latency_ms / 1000
        return base * (0.5 + self._random.random())
