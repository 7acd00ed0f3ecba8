"""Order routing (issue: market access): the routing decision and the FIX round trip.

Routing decision: ``Router.decide`` for a market order, as the desk calls it under its
lock: the NBBO and each reachable venue's quote from the consolidated quote book (three
venues), the internal book's depth (three price levels, not enough to internalise), and
the best-execution policy; each call timed alone, p50 and p99 over 100,000 calls, less
the timer's own cost (the median of as many empty timed regions, reported beside them).
Garbage collections that fall inside a call stay in its time. On a shared machine the
wall time of a call includes other processes' turns on the core, so the CPU time of
the calls is measured too (``time.thread_time_ns`` over batches of 1,000 calls: the
median and the largest batch's mean per call).

FIX round trip: a NewOrderSingle from the initiator to a simulated venue on loopback
over TLS (FIX 4.4), the venue's acknowledgement, its fill (no added latency, no partial
fills) and back, until the initiator has the final ExecutionReport; one order at a
time, p50 and p99 over 2,000 orders.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from measure import Measurement
from tradeguard.core.clock import SystemClock
from tradeguard.core.money import Price
from tradeguard.market.consolidation import QuoteRules
from tradeguard.market.events import Quote
from tradeguard.market.venue_book import VenueQuoteBook
from tradeguard.risk.order_terms import Side, TimeInForce
from tradeguard.routing.fix.initiator import VenueLink
from tradeguard.routing.fix.messages import ExecutionReport, VenueOrder
from tradeguard.routing.fix.tls import LOOPBACK
from tradeguard.routing.policy import VenueQuote, VenueTerms
from tradeguard.routing.router import Router
from tradeguard.routing.venue import SimulatedVenue, VenueBehaviour
from tradeguard.trading.matching.engine import OrderBook
from tradeguard.trading.matching.model import Order, OrderType
from tradeguard.trading.models import OrderRow

DECISIONS = 100_000
CPU_BATCHES = 100
CPU_BATCH = 1_000
ROUND_TRIPS = 2_000
VENUES = ("XNYS", "XNAS", "ARCX")
NANOS_PER_MICRO = 1_000


class _Up:
    def __init__(self, code: str) -> None:
        self.code = code
        self.up = True

    def send_order(self, order: VenueOrder, *, resend: bool = False) -> None:
        """Not used by the decision."""

    def cancel(self, order: VenueOrder) -> None:
        """Not used by the decision."""


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


class DecisionTimes(NamedTuple):
    """Per-call wall times (µs, timer cost subtracted), the timer's cost, CPU per call."""

    wall: list[float]
    timer: float
    cpu: list[float]


def _decision_case() -> Callable[[], object]:
    """One routing decision as the desk asks for it, ready to call again and again."""
    clock = SystemClock()
    quotes = VenueQuoteBook({"AAPL"}, QuoteRules(max_age_ns=3_600 * 10**9))
    now = clock.now_ns()
    for sequence, (venue, bid, ask) in enumerate(
        (
            ("XNYS", 2_298_000, 2_299_000),
            ("XNAS", 2_298_200, 2_298_600),
            ("ARCX", 2_298_100, 2_298_800),
        ),
        start=1,
    ):
        quotes.accept_quote(Quote(venue, "AAPL", bid, 500, ask, 500, sequence, now), now)
    terms = {code: VenueTerms(code, code, access_fee=30) for code in VENUES}
    router = Router(terms, quotes, clock)
    router.links = {code: _Up(code) for code in VENUES}
    book = OrderBook("AAPL")
    for index, price in enumerate((2_298_500, 2_298_700, 2_299_500)):
        book.submit(
            Order(
                f"s{index}",
                "AAPL",
                "seller",
                Side.SELL,
                50,
                OrderType.LIMIT,
                Price(price),
                TimeInForce.DAY,
            )
        )
    row = OrderRow(
        id="o1",
        account_id="a",
        symbol="AAPL",
        side="buy",
        type="market",
        quantity=300,
        limit_price=None,
    )
    return lambda: router.decide(row, book, now)


def _timer_cost() -> float:
    """The median cost of an empty timed region (two clock reads), in µs."""
    clock = time.perf_counter_ns
    samples = []
    for _ in range(DECISIONS):
        started = clock()
        samples.append(clock() - started)
    return statistics.median(samples) / NANOS_PER_MICRO


def _decision_samples() -> DecisionTimes:
    decision = _decision_case()
    clock, timer = time.perf_counter_ns, _timer_cost()
    wall = []
    for _ in range(DECISIONS):
        started = clock()
        decision()
        wall.append((clock() - started) / NANOS_PER_MICRO - timer)
    cpu = []
    for _ in range(CPU_BATCHES):
        started = time.thread_time_ns()
        for _ in range(CPU_BATCH):
            decision()
        cpu.append((time.thread_time_ns() - started) / CPU_BATCH / NANOS_PER_MICRO)
    return DecisionTimes(wall, timer, cpu)


def _round_trip_samples() -> list[float]:
    quote = VenueQuote("XNAS", 2_298_200, 10**9, 2_298_600, 10**9)
    venue = SimulatedVenue("XNAS", lambda _: quote, VenueBehaviour(0.0, 0, 0, seed=1))
    done = threading.Event()

    def on_report(_: str, report: ExecutionReport) -> None:
        if report.done:
            done.set()

    link = VenueLink("XNAS", (LOOPBACK, venue.start()), venue.certificate.client(), on_report)
    link.start()
    link.wait_up(5)
    samples = []
    try:
        for number in range(ROUND_TRIPS):
            done.clear()
            started = time.perf_counter_ns()
            link.send_order(VenueOrder(f"rt-{number}", "AAPL", "1", 100, 2_299_000))
            if not done.wait(5):
                raise TimeoutError("the venue did not answer")
            samples.append((time.perf_counter_ns() - started) / NANOS_PER_MICRO)
    finally:
        link.stop()
        venue.shut_down()
    return samples


def run() -> list[Measurement]:
    decisions = _decision_samples()
    trips = _round_trip_samples()
    return [
        Measurement("routing decision p50", statistics.median(decisions.wall), "µs"),
        Measurement("routing decision p99", _percentile(decisions.wall, 0.99), "µs", target=20),
        Measurement("routing decision timer cost (subtracted above)", decisions.timer, "µs"),
        Measurement(
            "routing decision CPU per call, median batch", statistics.median(decisions.cpu), "µs"
        ),
        Measurement("routing decision CPU per call, worst batch", max(decisions.cpu), "µs"),
        Measurement(
            "FIX/TLS round trip to the simulated venue p50", statistics.median(trips) / 1000, "ms"
        ),
        Measurement(
            "FIX/TLS round trip to the simulated venue p99", _percentile(trips, 0.99) / 1000, "ms"
        ),
    ]
