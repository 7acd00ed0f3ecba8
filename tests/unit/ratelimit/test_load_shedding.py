from __future__ import annotations

from dataclasses import dataclass

import pytest

from tradeguard.access.check_log import BufferedEvent
from tradeguard.core.clock import FixedClock
from tradeguard.ratelimit.events import SheddingEvent
from tradeguard.ratelimit.route_classes import RouteClass
from tradeguard.ratelimit.shedding import LoadShedder, ShedLimits

START_NS = 1_795_000_000 * 1_000_000_000
ALL_CLASSES = tuple(RouteClass)
FIRST = {RouteClass.READ, RouteClass.DEFAULT, RouteClass.ORDER_CANCEL}
"""Shed from pressure 1 (order cancels only ever asked about without credentials)."""


@dataclass
class Monotonic:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def _shedder(
    in_flight: int = 2, latency_ms: int = 500
) -> tuple[LoadShedder, Monotonic, list[BufferedEvent]]:
    monotonic = Monotonic()
    events: list[BufferedEvent] = []
    shedder = LoadShedder(
        ShedLimits(in_flight, latency_ms), events.append, FixedClock(START_NS), monotonic
    )
    return shedder, monotonic, events


def _shed_classes(shedder: LoadShedder) -> set[RouteClass]:
    return {route_class for route_class in ALL_CLASSES if shedder.sheds(route_class)}


def _hold(shedder: LoadShedder, requests: int) -> None:
    for _ in range(requests):
        shedder.started()


@pytest.mark.parametrize(
    ("held", "shed"),
    [
        (0, set()),
        (1, set()),
        (2, FIRST),
        (3, FIRST | {RouteClass.AUTH}),
        (4, FIRST | {RouteClass.AUTH, RouteClass.ORDER_ENTRY}),
        (400, FIRST | {RouteClass.AUTH, RouteClass.ORDER_ENTRY}),
    ],
)
def test_sheds_when_requests_in_flight_then_low_priority_first(
    held: int, shed: set[RouteClass]
) -> None:
    shedder, _, _ = _shedder(in_flight=2)
    _hold(shedder, held)

    assert _shed_classes(shedder) == shed


def test_sheds_when_latency_high_then_shed_until_it_falls() -> None:
    shedder, monotonic, _ = _shedder(latency_ms=500)
    started = shedder.started()
    monotonic.now += 0.8  # one request took 800 ms
    shedder.finished(started)

    assert _shed_classes(shedder) == FIRST | {RouteClass.AUTH}

    monotonic.now += 2.0  # nothing finished since: no evidence of overload

    assert _shed_classes(shedder) == set()


def test_sheds_when_fast_requests_follow_then_mean_latency_recovers() -> None:
    shedder, monotonic, _ = _shedder(latency_ms=500)
    for duration in (0.6, 0.001, 0.001, 0.001):
        started = shedder.started()
        monotonic.now += duration
        shedder.finished(started)

    assert shedder.latency.mean_ms(monotonic.now) == pytest.approx(150.75)
    assert _shed_classes(shedder) == set()


def test_sheds_when_probe_then_never() -> None:
    shedder, _, _ = _shedder(in_flight=1)
    _hold(shedder, 1000)

    assert not shedder.sheds(RouteClass.OPERATIONS)


def test_sheds_when_overload_starts_and_ends_then_two_events_with_count() -> None:
    shedder, monotonic, events = _shedder(in_flight=1)
    started = shedder.started()
    for _ in range(3):
        shedder.sheds(RouteClass.READ)
    shedder.sheds(RouteClass.OPERATIONS)
    shedder.finished(started)
    monotonic.now += 5

    shedder.sheds(RouteClass.READ)

    assert all(isinstance(event, SheddingEvent) for event in events)
    started_event, stopped_event = events
    assert isinstance(started_event, SheddingEvent)
    assert isinstance(stopped_event, SheddingEvent)
    assert started_event.event_type == "ratelimit.shedding.started"
    assert started_event.data["in_flight"] == 1
    assert stopped_event.event_type == "ratelimit.shedding.stopped"
    assert stopped_event.data["shed_requests"] == 3
    assert stopped_event.data["shed_classes"] == ["read"]


def test_sheds_when_requests_wait_for_their_bodies_then_neither_in_flight_nor_latency() -> None:
    shedder, monotonic, _ = _shedder(in_flight=2, latency_ms=500)
    uploads = [shedder.started() for _ in range(5)]
    for work in uploads:
        shedder.waiting(work)
    monotonic.now += 29.9  # five clients trickle their bodies up to the deadline

    assert shedder.in_flight == 0
    assert _shed_classes(shedder) == set()

    for work in uploads:
        shedder.resumed(work)
        monotonic.now += 0.01  # the server's own work once a body is in
        shedder.finished(work)

    assert shedder.in_flight == 0
    assert shedder.latency.mean_ms(monotonic.now) == pytest.approx(10)
    assert _shed_classes(shedder) == set()


def test_finished_when_called_twice_or_while_waiting_then_counted_once() -> None:
    shedder, monotonic, _ = _shedder(latency_ms=500)
    work = shedder.started()
    monotonic.now += 0.1
    shedder.waiting(work)
    monotonic.now += 5

    shedder.finished(work)
    shedder.finished(work)
    shedder.resumed(work)

    assert shedder.in_flight == 0
    assert shedder.latency.mean_ms(monotonic.now) == pytest.approx(100)
