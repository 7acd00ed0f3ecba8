"""Rule 606 reports with the venues orders were routed to and the payments received.

The 606(a)(1) report is the one ``market.rule606`` builds, over the stored orders with
each order's venue from its routing decision (the internal book when it stayed there);
then, per month, section (S&P 500 or other stocks), venue and order type, the net
payment for order flow received (USD, and cents per hundred shares executed) goes into
the venue's payment fields, and its material aspects describe the venue's terms. A
payment received is positive; an access fee is not a payment for order flow.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.core.clock import datetime_to_ns, ns_to_datetime
from tradeguard.market.rule606 import OrderKind, Quarter, RoutedOrder, Venue, held_order_report
from tradeguard.routing.models import RoutingDecisionRow
from tradeguard.routing.policy import INTERNAL, VenueTerms
from tradeguard.trading.models import OrderRow
from tradeguard.trading.orders.routing_reports import INTERNAL_BOOK, routed_orders

PRICE_SCALE = Decimal(10_000)
CENTS_PER_HUNDRED_SHARES = Decimal(10_000)
"""Dollars per share times this is cents per hundred shares."""
SECTIONS = {"rSP500": True, "rOtherStocks": False}
PAYMENT_TAGS = {
    OrderKind.MARKET: "MarketOrders",
    OrderKind.MARKETABLE_LIMIT: "MarketableLimitOrders",
    OrderKind.NON_MARKETABLE_LIMIT: "NonMarketableLimitOrders",
    OrderKind.OTHER: "OtherOrders",
}
INTERNAL_ASPECTS = (
    "Orders are executed in the broker's own order book against other customers' orders "
    "only at or better than the national best bid or offer; no payment for order flow."
)


@dataclass(slots=True)
class _Payment:
    units: int = 0
    shares: int = 0


PaymentKey = tuple[int, bool, str, OrderKind]
"""Month, S&P 500 or not, venue name, order kind."""


def venue_of(code: str, terms: Mapping[str, VenueTerms]) -> Venue:
    """The 606 venue of a routing venue code."""
    if code == INTERNAL or code not in terms:
        return INTERNAL_BOOK
    return Venue(terms[code].name[:80], code if len(code) == 4 else None)  # noqa: PLR2004 - a MIC


def quarterly_disclosure(
    db: Session, broker: str, quarter: Quarter, now_ns: int, terms: Mapping[str, VenueTerms]
) -> bytes:
    """The 606(a)(1) report of ``quarter`` with routed venues and payments received."""
    orders = _orders_of(db, quarter)
    decisions = _decisions(db, [order.id for order in orders])
    routed = [
        replace(record, venue=venue_of(decisions[record.order_id].venue, terms))
        if record.order_id in decisions
        else record
        for record in routed_orders(db, orders)
    ]
    payments = _payments(routed, orders, decisions)
    report = held_order_report(broker, quarter, routed, now_ns)
    return _with_payments(report, payments, terms)


def _orders_of(db: Session, quarter: Quarter) -> Sequence[OrderRow]:
    last = quarter.months()[-1]
    first = datetime(quarter.year, last - 2, 1, tzinfo=UTC)
    following = datetime(quarter.year + last // 12, last % 12 + 1, 1, tzinfo=UTC)
    query = select(OrderRow).where(
        OrderRow.created_at_ns >= datetime_to_ns(first),
        OrderRow.created_at_ns < datetime_to_ns(following),
    )
    return db.scalars(query.order_by(OrderRow.id)).all()


def _decisions(db: Session, order_ids: list[str]) -> dict[str, RoutingDecisionRow]:
    found: dict[str, RoutingDecisionRow] = {}
    for start in range(0, len(order_ids), 500):
        chunk = order_ids[start : start + 500]
        query = select(RoutingDecisionRow).where(RoutingDecisionRow.order_id.in_(chunk))
        found.update((row.order_id, row) for row in db.scalars(query))
    return found


def _payments(
    routed: Sequence[RoutedOrder],
    orders: Sequence[OrderRow],
    decisions: Mapping[str, RoutingDecisionRow],
) -> dict[PaymentKey, _Payment]:
    filled = {order.id: order.filled_quantity for order in orders}
    payments: dict[PaymentKey, _Payment] = defaultdict(_Payment)
    for record in routed:
        decision = decisions.get(record.order_id)
        if decision is None:
            continue
        month = ns_to_datetime(record.placed_at_ns).month
        payment = payments[month, record.sp500, record.venue.name, record.kind]
        shares = filled.get(record.order_id, 0)
        payment.units += decision.pfof * shares
        payment.shares += shares
    return payments


def _with_payments(
    report: bytes, payments: Mapping[PaymentKey, _Payment], terms: Mapping[str, VenueTerms]
) -> bytes:
    root = ET.fromstring(report)  # noqa: S314 - the report this module just built
    aspects = {venue_of(code, terms).name: _aspects(item) for code, item in terms.items()}
    for monthly in root.iter("rMonthly"):
        month = int(monthly.findtext("mon") or 0)
        for tag, sp500 in SECTIONS.items():
            for venue in monthly.findall(f"{tag}/rVenues/rVenue"):
                name = venue.findtext("name") or ""
                _fill_venue(venue, name, month, sp500=sp500, payments=payments)
                material = venue.find("materialAspects")
                if material is not None:
                    material.text = aspects.get(name, INTERNAL_ASPECTS)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def _fill_venue(
    venue: ET.Element,
    name: str,
    month: int,
    *,
    sp500: bool,
    payments: Mapping[PaymentKey, _Payment],
) -> None:
    for kind, suffix in PAYMENT_TAGS.items():
        payment = payments.get((month, sp500, name, kind))
        if payment is None:
            continue
        dollars = Decimal(payment.units) / PRICE_SCALE
        usd, cph = (
            venue.find(f"netPmtPaidRecv{suffix}Usd"),
            venue.find(f"netPmtPaidRecv{suffix}Cph"),
        )
        if usd is not None:
            usd.text = str(dollars.quantize(Decimal("0.01")))
        if cph is not None:
            per_share = dollars / payment.shares if payment.shares else Decimal(0)
            cph.text = str((per_share * CENTS_PER_HUNDRED_SHARES).quantize(Decimal("0.0001")))


def _aspects(terms: VenueTerms) -> str:
    pfof = Decimal(terms.pfof) / PRICE_SCALE
    fee = Decimal(terms.access_fee - terms.rebate) / PRICE_SCALE
    return (
        f"Payment for order flow received: ${pfof} per share executed. Net access fee paid: "
        f"${fee} per share. Orders are routed by the best-execution policy (price, then "
        "likelihood and speed of execution, then fees); payment for order flow is never "
        "a routing criterion."
    )
