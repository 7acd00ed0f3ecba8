"""The terms every order is written in: side, type and time in force (one definition).

The risk engine, the matching engine and, later, the order API all use these.
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """Which way an order trades; a short sale is marked as such (Reg SHO) and matches as a sell."""

    BUY = "buy"
    SELL = "sell"
    SELL_SHORT = "sell_short"

    @property
    def book_side(self) -> Side:
        """The side of the book the order rests on: ``BUY`` or ``SELL``."""
        return Side.BUY if self is Side.BUY else Side.SELL


class OrderType(StrEnum):
    """Market orders take the liquidity there is (inside the collar); limit orders cap the price."""

    MARKET = "market"
    LIMIT = "limit"


class TimeInForce(StrEnum):
    """How long an unfilled order stays open: the trading day, until cancelled, or not at all."""

    DAY = "day"
    GTC = "gtc"
    IOC = "ioc"
