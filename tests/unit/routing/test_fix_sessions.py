"""FIX 4.4 sessions over TLS against the simulated venue: logon, orders and reports,
sequence gaps and resend, disconnect and reconnect with the open orders reconciled."""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable, Iterator

import pytest

from tradeguard.routing.fix.codec import FixFormatError, MsgType, StreamReader, Tag, decode, encode
from tradeguard.routing.fix.initiator import VenueLink
from tradeguard.routing.fix.messages import ExecType, ExecutionReport, OrdStatus, VenueOrder
from tradeguard.routing.fix.tls import LOOPBACK
from tradeguard.routing.policy import VenueQuote
from tradeguard.routing.venue import SimulatedVenue, VenueBehaviour

WAIT = 5.0
BUY, SELL = "1", "2"


class Reports:
    def __init__(self) -> None:
        self.seen: list[ExecutionReport] = []

    def __call__(self, venue: str, report: ExecutionReport) -> None:
        assert venue == "XNAS"
        self.seen.append(report)

    def of(self, cl_ord_id: str) -> list[ExecutionReport]:
        return [report for report in self.seen if report.cl_ord_id == cl_ord_id]

    def done(self, cl_ord_id: str) -> list[ExecutionReport]:
        wait_for(lambda: any(report.done for report in self.of(cl_ord_id)))
        return self.of(cl_ord_id)


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


@pytest.fixture
def venue() -> Iterator[SimulatedVenue]:
    quote = VenueQuote("XNAS", 1_000_000, 400, 1_000_100, 300)
    simulated = SimulatedVenue("XNAS", lambda _: quote, VenueBehaviour(1.0, 50, 0, seed=7))
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
    initiator.start()
    assert initiator.wait_up(WAIT)
    yield initiator
    initiator.stop()


def logged_on_by_hand(venue: SimulatedVenue, sender: str) -> ssl.SSLSocket:
    """A TLS connection to ``venue`` that sent a Logon as ``sender`` (heartbeat 1 s)."""
    raw = socket.create_connection((LOOPBACK, venue.port))
    conn = venue.certificate.client().wrap_socket(raw, server_hostname=LOOPBACK)
    logon = [
        (Tag.SENDER, sender),
        (Tag.TARGET, "XNAS"),
        (Tag.SEQ_NUM, "1"),
        (Tag.SENDING_TIME, "20261206-22:00:00.000"),
        (Tag.HEARTBEAT_INTERVAL, "1"),
    ]
    conn.sendall(encode(MsgType.LOGON, logon))
    conn.settimeout(WAIT)
    return conn


def filled(reports: list[ExecutionReport]) -> int:
    return sum(report.last_qty for report in reports if report.exec_type is ExecType.TRADE)


def test_codec_when_a_byte_is_changed_then_the_checksum_refuses_it() -> None:
    raw = encode(MsgType.HEARTBEAT, [(Tag.SENDER, "A"), (Tag.TARGET, "B"), (Tag.SEQ_NUM, "1")])
    assert decode(raw).get(Tag.SENDER) == "A"
    with pytest.raises(FixFormatError):
        decode(raw.replace(b"49=A", b"49=C"))
    reader = StreamReader()
    assert list(reader.feed(raw[:10])) == []
    assert list(reader.feed(raw[10:] + raw)) == [raw, raw]


def test_an_order_is_acknowledged_then_filled_at_the_quote_and_its_rest_cancelled(
    link: VenueLink, reports: Reports
) -> None:
    link.send_order(VenueOrder("o-1", "AAPL", BUY, 500, 1_000_200))
    seen = reports.done("o-1")
    assert seen[0].exec_type is ExecType.NEW
    assert filled(seen) == 300  # the size shown at the venue's offer
    assert {r.last_px for r in seen if r.exec_type is ExecType.TRADE} == {1_000_100}
    assert seen[-1].status is OrdStatus.CANCELED
    assert len({report.exec_id for report in seen}) == len(seen)


def test_a_limit_that_does_not_reach_the_quote_is_cancelled_unfilled(
    link: VenueLink, reports: Reports
) -> None:
    link.send_order(VenueOrder("o-2", "AAPL", SELL, 100, 1_000_050))
    seen = reports.done("o-2")
    assert filled(seen) == 0
    assert seen[-1].status is OrdStatus.CANCELED


def test_an_order_sent_while_the_venue_is_down_arrives_by_resend_after_reconnect(
    venue: SimulatedVenue, link: VenueLink, reports: Reports
) -> None:
    port = venue.port
    venue.stop()
    wait_for(lambda: not link.up)
    link.send_order(VenueOrder("o-3", "AAPL", SELL, 100, 999_000))  # stored, numbered
    venue.start(port)
    assert link.wait_up(WAIT)
    seen = reports.done("o-3")
    assert filled(seen) == 100
    assert venue.session.resends_requested >= 1  # the venue saw the gap and asked


def test_reports_missed_while_disconnected_come_back_on_reconnect(
    venue: SimulatedVenue, link: VenueLink, reports: Reports
) -> None:
    venue.behaviour = VenueBehaviour(latency_ms=300.0, partial_fill_pct=0)
    link.send_order(VenueOrder("o-4", "AAPL", BUY, 200, 1_000_200))
    wait_for(lambda: bool(reports.of("o-4")))  # acknowledged, the fill is pending
    port = venue.port
    venue.stop()  # the fill happens while the line is down
    time.sleep(0.5)
    assert filled(reports.of("o-4")) == 0
    venue.start(port)
    seen = reports.done("o-4")
    assert filled(seen) == 200
    assert link.session.resends_requested >= 1


def test_an_order_sent_again_after_a_restart_is_never_filled_twice(
    venue: SimulatedVenue, link: VenueLink, reports: Reports
) -> None:
    order = VenueOrder("o-5", "AAPL", BUY, 100, 1_000_200)
    link.send_order(order)
    first = reports.done("o-5")
    link.send_order(order, resend=True)
    wait_for(lambda: len(reports.of("o-5")) >= 2 * len(first))
    again = reports.of("o-5")[len(first) :]
    assert [r.exec_id for r in again] == [r.exec_id for r in first]  # the same executions
    assert len(venue.orders) == 1


def test_a_logon_from_unknown_comp_ids_is_logged_out(venue: SimulatedVenue) -> None:
    with logged_on_by_hand(venue, "MALLORY") as conn:
        answer = decode(next(StreamReader().feed(conn.recv(4096))))
    assert answer.msg_type == MsgType.LOGOUT
    assert not venue.session.logged_on.is_set()


def test_a_counterparty_that_goes_silent_is_tested_then_dropped(venue: SimulatedVenue) -> None:
    reader, seen = StreamReader(), []
    with logged_on_by_hand(venue, "TRADEGUARD") as conn:
        while True:  # then say nothing: the venue heartbeats, tests the line, and hangs up
            data = conn.recv(4096)
            if not data:
                break
            seen.extend(decode(raw).msg_type for raw in reader.feed(data))
    assert seen[0] == MsgType.LOGON
    assert MsgType.TEST_REQUEST in seen
    wait_for(lambda: not venue.session.logged_on.is_set())  # its side ends just after the hang-up
