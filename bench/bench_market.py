"""Market data (issue: market access): venue quotes per second into the reference prices.

The sample universe (40 symbols) is loaded into a real application's desk; the built-in
simulator, with a fixed seed, makes 200,000 quotes from three venues beforehand. Timed:
``MarketFeed.process`` over the stream in batches (the feed's screening, the per-venue
books and the NBBO, then one ``DeskReferencePrices.mark`` per batch under the desk's
lock), the same with the volatility bands on (the default), and with one quote per
call, the worst case of a feed that trickles.
"""

from __future__ import annotations

import statistics
import time

from apps import scratch_app
from measure import Measurement
from tradeguard.audit.records import Actor
from tradeguard.core.clock import Clock
from tradeguard.db.session import transaction
from tradeguard.market.bands import VolatilityBands
from tradeguard.market.consolidation import QuoteBook, QuoteRules
from tradeguard.market.events import MarketEvent
from tradeguard.market.feed import MarketFeed
from tradeguard.market.simulator import QuoteSimulator, SimulatedSymbol
from tradeguard.registry import Registry
from tradeguard.trading.orders.reference_prices import DeskReferencePrices
from tradeguard.trading.reference_data import load_sample_if_empty

QUOTES = 200_000
BATCH = 1_000
ROUNDS = 5
SEED = 20261206


def _feed(registry: Registry, *, bands: bool = False) -> MarketFeed:
    desk = registry.trading_desk
    sink = DeskReferencePrices(desk, VolatilityBands() if bands else None)
    book = QuoteBook(sink.ticks(), QuoteRules(max_age_ns=desk.limits.max_reference_age_ns))
    return MarketFeed(book, sink, registry.services.clock)


def _quotes(registry: Registry, clock: Clock) -> list[MarketEvent]:
    desk = registry.trading_desk
    universe = [
        SimulatedSymbol(item.symbol, item.tick_size, item.reference_price or item.tick_size)
        for item in desk.risk.instruments.values()
    ]
    simulator = QuoteSimulator(lambda: universe, clock, rate=QUOTES, spread_bps=4, seed=SEED)
    simulator.refresh()
    return list(simulator.quotes(QUOTES))


def _rate(
    registry: Registry, quotes: list[MarketEvent], batch: int, *, bands: bool = False
) -> float:
    rates = []
    for _ in range(ROUNDS):
        feed = _feed(registry, bands=bands)  # fresh venue sequences each round
        started = time.perf_counter_ns()
        for start in range(0, len(quotes), batch):
            feed.process(quotes[start : start + batch])
        rates.append(len(quotes) / ((time.perf_counter_ns() - started) / 1e9))
        assert feed.book.dropped() == 0
    return statistics.median(rates)


def run() -> list[Measurement]:
    with scratch_app(market_data="off") as app:
        registry: Registry = app.state.registry
        services = registry.services
        with transaction(services.sessions) as db:
            load_sample_if_empty(db, services.audit, services.clock, Actor.system("bench"))
        registry.trading_desk.start()
        quotes = _quotes(registry, services.clock)
        batched = _rate(registry, quotes, BATCH)
        banded = _rate(registry, quotes, BATCH, bands=True)
        single = _rate(registry, quotes[: QUOTES // 4], 1)
    return [
        Measurement(
            f"market: quotes/s into the reference prices ({BATCH} per batch)",
            batched,
            "quotes/s",
            target=100_000,
            lower_is_better=False,
        ),
        Measurement(
            f"market: the same with volatility bands ({BATCH} per batch)",
            banded,
            "quotes/s",
            target=100_000,
            lower_is_better=False,
        ),
        Measurement(
            "market: quotes/s, one quote per batch", single, "quotes/s", lower_is_better=False
        ),
    ]
