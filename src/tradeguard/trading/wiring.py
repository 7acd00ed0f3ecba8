"""Builds the trading desk of an application, loads its committed state, and its market feed."""

from __future__ import annotations

from tradeguard.config import MarketDataSource
from tradeguard.core.errors import ConfigurationError
from tradeguard.market.bands import VolatilityBands
from tradeguard.market.consolidation import QuoteBook, QuoteRules
from tradeguard.market.feed import FeedRunner, MarketFeed, MarketSource
from tradeguard.market.metrics import MarketMetrics
from tradeguard.market.replay import ReplayFile
from tradeguard.market.simulator import QuoteSimulator, SimulatedSymbol
from tradeguard.risk.engine import RiskEngine
from tradeguard.services import Services
from tradeguard.trading.controls.limits_store import load_limits
from tradeguard.trading.orders.desk import TradingDesk
from tradeguard.trading.orders.reference_prices import Announce, DeskReferencePrices


def build_trading_desk(services: Services, engine: RiskEngine) -> TradingDesk:
    """A desk over the application's database, audit trail and ``engine``, loaded and ready.

    The limits are the defaults with the overrides compliance stored (``risk_limits``).
    """
    with services.sessions() as db:
        limits = load_limits(db)
    desk = TradingDesk(services.sessions, services.audit, engine, limits)
    desk.start()
    return desk


def build_market_feed(
    services: Services, desk: TradingDesk, announce: Announce | None = None
) -> FeedRunner | None:
    """The configured market-data feed into ``desk``'s reference prices (None when off).

    Runs in the process that owns the desk: the desk is the single writer of reference
    prices, the feed hands them over through ``DeskReferencePrices``.
    """
    settings = services.settings
    if settings.market_data is MarketDataSource.OFF:
        return None
    bands = VolatilityBands() if settings.market_volatility_bands else None
    sink = DeskReferencePrices(desk, bands, announce)
    rules = QuoteRules(settings.market_crossed_tolerance_bps, desk.limits.max_reference_age_ns)
    book = QuoteBook(sink.ticks(), rules)
    feed = MarketFeed(book, sink, services.clock, MarketMetrics(services.metrics.registry))
    return FeedRunner(feed, _source(services, desk, book))


def _source(services: Services, desk: TradingDesk, book: QuoteBook) -> MarketSource:
    settings = services.settings
    if settings.market_data is MarketDataSource.REPLAY:
        if settings.market_replay_file is None:
            raise ConfigurationError(
                "TRADEGUARD_MARKET_DATA=replay needs TRADEGUARD_MARKET_REPLAY_FILE"
            )
        return ReplayFile(
            settings.market_replay_file,
            services.clock,
            book.drops,
            rate=settings.market_replay_rate,
        )
    return QuoteSimulator(
        lambda: _simulated(desk),
        services.clock,
        rate=settings.market_simulator_rate,
        spread_bps=settings.market_simulator_spread_bps,
        seed=settings.market_simulator_seed,
    )


def _simulated(desk: TradingDesk) -> list[SimulatedSymbol]:
    """The desk's instruments with a reference price, each walking from that price."""
    with desk.lock:
        instruments = list(desk.risk.instruments.values())
    return [
        SimulatedSymbol(item.symbol, item.tick_size, item.reference_price)
        for item in instruments
        if item.reference_price is not None and not item.halted
    ]
