"""Builds the trading desk of an application and loads its committed state."""

from __future__ import annotations

from tradeguard.risk.engine import RiskEngine
from tradeguard.services import Services
from tradeguard.trading.controls.limits_store import load_limits
from tradeguard.trading.orders.desk import Batching, TradingDesk


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
