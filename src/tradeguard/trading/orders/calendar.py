"""The US equity session's close: DAY orders expire at 16:00 New York time on weekdays.

Exchange holidays are not modelled: on a holiday the desk still treats 16:00 as a close,
which only expires DAY orders that could not have traded anyway.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tradeguard.core.clock import NS_PER_SECOND

MARKET_ZONE = ZoneInfo("America/New_York")
MARKET_CLOSE = time(16, 0)
SATURDAY = 5


def previous_close_ns(now_ns: int) -> int:
    """The most recent weekday 16:00 New York time at or before ``now_ns`` (Unix ns)."""
    now = datetime.fromtimestamp(now_ns / NS_PER_SECOND, MARKET_ZONE)
    day = now.date()
    while True:
        close = datetime.combine(day, MARKET_CLOSE, MARKET_ZONE)
        if day.weekday() < SATURDAY and close <= now:
            return int(close.timestamp()) * NS_PER_SECOND
        day -= timedelta(days=1)
