"""SEC Rule 606 order-routing reports as the SEC's XML (schema ``oh-20191231.xsd``).

``held_order_report`` is the quarterly public report of 606(a)(1): per month, for S&P 500
stocks and for other stocks, the share of non-directed held orders by order type and,
per venue, the share routed there with the net payment paid or received.
``customer_routing_report`` is the 606(b)(1) report for one customer: each order, where
it was routed and when it executed. Both are built from plain records, so the caller
decides where the records come from.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from tradeguard.core.clock import ns_to_datetime

VERSION = "1.2"
NOT_MEANINGFUL = ""
"""The schema's ``NmType``: a blank where a percentage has no orders to count."""
NANOS_PER_SECOND = 1_000_000_000


class OrderKind(StrEnum):
    """The order types of Rule 606(a)(1)."""

    MARKET = "market"
    MARKETABLE_LIMIT = "marketable_limit"
    NON_MARKETABLE_LIMIT = "non_marketable_limit"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Venue:
    """Where orders went: a name (at most 80 characters) and, for an exchange, its MIC."""

    name: str
    mic: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """One place an order went, and when it executed there."""

    venue: Venue
    executed_at_ns: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RoutedOrder:
    """One held, non-directed order: when, what kind, where it went and its executions.

    ``venue`` is where it was routed (606(a)(1)); ``net_payment`` is what the broker
    received for it there (payment for order flow and rebates less fees paid, 1/10,000
    dollar; negative when paid) over ``shares_executed`` shares. ``routes`` lists every
    place it went, in order, for 606(b)(1); empty: ``venue`` with ``executed_at_ns``.
    """

    order_id: str
    placed_at_ns: int
    sp500: bool
    kind: OrderKind
    venue: Venue
    executed_at_ns: tuple[int, ...] = ()
    net_payment: int = 0
    shares_executed: int = 0
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True, slots=True)
class Quarter:
    """A calendar quarter."""

    year: int
    number: int

    def months(self) -> range:
        """The quarter's month numbers."""
        first = 3 * (self.number - 1) + 1
        return range(first, first + 3)


def held_order_report(
    broker: str,
    quarter: Quarter,
    orders: Iterable[RoutedOrder],
    now_ns: int,
    aspects: Mapping[str, str] | None = None,
) -> bytes:
    """The 606(a)(1) report of ``quarter`` over ``orders`` (others are left out).

    ``aspects`` gives the material aspects of the relationship with a venue, by name.
    """
    root = ET.Element("heldOrderRoutingPublicReport")
    _texts(root, version=VERSION, bd=broker, year=str(quarter.year), qtr=str(quarter.number))
    _text(root, "timestamp", _timestamp(now_ns))
    by_month = _by_month(orders, quarter)
    for month in quarter.months():
        monthly = ET.SubElement(root, "rMonthly")
        _texts(monthly, year=str(quarter.year), mon=str(month))
        listed = by_month.get(month, [])
        for tag, sp500 in (("rSP500", True), ("rOtherStocks", False)):
            section = [order for order in listed if order.sp500 is sp500]
            if section:
                _routing_section(ET.SubElement(monthly, tag), section, aspects or {})
    return _document(root)


def customer_routing_report(  # noqa: PLR0913 - who, by whom, over when, what, stamped when
    customer: str,
    broker: str,
    *,
    start: date,
    end: date,
    orders: Iterable[RoutedOrder],
    now_ns: int,
) -> bytes:
    """The 606(b)(1) report of one customer's held orders placed from ``start`` to ``end``."""
    root = ET.Element("heldExemptNotHeldOrderRoutingCustomerReport")
    _texts(root, version=VERSION, customer=customer, bd=broker)
    _texts(root, timestamp=_timestamp(now_ns), startDate=start.isoformat())
    _text(root, "endDate", end.isoformat())
    held = ET.SubElement(root, "held")
    for order in orders:
        if start <= ns_to_datetime(order.placed_at_ns).date() <= end:
            _customer_order(ET.SubElement(held, "order"), order)
    return _document(root)


def _routing_section(
    section: ET.Element, orders: Sequence[RoutedOrder], aspects: Mapping[str, str]
) -> None:
    kinds = [order.kind for order in orders]
    _text(section, "ndoPct", _percent(len(orders), len(orders)))  # every order is non-directed
    for tag, kind in _KIND_TAGS:
        _text(section, tag, _percent(kinds.count(kind), len(kinds)))
    venues = ET.SubElement(section, "rVenues")
    for venue in sorted({order.venue for order in orders}, key=lambda venue: venue.name):
        element = ET.SubElement(venues, "rVenue")
        _venue(element, venue, orders)
        _text(element, "materialAspects", aspects.get(venue.name, MATERIAL_ASPECTS))


