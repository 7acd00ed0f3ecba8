"""Builds the trading desk of an application and loads its committed state."""

from __future__ import annotations

from tradeguard.risk.model import RiskLimits
from tradeguard.services import Services
from tradeguard.trading.desk import TradingDesk


def build_trading_desk(services: Services) -> TradingDesk:
    """A desk over the application's database and audit trail, loaded and ready."""
    desk = TradingDesk(services.sessions, services.audit, services.clock, RiskLimits())
    desk.start()
    return desk
