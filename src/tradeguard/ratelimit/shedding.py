"""Load shedding: under overload, refuse low-priority requests first (503 ``OVERLOADED``).

Overload is measured in this process: requests in progress against ``in_flight_limit``,
and the mean latency of requests answered in this and the previous second against
``latency_limit_ms``. The larger ratio is the pressure. Both count the server's share of
a request only (``Work``): from admission to the start of its answer, less the time spent
waiting for the client to send its body. A slow upload is the client's own delay; it
neither counts in progress nor as latency, so slow clients cannot make the server shed
the requests of others. From pressure 1 reads and other
writes are shed, from 1.5 sign-in and code sends too, from 2 order entry as well. Order cancels
without credentials are shed from 1; an authenticated caller's cancels and health probes
are never shed. Shed requests are not counted as in progress
and do not feed the latency, so shedding ends once the admitted work is fast again. The
shedder is used from the event loop only (no locking).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.ratelimit.events import SHEDDING_STARTED, SHEDDING_STOPPED, EventSink, SheddingEvent
from tradeguard.ratelimit.route_classes import RouteClass

SHED_FROM_PRESSURE = {
    RouteClass.READ: 1.0,
    RouteClass.DEFAULT: 1.0,
    RouteClass.AUTH: 1.5,
    RouteClass.ORDER_ENTRY: 2.0,
    RouteClass.ORDER_CANCEL: 1.0,
}
"""The pressure at which each class is shed; a class not named here never is. Order
cancels are asked about only when they carry no credentials (``OWNER_FREE``)."""
FIRST_STAGE = min(SHED_FROM_PRESSURE.values())


class RecentLatency:
    """Mean duration of requests finished in the current and the previous second."""

    def __init__(self) -> None:
        self._second = -2
        self._totals = [0.0, 0.0]  # the previous second, this second
        self._counts = [0, 0]
        self._mean_ms = 0.0

    def add(self, now: float, seconds: float) -> None:
        """Count one request that took ``seconds`` and finished at monotonic ``now``."""
        self._roll(int(now))
        self._totals[1] += seconds
        self._counts[1] += 1
        self._mean_ms = sum(self._totals) * 1000 / sum(self._counts)

    def mean_ms(self, now: float) -> float:
        """The mean latency in milliseconds, 0 when nothing finished lately."""
        if int(now) != self._second:
            self._roll(int(now))
        return self._mean_ms

    def _roll(self, second: int) -> None:
        if second == self._second:
            return
        if second == self._second + 1:
            self._totals, self._counts = [self._totals[1], 0.0], [self._counts[1], 0]
        else:
            self._totals, self._counts = [0.0, 0.0], [0, 0]
        self._second = second
        count = sum(self._counts)
        self._mean_ms = sum(self._totals) * 1000 / count if count else 0.0


@dataclass(frozen=True, slots=True)
class ShedLimits:
    """The in-flight count and mean latency that mean overload."""

    in_flight: int
    latency_ms: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ShedLimits:
        """The thresholds the settings configure."""
        return cls(settings.load_shed_in_flight, settings.load_shed_latency_ms)


@dataclass(slots=True)
class Work:
    """The server's share of one admitted request.

    When it began, how long it waited for the client, whether it is waiting now, and
    whether it is done (answered or ended).
    """

    started: float
    waited: float = 0.0
    waiting_since: float | None = None
    done: bool = False


class LoadShedder:
    """Tracks requests in progress and their latency, and says which to shed."""

    def __init__(
        self,
        limits: ShedLimits,
        sink: EventSink,
        clock: Clock,
        monotonic: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.limits = limits
        self._sink = sink
        self._clock = clock
        self.monotonic = monotonic
        self.in_flight = 0
        self.latency = RecentLatency()
        self._shed_count = 0
        self._shed_classes: set[RouteClass] = set()
        self._shedding = False

    def pressure(self, now: float) -> float:
        """How loaded the process is: 1.0 at the first threshold reached."""
        by_queue = self.in_flight / self.limits.in_flight
        by_latency = self.latency.mean_ms(now) / self.limits.latency_ms
        return max(by_latency, by_queue)

    def sheds(self, route_class: RouteClass) -> bool:
        """Whether a request of ``route_class`` arriving now is shed (and counted so)."""
        now = self.monotonic()
        pressure = self.pressure(now)
        if (pressure >= FIRST_STAGE) != self._shedding:
            self._note_state(pressure, now)
        threshold = SHED_FROM_PRESSURE.get(route_class)
        if threshold is None or pressure < threshold:
            return False
        self._shed_count += 1
        self._shed_classes.add(route_class)
        return True

    def started(self) -> Work:
        """Count a request as in progress; pass its ``Work`` to the calls below."""
        self.in_flight += 1
        return Work(self.monotonic())

    def waiting(self, work: Work) -> None:
        """The request waits for its client (its body): not in progress meanwhile."""
        if work.done or work.waiting_since is not None:
            return
        self.in_flight -= 1
        work.waiting_since = self.monotonic()

    def resumed(self, work: Work) -> None:
        """The client's bytes arrived: the request is in progress again."""
        if work.waiting_since is None:
            return
        work.waited += self.monotonic() - work.waiting_since
        work.waiting_since = None
        if not work.done:
            self.in_flight += 1

    def finished(self, work: Work) -> None:
        """Count a request as done (its answer started, or it ended), with its latency."""
        if work.done:
            return
        work.done = True
        now = self.monotonic()
        if work.waiting_since is None:
            self.in_flight -= 1
        else:
            work.waited += now - work.waiting_since
            work.waiting_since = None
        self.latency.add(now, now - work.started - work.waited)

    def _note_state(self, pressure: float, now: float) -> None:
        overloaded = pressure >= FIRST_STAGE
        self._shedding = overloaded
        data: dict[str, object] = {  # integers: audit records hold no floats
            "pressure_percent": round(pressure * 100),
            "in_flight": self.in_flight,
            "in_flight_limit": self.limits.in_flight,
            "latency_ms": round(self.latency.mean_ms(now)),
            "latency_limit_ms": self.limits.latency_ms,
        }
        if not overloaded:
            data |= {
                "shed_requests": self._shed_count,
                "shed_classes": sorted(route_class.value for route_class in self._shed_classes),
            }
            self._shed_count, self._shed_classes = 0, set()
        event_type = SHEDDING_STARTED if overloaded else SHEDDING_STOPPED
        self._sink(SheddingEvent(event_type, data, self._clock.now_ns()))
