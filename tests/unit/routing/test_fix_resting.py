"""DAY orders resting at the simulated venue over FIX 4.4/TLS: rest, fill later when the
quote crosses, cancel (35=F), replace (35=G), status (35=H), expiry at the close, and a
fill while the line is down that comes back on reconnect."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tradeguard.routing.fix.initiator import VenueLink
from tradeguard.routing.fix.messages import (
    FIX_DAY,
    UNKNOWN_ORDER_TEXT,
    CancelReject,
    ExecType,
    ExecutionReport,
    OrdStatus,
    VenueOrder,
)
from tradeguard.routing.fix.tls import LOOPBACK
from tradeguard.routing.policy import VenueQuote
from tradeguard.routing.venue import SimulatedVenue, VenueBehaviour

WAIT = 5.0
QUIET = 0.2
BUY, SELL = "1", "2"
BID, ASK = 1_000_000, 1_000_100


class Reports:
    def __init__(self) -> None:
        self.seen: list[ExecutionReport] = []
        self.rejects: list[CancelReject] = []

    def __call__(self, venue: str, report: ExecutionReport) -> None:
        assert venue == "XNAS"
        self.seen.append(report)

    def rejected(self, venue: str, reject: CancelReject) -> None:
        assert venue == "XNAS"
        self.rejects.append(reject)

    def of(self, prefix: str) -> list[ExecutionReport]:
        return [r for r in self.seen if r.cl_ord_id.partition(":")[0] == prefix]

    def kinds(self, prefix: str) -> list[ExecType]:
        return [r.exec_type for r in self.of(prefix)]


class Quote:
    """The venue's quote, changed by the test."""

    def __init__(self) -> None:
        self.now = VenueQuote("XNAS", BID, 400, ASK, 300)

    def __call__(self, _symbol: str) -> VenueQuote:
        return self.now

    def offer(self, price: int, size: int = 300) -> None:
        self.now = VenueQuote("XNAS", BID, 400, price, size)


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def filled(reports: list[ExecutionReport]) -> int:
    return sum(r.last_qty for r in reports if r.exec_type is ExecType.TRADE)


@pytest.fixture
def quote() -> Quote:
    return Quote()


@pytest.fixture
def venue(quote: Quote) -> Iterator[SimulatedVenue]:
    simulated = SimulatedVenue("XNAS", quote, VenueBehaviour(1.0, 0, 0, seed=3))
    simulated.start()
    yield simulated
    simulated.shut_down()


@pytest.fixture
def reports() -> Reports:
    return Reports()


@pytest.fixture
def link(venue: SimulatedVenue, reports: Reports) -> Iterator[VenueLink]:
    initiator = VenueLink(
        "XNAS", (LOOPBACK, venue.port), venue.certificate.client(), reports, heartbeat_seconds=0.2
    )
    initiator.on_cancel_reject = reports.rejected
    initiator.start()
    assert initiator.wait_up(WAIT)
    yield initiator
    initiator.stop()


def day_buy(cl_ord_id: str, quantity: int = 200, limit: int = 999_000) -> VenueOrder:
    return VenueOrder(cl_ord_id, "AAPL", BUY, quantity, limit, FIX_DAY)


def resting(link: VenueLink, reports: Reports, order: VenueOrder) -> None:
    """Send ``order`` and see it acknowledged and still open after a while."""
    link.send_order(order)
    wait_for(lambda: ExecType.NEW in reports.kinds(order.cl_ord_id))
    time.sleep(QUIET)
    assert not any(r.done for r in reports.of(order.cl_ord_id))


def test_a_day_order_below_the_offer_rests_then_fills_when_the_offer_crosses_it(
    link: VenueLink, reports: Reports, quote: Quote
) -> None:
    resting(link, reports, day_buy("r-1"))
    assert filled(reports.of("r-1")) == 0
    quote.offer(998_500, size=150)  # the offer comes down through the limit
    wait_for(lambda: filled(reports.of("r-1")) == 200)
    trades = [r for r in reports.of("r-1") if r.exec_type is ExecType.TRADE]
    assert {r.last_px for r in trades} == {998_500}
    assert trades[-1].status is OrdStatus.FILLED
    assert len({r.exec_id for r in reports.of("r-1")}) == len(reports.of("r-1"))


