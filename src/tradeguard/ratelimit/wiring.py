"""Building the rate limits of an application from its settings."""

from __future__ import annotations

import redis

from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.ratelimit.adaptive import AdaptiveRules, AdaptiveThrottle
from tradeguard.ratelimit.counters import Counters, build_counters
from tradeguard.ratelimit.episodes import ThrottleEpisodes
from tradeguard.ratelimit.events import EventSink
from tradeguard.ratelimit.limiter import RateLimits
from tradeguard.ratelimit.policy import LimitPolicy
from tradeguard.ratelimit.shedding import LoadShedder, ShedLimits


def build_rate_limits(
    settings: Settings,
    shared: redis.Redis | None,
    sink: EventSink,
    clock: Clock,
    counters: Counters | None = None,
) -> RateLimits:
    """The rate limits, adaptive throttle and load shedder the settings configure.

    Counters are in Redis when ``redis_url`` is set (``shared``: the checked client of
    ``connect_redis``), in this process otherwise; ``counters``, when given, are used
    instead (the desk process's, for workers without Redis). ``sink`` receives the audit
    events.
    """
    enabled = settings.rate_limit_enabled
    remote = enabled and (shared is not None or counters is not None)
    shared = shared if enabled else None
    counters = counters if counters is not None and enabled else build_counters(settings, shared)
    adaptive = None
    if settings.rate_limit_adaptive_enabled:
        adaptive = AdaptiveThrottle(counters, AdaptiveRules.from_settings(settings))
    shedder = None
    if settings.load_shed_enabled:
        shedder = LoadShedder(ShedLimits.from_settings(settings), sink, clock)
    return RateLimits(
        LimitPolicy.from_settings(settings),
        counters,
        adaptive,
        ThrottleEpisodes(sink, clock),
        sink=sink,
        clock=clock,
        enabled=enabled,
        remote=remote,
        shedder=shedder,
    )
