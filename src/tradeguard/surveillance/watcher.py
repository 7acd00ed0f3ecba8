"""The live surveillance watcher: the trading audit events, through the same engine as replay.

``order.placed``, ``order.modified``, ``order.cancelled`` and ``trade.executed`` become
the engine's market events; everything else is ignored. An event the engine cannot
place (an order placed before the watcher's warm-up window), or one whose data is not
the trading desk's, is skipped and logged: it never stops the watcher. An execution an
outside venue reported for a routed order (``trade.executed`` with a ``venue``) is a
trade of that order's account against the venue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tradeguard.audit.search import AuditEvent
from tradeguard.cases.model import AlertDraft
from tradeguard.logs import get_logger
from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.engine import Surveillance, UnknownOrderError
from tradeguard.surveillance.events import (
    MarketEvent,
    OrderCancelled,
    OrderModified,
    OrderPlaced,
    TradeExecuted,
    VenueExecution,
    price_units,
    side_of,
)
from tradeguard.surveillance.parameters import NS, SurveillanceParameters

log = get_logger("tradeguard.surveillance")
EVENT_TYPES = frozenset({"order.placed", "order.modified", "order.cancelled", "trade.executed"})
WARMUP_SECONDS = 2 * 3600


class SurveillanceWatcher:
    """Market surveillance as a watcher of the audit trail."""

    name = "surveillance"
    event_types = EVENT_TYPES
    warmup_ns = WARMUP_SECONDS * NS

    def __init__(self, directory: AccountDirectory, params: SurveillanceParameters) -> None:
        self.engine = Surveillance(directory, params)

    def observe(self, event: AuditEvent) -> Sequence[AlertDraft]:
        """The alerts one trading event raises or extends."""
        try:
            market = market_event(event)
        except (KeyError, TypeError, ValueError):
            log.warning("surveillance.unreadable_event", seq=event.seq, event_type=event.event_type)
            return []
        if market is None:
            return []
        try:
            return self.engine.process(market)
        except UnknownOrderError:
            log.warning("surveillance.unknown_order", seq=event.seq, event_type=event.event_type)
            return []


def market_event(event: AuditEvent) -> MarketEvent | None:
    """The market event an audit event records, or None."""
    convert = CONVERTERS.get(event.event_type)
    return None if convert is None else convert(event.ts_ns, event.subject or "", event.data)


def _placed(ts: int, order_id: str, data: dict[str, Any]) -> MarketEvent:
    price = price_units(data.get("limit_price")) if data.get("type") == "limit" else None
    return OrderPlaced(
        ts,
        order_id,
        str(data["account"]),
        str(data["symbol"]),
        side_of(str(data["side"])),
        int(data["quantity"]),
        price,
    )


def _modified(ts: int, order_id: str, data: dict[str, Any]) -> MarketEvent:
    after = data["after"]
    return OrderModified(ts, order_id, int(after["quantity"]), price_units(after["limit_price"]))


def _cancelled(ts: int, order_id: str, data: dict[str, Any]) -> MarketEvent:
    del data
    return OrderCancelled(ts, order_id)


def _traded(ts: int, symbol: str, data: dict[str, Any]) -> MarketEvent:
    price = price_units(data["price"])
    venue = data.get("venue")
    if venue is not None:  # an outside venue's execution of our order: the other side is its
        ours = data["sell"] if data["buy"]["account"] == venue else data["buy"]
        return VenueExecution(
            ts,
            str(data["sequence"]),  # the venue's execution, as the router names it
            str(data["symbol"]),
            int(data["quantity"]),
            price or 0,
            str(ours["order"]),
            str(venue),
        )
    return TradeExecuted(
        ts,
        f"{symbol}:{data['sequence']}",
        str(data["symbol"]),
        int(data["quantity"]),
        price or 0,
        str(data["buy"]["order"]),
        str(data["sell"]["order"]),
    )


CONVERTERS: dict[str, Callable[[int, str, dict[str, Any]], MarketEvent]] = {
    "order.placed": _placed,
    "order.modified": _modified,
    "order.cancelled": _cancelled,
    "trade.executed": _traded,
}