_KIND_TAGS = (
    ("ndoMarketPct", OrderKind.MARKET),
    ("ndoMarketableLimitPct", OrderKind.MARKETABLE_LIMIT),
    ("ndoNonmarketableLimitPct", OrderKind.NON_MARKETABLE_LIMIT),
    ("ndoOtherPct", OrderKind.OTHER),
)
_VENUE_KIND_TAGS = (
    ("marketPct", OrderKind.MARKET, "MarketOrders"),
    ("marketableLimitPct", OrderKind.MARKETABLE_LIMIT, "MarketableLimitOrders"),
    ("nonMarketableLimitPct", OrderKind.NON_MARKETABLE_LIMIT, "NonMarketableLimitOrders"),
    ("otherPct", OrderKind.OTHER, "OtherOrders"),
)
MATERIAL_ASPECTS = (
    "Orders are executed in the broker's own order book against other customers' orders; "
    "no payment for order flow is paid or received."
)


def _venue(element: ET.Element, venue: Venue, orders: Sequence[RoutedOrder]) -> None:
    _text(element, "name", venue.name)
    if venue.mic:
        _text(element, "mic", venue.mic)
    here = [order for order in orders if order.venue == venue]
    _text(element, "orderPct", _percent(len(here), len(orders)))
    for tag, kind, _ in _VENUE_KIND_TAGS:
        of_kind = sum(1 for order in orders if order.kind is kind)
        _text(element, tag, _percent(sum(1 for order in here if order.kind is kind), of_kind))
    for _, kind, payment in _VENUE_KIND_TAGS:
        paid = [order for order in here if order.kind is kind]
        units = sum(order.net_payment for order in paid)
        shares = sum(order.shares_executed for order in paid)
        _text(element, f"netPmtPaidRecv{payment}Usd", _dollars(units))
        _text(element, f"netPmtPaidRecv{payment}Cph", _cents_per_hundred(units, shares))


def _dollars(units: int) -> str:
    """1/10,000 dollars as dollars and cents, half away from zero."""
    cents = (abs(units) + 50) // 100
    return f"{'-' if units < 0 and cents else ''}{cents // 100}.{cents % 100:02d}"


def _cents_per_hundred(units: int, shares: int) -> str:
    """A net payment over ``shares`` in cents per hundred shares, to four places.

    A unit is a hundredth of a cent, so units per share are cents per hundred shares.
    """
    if shares == 0:
        return "0.0000"
    ten_thousandths = (abs(units) * 10_000 * 2 + shares) // (2 * shares)
    sign = "-" if units < 0 and ten_thousandths else ""
    return f"{sign}{ten_thousandths // 10_000}.{ten_thousandths % 10_000:04d}"


def _customer_order(element: ET.Element, order: RoutedOrder) -> None:
    _texts(element, orderId=order.order_id, directed="N")
    for route in order.routes or (Route(order.venue, order.executed_at_ns),):
        _route(ET.SubElement(element, "route"), route)


def _route(route: ET.Element, went: Route) -> None:
    _text(route, "venueName", went.venue.name)
    if went.venue.mic:
        _text(route, "mic", went.venue.mic)
    for executed in went.executed_at_ns:
        moment = ns_to_datetime(_nearest_second(executed))
        transaction = ET.SubElement(route, "transaction")
        _texts(transaction, date=moment.date().isoformat(), time=moment.strftime("%H:%M:%S"))


def _nearest_second(ns: int) -> int:
    """``ns`` rounded to the nearest second, half a second rounded up (as 606(b)(1) asks)."""
    return (ns + NANOS_PER_SECOND // 2) // NANOS_PER_SECOND * NANOS_PER_SECOND


def _by_month(orders: Iterable[RoutedOrder], quarter: Quarter) -> dict[int, list[RoutedOrder]]:
    months: dict[int, list[RoutedOrder]] = {}
    for order in orders:
        placed = ns_to_datetime(order.placed_at_ns)
        if placed.year == quarter.year and placed.month in quarter.months():
            months.setdefault(placed.month, []).append(order)
    return months


def _percent(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage with two decimals; blank when ``whole`` is 0."""
    if whole == 0:
        return NOT_MEANINGFUL
    hundredths = (part * 10_000 * 2 + whole) // (2 * whole)  # half up
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def _timestamp(now_ns: int) -> str:
    return ns_to_datetime(now_ns).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(parent: ET.Element, tag: str, value: str) -> None:
    ET.SubElement(parent, tag).text = value


def _texts(parent: ET.Element, **values: str) -> None:
    for tag, value in values.items():
        _text(parent, tag, value)


def _document(root: ET.Element) -> bytes:
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
