"""Execution quality per venue from stored routing decisions and fills: a sell filled
below the NBBO bid in two parts, a buy improved on the offer, an unfilled order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

import tradeguard.tables  # noqa: F401 - registers every table
from tradeguard.db.base import Base
from tradeguard.routing.models import RoutingDecisionRow, VenueFillRow
from tradeguard.routing.quality import execution_quality

MS = 1_000_000


@pytest.fixture
def db() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session


def decision(order_id: str, side: str, quantity: int, **terms: object) -> RoutingDecisionRow:
    values: dict[str, object] = {
        "order_id": order_id,
        "account_id": "acct",
        "symbol": "AAPL",
        "side": side,
        "order_type": "market",
        "quantity": quantity,
        "venue": "XNAS",
        "reasons": "venue_at_nbbo",
        "nbbo_bid": 1_000_000,  # $100.00
        "nbbo_ask": 1_000_400,  # $100.04
        "sent_limit": 990_000,
        "pfof": 20,
        "access_fee": 30,
        "status": "done",
        "routed_at_ns": 10 * MS,
    }
    values.update(terms)
    return RoutingDecisionRow(**values)


def fill(  # noqa: PLR0913, PLR0917 - a fill's fields
    order_id: str, exec_id: str, quantity: int, price: int, at_ms: int, after: int
) -> VenueFillRow:
    return VenueFillRow(
        venue="XNAS",
        exec_id=exec_id,
        order_id=order_id,
        quantity=quantity,
        price=price,
        midpoint_after=after,
        executed_at_ns=at_ms * MS,
    )


def test_quality_when_a_sell_fills_in_parts_and_a_buy_is_improved(db: Session) -> None:
    db.add_all(
        [
            decision("sell", "sell", 200),
            fill("sell", "E1", 100, 1_000_000, 12, 999_000),  # at the bid; the market fell
            fill("sell", "E2", 100, 999_800, 14, 999_000),  # 2 cents below the bid
            decision("buy", "buy", 100),
            fill("buy", "E3", 100, 1_000_300, 11, 1_000_200),  # 1 cent better than the offer
            decision("none", "buy", 100),  # never filled
        ]
    )
    db.commit()
    [xnas] = execution_quality(db, 0, 100 * MS)
    assert (xnas.orders, xnas.shares_routed, xnas.shares_filled) == (3, 400, 300)
    assert xnas.fill_rate_pct == "75.00"
    # (0 - 0.02 * 100 + 0.01 * 100) / 300 shares
    assert xnas.price_improvement_per_share == "-0.0033"
    assert xnas.improved_orders_pct == "50.00"
    # twice the distance from the $100.02 midpoint: 0.04, 0.08, 0.02 per share
    assert xnas.effective_spread_per_share == str(round((4 + 8 + 2) / 3 / 100, 4))
    # Rule 605: a buy 2 x (price - midpoint after), a sell 2 x (midpoint after - price)
    # -0.20 and -0.16 on the sells (the market fell after), +0.02 on the buy
    assert xnas.realised_spread_per_share == "-0.1133"
    assert xnas.mean_time_to_fill_ms == "1.500"  # 2 ms and 1 ms to the first fill
    assert xnas.pfof_received == "0.60"  # $0.002 a share on 300 shares
    assert xnas.access_fees_paid == "0.90"


def test_quality_when_nothing_was_routed_in_the_period_is_empty(db: Session) -> None:
    db.add(decision("late", "buy", 100, routed_at_ns=500 * MS))
    db.commit()
    assert execution_quality(db, 0, 100 * MS) == []
