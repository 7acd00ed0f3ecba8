"""Builds the trading side of an application: the desk in this process, or its clients.

``TradingPorts`` is what the registry holds of trading. ``local_trading`` builds the desk
itself, loaded and ready, with its market feed (one process, or the desk process of the
worker layout); ``tradeguard.trading.channel.remote.remote_trading`` builds clients of a
desk process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tradeguard.config import MarketDataSource
from tradeguard.core.errors import ConfigurationError
from tradeguard.market.bands import VolatilityBands
from tradeguard.market.consolidation import QuoteBook, QuoteRules
from tradeguard.market.feed import FeedRunner, MarketFeed, MarketSource
from tradeguard.market.metrics import MarketMetrics
from tradeguard.market.replay import ReplayFile
from tradeguard.market.simulator import QuoteSimulator, SimulatedSymbol
from tradeguard.market.stream import alpaca_stream
from tradeguard.risk.engine import RiskEngine
from tradeguard.services import Services
from tradeguard.trading.controls.limits_store import load_limits
from tradeguard.trading.controls.risk_controls import RiskControls
from tradeguard.trading.controls.trading_controls import TradingControls
from tradeguard.trading.desk_port import (
    DeskLink,
    DeskPort,
    LocalDeskLink,
    RiskControlsPort,
    TradingControlsPort,
)
from tradeguard.trading.orders.account_reads import AccountReads
from tradeguard.trading.orders.desk import Batching, Publish, TradingDesk
from tradeguard.trading.orders.reference_prices import Announce, DeskReferencePrices


@dataclass(frozen=True, slots=True)
class TradingPorts:
    """The desk, its controls and reads as routes reach them, and the desk's own duties."""

    desk: DeskPort
    reads: AccountReads
    controls: TradingControlsPort
    risk: RiskControlsPort
    link: DeskLink
    housekeeping: Callable[[], None] | None
    """The desk's periodic work, when the desk is in this process."""
    close: Callable[[], None] | None = None
    """Let go of the desk's connection at shutdown, when the desk is in this process."""
    market: FeedRunner | None = None
    """The market-data feed into the desk's reference prices, when the desk is here."""


def build_trading_desk(services: Services, engine: RiskEngine) -> TradingDesk:
    """A desk over the application's database, audit trail and ``engine``, loaded and ready.

    The limits are the defaults with the overrides compliance stored (``risk_limits``).
    """
    with services.sessions() as db:
        limits = load_limits(db)
    settings = services.settings
    batching = Batching(
        settings.trading_batch_max_orders, settings.trading_batch_max_wait_us / 1_000_000
    )
    desk = TradingDesk(services.sessions, services.audit, engine, limits, batching=batching)
    desk.start()
    return desk


def local_trading(
    services: Services,
    engine: RiskEngine,
    publish: Publish,
    announce: Announce,
    watched: Callable[[str], bool] | None = None,
) -> TradingPorts:
    """The desk in this process: its events to ``publish``, market-wide news to ``announce``.

    ``watched(user_id)``: whether a user has a live subscriber (None: build every event).
    """
    desk = build_trading_desk(services, engine)
    desk.set_publisher(publish, watched)
    return TradingPorts(
        desk,
        AccountReads(desk),
        TradingControls(desk),
        RiskControls(desk),
        LocalDeskLink(),
        desk.housekeeping,
        desk.close,
        build_market_feed(services, desk, announce),
    )


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
    sink.restore_halts()
    rules = QuoteRules(settings.market_crossed_tolerance_bps, desk.limits.max_reference_age_ns)
    book = QuoteBook(sink.ticks(), rules)
    feed = MarketFeed(book, sink, services.clock, MarketMetrics(services.metrics.registry))
    return FeedRunner(feed, _source(services, desk, book))


def _source(services: Services, desk: TradingDesk, book: QuoteBook) -> MarketSource:
    settings = services.settings
    if settings.market_data is MarketDataSource.ALPACA:
        return alpaca_stream(settings, lambda: sorted(desk_symbols(desk)), book.drops)
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


def desk_symbols(desk: TradingDesk) -> list[str]:
    """Every symbol the desk lists."""
    with desk.lock:
        return list(desk.risk.instruments)


def _simulated(desk: TradingDesk) -> list[SimulatedSymbol]:
    """The desk's instruments with a reference price, each walking from that price."""
    with desk.lock:
        instruments = list(desk.risk.instruments.values())
    return [
        SimulatedSymbol(item.symbol, item.tick_size, item.reference_price)
        for item in instruments
        if item.reference_price is not None and not item.halted
    ]
