"""Throttle episodes: a client refused by one limit, from its first refusal to the window's end.

Opening an episode audits ``ratelimit.throttled``; later refusals in the same window only
add to its count, and once the window has ended the episode closes with
``ratelimit.released`` and that count. Episodes are closed as requests arrive (any
request, from anyone), so a quiet node writes the release with its next request. Each
node keeps its own episodes; with shared counters a client refused on two nodes has an
episode on each. At most ``capacity`` episodes are open; beyond that a throttled client
is still audited, but without a release count.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tradeguard.core.clock import Clock
from tradeguard.ratelimit.events import RELEASED, THROTTLED, ClientEvent, EventSink
from tradeguard.ratelimit.verdicts import Verdict, whole_seconds

DEFAULT_CAPACITY = 100_000


@dataclass(slots=True)
class _Episode:
    verdict: Verdict
    ends_at: float
    refusals: int = 1


class ThrottleEpisodes:
    """Open episodes by counter key, closed in order of their windows' ends."""

    def __init__(
        self,
        sink: EventSink,
        clock: Clock,
        *,
        wall: Callable[[], float] = time.time,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        self._sink = sink
        self._clock = clock
        self._wall = wall
        self._capacity = capacity
        self._open: dict[str, _Episode] = {}
        self._ends: list[tuple[float, int, str]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()

    def refused(self, verdict: Verdict, ends_at: float, request_id: str | None) -> None:
        """Count one refusal by ``verdict``'s limit, whose window ends at ``ends_at``."""
        with self._lock:
            episode = self._open.get(verdict.key)
            if episode is not None and episode.ends_at > self._wall():
                episode.refusals += 1
                return
            if episode is not None:
                self._release(verdict.key)
            if len(self._open) < self._capacity:
                self._open[verdict.key] = _Episode(verdict, ends_at)
                heapq.heappush(self._ends, (ends_at, next(self._order), verdict.key))
        self._emit(THROTTLED, verdict, ends_at, request_id)

    def close_ended(self) -> None:
        """Release every episode whose window has ended (cheap when none has)."""
        now = self._wall()
        try:
            if self._ends[0][0] > now:  # read without the lock: only a hint
                return
        except IndexError:  # no episode open
            return
        with self._lock:
            while self._ends and self._ends[0][0] <= now:
                _, _, key = heapq.heappop(self._ends)
                episode = self._open.get(key)
                if episode is not None and episode.ends_at <= now:
                    self._release(key)

    @property
    def open_count(self) -> int:
        """How many episodes are open."""
        return len(self._open)

    def _release(self, key: str) -> None:
        episode = self._open.pop(key)
        data = _describe(episode.verdict) | {"refusals": episode.refusals}
        self._sink(ClientEvent(RELEASED, episode.verdict.client, data, self._clock.now_ns()))

    def _emit(
        self,
        event_type: str,
        verdict: Verdict,
        ends_at: float,
        request_id: str | None,
    ) -> None:
        data = _describe(verdict) | {"retry_after_seconds": whole_seconds(ends_at - self._wall())}
        self._sink(ClientEvent(event_type, verdict.client, data, self._clock.now_ns(), request_id))


def _describe(verdict: Verdict) -> dict[str, str | int]:
    return {
        "limit_scope": verdict.scope.value,
        "route_class": verdict.route_class.value,
        "limit": verdict.limit,
        "window_seconds": verdict.window_seconds,
        "adaptive_level": verdict.level,
    }
