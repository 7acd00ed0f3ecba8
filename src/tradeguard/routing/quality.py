"""Execution quality per venue, for the regular and rigorous best-execution review.

Over the orders routed in a period, per venue (the internal book included): orders and
shares, the fill rate, price improvement against the NBBO at routing (per share and
the share of filled orders improved), the effective spread (twice the distance from
the NBBO midpoint at routing), the realised spread (twice the signed distance from the
midpoint when the venue's report arrived), the mean time from routing to the first
fill, and the payment for order flow and rebates received and access fees paid, each on
the terms recorded for the order's type when it was routed. Money in dollars.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.risk.order_terms import Side
from tradeguard.routing.models import RoutingDecisionRow, VenueFillRow
from tradeguard.trading.models import ExecutionRow

PRICE_SCALE = Decimal(10_000)
NANOS_PER_MILLI = Decimal(1_000_000)
PERCENT = Decimal(100)
CHUNK = 500


@dataclass(frozen=True, slots=True)
class Execution:
    """One fill of a routed order: shares, price, when, the midpoint after (if known)."""

    quantity: int
    price: int
    at_ns: int
    midpoint_after: int | None = None


@dataclass(slots=True)
class _Totals:
    orders: int = 0
    improved_orders: int = 0
    filled_orders: int = 0
    shares_routed: int = 0
    shares_filled: int = 0
    improvement_units: int = 0
    effective_units: int = 0
    realised_units: int = 0
    realised_shares: int = 0
    latency_ns: list[int] = field(default_factory=list)
    pfof_units: int = 0
    fee_units: int = 0
    rebate_units: int = 0


@dataclass(frozen=True, slots=True)
class VenueQuality:
    """One venue's execution quality over the period."""

    venue: str
    orders: int
    shares_routed: int
    shares_filled: int
    fill_rate_pct: str
    price_improvement_per_share: str
    improved_orders_pct: str
    effective_spread_per_share: str
    realised_spread_per_share: str | None
    mean_time_to_fill_ms: str | None
    pfof_received: str
    access_fees_paid: str
    rebates_received: str


def execution_quality(db: Session, start_ns: int, end_ns: int) -> list[VenueQuality]:
    """Per venue, the quality of executions of the orders routed in [start, end)."""
    query = select(RoutingDecisionRow).where(
        RoutingDecisionRow.routed_at_ns >= start_ns, RoutingDecisionRow.routed_at_ns < end_ns
    )
    decisions = db.scalars(query.order_by(RoutingDecisionRow.routed_at_ns)).all()
    fills = _executions(db, decisions)
    totals: dict[str, _Totals] = defaultdict(_Totals)
    for decision in decisions:
        _add(totals[decision.venue], decision, fills.get(decision.order_id, []))
    return [_quality(venue, totals[venue]) for venue in sorted(totals)]


def _add(total: _Totals, decision: RoutingDecisionRow, fills: Sequence[Execution]) -> None:
    total.orders += 1
    total.shares_routed += decision.quantity
    if not fills:
        return
    buy = decision.side == Side.BUY
    direction = 1 if buy else -1
    filled = sum(fill.quantity for fill in fills)
    total.filled_orders += 1
    total.shares_filled += filled
    total.latency_ns.append(min(fill.at_ns for fill in fills) - decision.routed_at_ns)
    total.pfof_units += decision.pfof * filled
    total.fee_units += decision.access_fee * filled
    total.rebate_units += (decision.rebate or 0) * filled
    if decision.nbbo_bid is None or decision.nbbo_ask is None:
        return
    best = decision.nbbo_ask if buy else decision.nbbo_bid
    midpoint_twice = decision.nbbo_bid + decision.nbbo_ask
    improvement = sum(direction * (best - fill.price) * fill.quantity for fill in fills)
    total.improvement_units += improvement
    total.improved_orders += improvement > 0
    total.effective_units += sum(
        abs(2 * fill.price - midpoint_twice) * fill.quantity for fill in fills
    )
    for fill in fills:
        if fill.midpoint_after is not None:
            total.realised_units += (
                2 * direction * (fill.price - fill.midpoint_after) * fill.quantity
            )
            total.realised_shares += fill.quantity


def _quality(venue: str, total: _Totals) -> VenueQuality:
    filled = total.shares_filled
    return VenueQuality(
        venue=venue,
        orders=total.orders,
        shares_routed=total.shares_routed,
        shares_filled=filled,
        fill_rate_pct=_ratio(filled * PERCENT, total.shares_routed, "0.01"),
        price_improvement_per_share=_ratio(total.improvement_units, filled * PRICE_SCALE),
        improved_orders_pct=_ratio(total.improved_orders * PERCENT, total.filled_orders, "0.01"),
        effective_spread_per_share=_ratio(total.effective_units, filled * PRICE_SCALE),
        realised_spread_per_share=(
            _ratio(total.realised_units, total.realised_shares * PRICE_SCALE)
            if total.realised_shares
            else None
        ),
        mean_time_to_fill_ms=(
            _ratio(sum(total.latency_ns), len(total.latency_ns) * NANOS_PER_MILLI, "0.001")
            if total.latency_ns
            else None
        ),
        pfof_received=_ratio(total.pfof_units, PRICE_SCALE, "0.01"),
        access_fees_paid=_ratio(total.fee_units, PRICE_SCALE, "0.01"),
        rebates_received=_ratio(total.rebate_units, PRICE_SCALE, "0.01"),
    )


def _ratio(part: int | Decimal, whole: int | Decimal, places: str = "0.0001") -> str:
    if not whole:
        return str(Decimal(0).quantize(Decimal(places)))
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal(places)))


def _executions(db: Session, decisions: Sequence[RoutingDecisionRow]) -> dict[str, list[Execution]]:
    """Each order's fills: a venue's reports, or the internal book's executions."""
    internal = [row.order_id for row in decisions if row.sent_limit is None]
    routed = [row.order_id for row in decisions if row.sent_limit is not None]
    found: dict[str, list[Execution]] = defaultdict(list)
    for chunk in _chunks(routed):
        for fill in db.scalars(select(VenueFillRow).where(VenueFillRow.order_id.in_(chunk))):
            found[fill.order_id].append(
                Execution(fill.quantity, fill.price, fill.executed_at_ns, fill.midpoint_after)
            )
    for chunk in _chunks(internal):
        query = select(ExecutionRow).where(ExecutionRow.order_id.in_(chunk))
        for row in db.scalars(query):
            found[row.order_id].append(Execution(row.quantity, row.price, row.executed_at_ns))
    return found


def _chunks(ids: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]