def test_an_ioc_order_below_the_offer_is_still_cancelled_at_once(
    link: VenueLink, reports: Reports
) -> None:
    link.send_order(VenueOrder("r-2", "AAPL", BUY, 100, 999_000))
    wait_for(lambda: any(r.done for r in reports.of("r-2")))
    assert reports.of("r-2")[-1].status is OrdStatus.CANCELED


def test_a_resting_order_is_cancelled_on_request_and_never_fills_afterwards(
    link: VenueLink, reports: Reports, quote: Quote
) -> None:
    order = day_buy("r-3")
    resting(link, reports, order)
    link.cancel(order)
    wait_for(lambda: any(r.done for r in reports.of("r-3")))
    assert reports.of("r-3")[-1].exec_type is ExecType.CANCELED
    quote.offer(998_000)
    time.sleep(QUIET)
    assert filled(reports.of("r-3")) == 0


def test_a_replace_changes_the_resting_terms_under_a_new_clordid(
    link: VenueLink, reports: Reports, quote: Quote
) -> None:
    order = day_buy("r-4", quantity=200, limit=999_000)
    resting(link, reports, order)
    new = day_buy("r-4:1", quantity=120, limit=999_500)
    link.replace(order, new)
    wait_for(lambda: ExecType.REPLACED in reports.kinds("r-4"))
    replaced = reports.of("r-4")[-1]
    assert replaced.cl_ord_id == "r-4:1"
    assert replaced.leaves_qty == 120
    quote.offer(999_400)  # crosses the new limit, not the old one
    wait_for(lambda: any(r.done for r in reports.of("r-4")))
    assert filled(reports.of("r-4")) == 120
    assert {r.cl_ord_id for r in reports.of("r-4") if r.exec_type is ExecType.TRADE} == {"r-4:1"}


def test_a_replace_or_cancel_of_an_order_done_at_the_venue_is_refused(
    link: VenueLink, reports: Reports, quote: Quote
) -> None:
    order = day_buy("r-5", quantity=100)
    resting(link, reports, order)
    quote.offer(998_000)
    wait_for(lambda: any(r.done for r in reports.of("r-5")))
    link.replace(order, day_buy("r-5:1", quantity=300))
    link.cancel(order)
    wait_for(lambda: len(reports.rejects) == 2)
    assert [(r.orig_cl_ord_id, r.replace, r.unknown_order) for r in reports.rejects] == [
        ("r-5", True, False),
        ("r-5", False, False),
    ]
    assert filled(reports.of("r-5")) == 100


def test_a_status_request_answers_for_resting_and_unknown_orders(
    link: VenueLink, reports: Reports
) -> None:
    order = day_buy("r-6")
    resting(link, reports, order)
    link.status(order)
    link.status(day_buy("never-sent"))
    wait_for(lambda: ExecType.ORDER_STATUS in reports.kinds("never-sent"))
    wait_for(lambda: ExecType.ORDER_STATUS in reports.kinds("r-6"))
    [known] = [r for r in reports.of("r-6") if r.exec_type is ExecType.ORDER_STATUS]
    assert (known.status, known.leaves_qty, known.done) == (OrdStatus.NEW, 200, False)
    [unknown] = reports.of("never-sent")
    assert unknown.done
    assert unknown.text == UNKNOWN_ORDER_TEXT


def test_resting_orders_expire_at_the_venues_close(
    venue: SimulatedVenue, link: VenueLink, reports: Reports
) -> None:
    resting(link, reports, day_buy("r-7"))
    assert venue.close() == 1
    wait_for(lambda: any(r.done for r in reports.of("r-7")))
    assert reports.of("r-7")[-1].status is OrdStatus.EXPIRED


def test_a_fill_while_disconnected_comes_back_on_reconnect_and_status_confirms_it(
    venue: SimulatedVenue, link: VenueLink, reports: Reports, quote: Quote
) -> None:
    order = day_buy("r-8")
    resting(link, reports, order)
    port = venue.port
    venue.stop()
    wait_for(lambda: not link.up)
    quote.offer(998_000)  # the venue fills the resting order while the line is down
    wait_for(lambda: venue.orders["r-8"].done)
    assert filled(reports.of("r-8")) == 0
    venue.start(port)
    assert link.wait_up(WAIT)
    link.status(order)
    wait_for(lambda: ExecType.ORDER_STATUS in reports.kinds("r-8"))
    assert filled(reports.of("r-8")) == 200  # the missed fill arrived before the answer
    answer = reports.of("r-8")[-1]
    assert (answer.exec_type, answer.status) == (ExecType.ORDER_STATUS, OrdStatus.FILLED)
