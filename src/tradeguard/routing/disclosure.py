"""Rule 606 reports from the routing records: where each order went and what it earned there.

One generator for every 606 report, the API's and the public page's. An order's 606
record comes from its routing decision when it has one (the venue, the order type on
receipt, the venue's terms for that type when routed) and from its executions; an order
placed while routing was off has none and stays in the internal book, typed from how it
traded (``trading.orders.routing_reports``).

The net payment per order is, as Rule 606(a)(1)(iii) counts it, the payment for order
flow and the rebates received less the access fees paid, per share executed at the venue
the order was routed to: positive when received, negative when paid. The 606(b)(1)
report lists each place an order went: the venue, and the internal book where the rest
of a limit order came back to rest, each with its executions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.core.clock import datetime_to_ns, ns_to_datetime
from tradeguard.market.rule606 import (
    OrderKind,
    Quarter,
    Route,
    RoutedOrder,
    Venue,
    customer_routing_report,
    held_order_report,
)
from tradeguard.routing.models import RoutingDecisionRow, VenueFillRow
from tradeguard.routing.policy import INTERNAL, FeeTerms, VenueTerms
from tradeguard.trading.models import OrderRow
from tradeguard.trading.orders.routing_reports import INTERNAL_BOOK, routed_orders

Row = TypeVar("Row", RoutingDecisionRow, VenueFillRow)
PRICE_SCALE = Decimal(10_000)
CUSTOMER_REPORT_DAYS = 183
"""606(b)(1) covers the six months before the request."""
CHUNK = 500
MIC_LENGTH = 4
INTERNAL_ASPECTS = (
    "Orders are executed in the broker's own order book against other customers' orders "
    "only at or better than the national best bid or offer; no payment for order flow, "
    "fee or rebate."
)


def venue_of(code: str, terms: Mapping[str, VenueTerms]) -> Venue:
    """The 606 venue of a routing venue code."""
    if code == INTERNAL:
        return INTERNAL_BOOK
    name = terms[code].name[:80] if code in terms else code  # a venue no longer configured
    return Venue(name, code if len(code) == MIC_LENGTH else None)


def quarterly_disclosure(
    db: Session, broker: str, quarter: Quarter, now_ns: int, terms: Mapping[str, VenueTerms]
) -> bytes:
    """The 606(a)(1) report of ``quarter``: venues, order types and net payments."""
    orders = _orders_of(db, quarter)
    records = disclosed_orders(db, orders, terms)
    return held_order_report(broker, quarter, records, now_ns, material_aspects(terms))


def customer_disclosure(
    db: Session, broker: str, account_id: str, now_ns: int, terms: Mapping[str, VenueTerms]
) -> bytes:
    """The 606(b)(1) report of one account's orders over the last six months."""
    end = ns_to_datetime(now_ns).date()
    start = end - timedelta(days=CUSTOMER_REPORT_DAYS)
    first = datetime_to_ns(datetime(start.year, start.month, start.day, tzinfo=UTC))
    query = select(OrderRow).where(
        OrderRow.account_id == account_id, OrderRow.created_at_ns >= first
    )
    orders = db.scalars(query.order_by(OrderRow.created_at_ns, OrderRow.id)).all()
    records = disclosed_orders(db, orders, terms)
    return customer_routing_report(
        account_id, broker, start=start, end=end, orders=records, now_ns=now_ns
    )


def disclosed_orders(
    db: Session, orders: Sequence[OrderRow], terms: Mapping[str, VenueTerms]
) -> list[RoutedOrder]:
    """``orders`` as 606 records, from their routing decisions where they have one."""
    ids = [order.id for order in orders]
    decisions = {row.order_id: row for row in _chunked(db, RoutingDecisionRow, ids)}
    fills: dict[str, list[VenueFillRow]] = {}
    for fill in _chunked(db, VenueFillRow, ids):
        fills.setdefault(fill.order_id, []).append(fill)
    return [
        _disclosed(record, decisions.get(record.order_id), fills.get(record.order_id, []), terms)
        for record in routed_orders(db, orders)
    ]


