"""Prometheus metrics of the market-data feed: events taken in, dropped, a stalled feed."""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import CollectorRegistry, Counter, Gauge

from tradeguard.market.events import DropReason


class MarketMetrics:
    """The feed's counters, in the application's metrics registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.accepted = Counter(
            "tradeguard_market_events_accepted",
            "Market-data events taken into the reference prices",
            registry=registry,
        )
        self.dropped = Counter(
            "tradeguard_market_events_dropped",
            "Market-data events dropped, never used, by reason",
            ("reason",),
            registry=registry,
        )
        self.stalled = Gauge(
            "tradeguard_market_feed_stalled",
            "1 while no good quote has arrived for longer than the reference age limit",
            registry=registry,
        )
        self._reported: Tally[DropReason] = Tally()

    def observe(self, accepted: int, drops: Tally[DropReason]) -> None:
        """Add a batch's accepted events and the drops counted since the last call."""
        if accepted:
            self.accepted.inc(accepted)
        for reason, total in drops.items():
            new = total - self._reported[reason]
            if new:
                self.dropped.labels(reason.value).inc(new)
                self._reported[reason] = total
