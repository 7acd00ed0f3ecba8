"""Builds the trading side of an application: the desk in this process, or its clients.

``TradingPorts`` is what the registry holds of trading. ``local_trading`` builds the desk
itself, loaded and ready (one process, or the desk process of the worker layout);
``tradeguard.trading.channel.remote.remote_trading`` builds clients of a desk process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


def local_trading(services: Services, engine: RiskEngine, publish: Publish) -> TradingPorts:
    """The desk in this process, publishing its feed events to ``publish``."""
    desk = build_trading_desk(services, engine)
    desk.set_publisher(publish)
    return TradingPorts(
        desk,
        AccountReads(desk),
        TradingControls(desk),
        RiskControls(desk),
        LocalDeskLink(),
        desk.housekeeping,
        desk.close,
    )