def material_aspects(terms: Mapping[str, VenueTerms]) -> dict[str, str]:
    """What the report says of the broker's relationship with each venue, by 606 name."""
    aspects = {INTERNAL_BOOK.name: INTERNAL_ASPECTS}
    for code, venue in terms.items():
        aspects[venue_of(code, terms).name] = _aspects(venue)
    return aspects


def _disclosed(
    record: RoutedOrder,
    decision: RoutingDecisionRow | None,
    fills: Sequence[VenueFillRow],
    terms: Mapping[str, VenueTerms],
) -> RoutedOrder:
    if decision is None or decision.venue == INTERNAL:
        kind = OrderKind(decision.order_kind) if decision and decision.order_kind else record.kind
        return replace(record, kind=kind)
    venue = venue_of(decision.venue, terms)
    shares = sum(fill.quantity for fill in fills)
    at_venue = tuple(sorted(fill.executed_at_ns for fill in fills))
    return replace(
        record,
        kind=OrderKind(decision.order_kind) if decision.order_kind else record.kind,
        venue=venue,
        net_payment=net_payment(decision, fills),
        shares_executed=shares,
        routes=_routes(venue, at_venue, record.executed_at_ns),
    )


def _routes(
    venue: Venue, at_venue: tuple[int, ...], executed: tuple[int, ...]
) -> tuple[Route, ...]:
    """The venue's route, then the internal book's when executions happened there too."""
    internal = Counter(executed)
    internal.subtract(at_venue)
    rest = tuple(sorted(internal.elements()))
    routes = (Route(venue, at_venue),)
    return (*routes, Route(INTERNAL_BOOK, rest)) if rest else routes


def net_payment(decision: RoutingDecisionRow, fills: Sequence[VenueFillRow]) -> int:
    """What the broker received for an order at its venue, 1/10,000 dollar (negative: paid).

    Payment for order flow and rebate less access fee, per share executed there, on the
    terms recorded when the order was routed.
    """
    terms = FeeTerms(decision.access_fee, decision.rebate or 0, decision.pfof)
    return terms.net_payment * sum(fill.quantity for fill in fills)


def _orders_of(db: Session, quarter: Quarter) -> Sequence[OrderRow]:
    last = quarter.months()[-1]
    first = datetime(quarter.year, last - 2, 1, tzinfo=UTC)
    following = datetime(quarter.year + last // 12, last % 12 + 1, 1, tzinfo=UTC)
    query = select(OrderRow).where(
        OrderRow.created_at_ns >= datetime_to_ns(first),
        OrderRow.created_at_ns < datetime_to_ns(following),
    )
    return db.scalars(query.order_by(OrderRow.id)).all()


def _chunked(db: Session, table: type[Row], order_ids: list[str]) -> list[Row]:
    found: list[Row] = []
    for start in range(0, len(order_ids), CHUNK):
        chunk = order_ids[start : start + CHUNK]
        found.extend(db.scalars(select(table).where(table.order_id.in_(chunk))))
    return found


def _aspects(terms: VenueTerms) -> str:
    kinds = "; ".join(
        f"{kind.value.replace('_', ' ')} orders: {_terms_text(terms.fees(kind))}"
        for kind in OrderKind
    )
    return (
        f"Per share executed, {kinds}. Orders are routed by the best-execution policy "
        "(price, then likelihood and speed of execution, then fees); payment for order "
        "flow is never a routing criterion."
    )


def _terms_text(fees: FeeTerms) -> str:
    def dollars(units: int) -> str:
        return f"${Decimal(units) / PRICE_SCALE}"

    return (
        f"payment for order flow received {dollars(fees.pfof)}, rebate received "
        f"{dollars(fees.rebate)}, access fee paid {dollars(fees.access_fee)}"
    )
