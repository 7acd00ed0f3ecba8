"""Rule 606 reports: valid against the SEC's schema, and the figures they carry."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree

from tradeguard.core.clock import datetime_to_ns
from tradeguard.market.rule606 import (
    OrderKind,
    Quarter,
    Route,
    RoutedOrder,
    Venue,
    customer_routing_report,
    held_order_report,
)

SCHEMAS = Path("/work/shared/schemas/sec-606")
SAMPLES = ("606a1_held_order_public_report.xml", "606b1_held_exempt_not_held_customer_routing.xml")
BOOK = Venue("Internal order book")
NYSE = Venue("New York Stock Exchange", "XNYS")
SP500, OTHER_STOCK = True, False
NOW = datetime_to_ns(datetime(2026, 7, 1, 12, 0, tzinfo=UTC))


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMAS / "oh-20191231.xsd")))


def at(month: int, day: int, second: float = 0) -> int:
    return datetime_to_ns(datetime(2026, month, day, 15, 30, tzinfo=UTC)) + int(second * 1e9)


def valid(schema: etree.XMLSchema, document: bytes) -> etree._Element:
    root = etree.fromstring(document)
    assert schema.validate(root), schema.error_log
    return root


ORDERS = [
    RoutedOrder("o1", at(4, 2), SP500, OrderKind.MARKET, BOOK, (at(4, 2, 0.5),)),
    RoutedOrder("o2", at(4, 3), SP500, OrderKind.MARKETABLE_LIMIT, BOOK, (at(4, 3),)),
    RoutedOrder("o3", at(4, 6), SP500, OrderKind.NON_MARKETABLE_LIMIT, NYSE),
    RoutedOrder("o4", at(5, 6), OTHER_STOCK, OrderKind.NON_MARKETABLE_LIMIT, BOOK),
    RoutedOrder("o5", at(7, 1), OTHER_STOCK, OrderKind.MARKET, BOOK),  # next quarter
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_secs_own_samples_validate(schema: etree.XMLSchema, sample: str) -> None:
    assert schema.validate(etree.parse(str(SCHEMAS / sample))), schema.error_log


def test_the_schema_refuses_a_broken_report(schema: etree.XMLSchema) -> None:
    report = held_order_report("TradeGuard Securities", Quarter(2026, 2), ORDERS, NOW)
    broken = report.replace(b"<qtr>2</qtr>", b"<qtr>5</qtr>")
    assert not schema.validate(etree.fromstring(broken))


def test_held_order_report_validates_and_counts_each_month(schema: etree.XMLSchema) -> None:
    root = valid(schema, held_order_report("TradeGuard Securities", Quarter(2026, 2), ORDERS, NOW))
    assert root.findtext("qtr") == "2"
    assert root.findtext("timestamp") == "2026-07-01T12:00:00Z"
    april, may, june = root.findall("rMonthly")
    assert [month.findtext("mon") for month in (april, may, june)] == ["4", "5", "6"]
    sp500 = april.find("rSP500")
    assert sp500 is not None
    assert april.find("rOtherStocks") is None
    assert sp500.findtext("ndoPct") == "100.00"
    assert sp500.findtext("ndoMarketPct") == "33.33"
    assert sp500.findtext("ndoNonmarketableLimitPct") == "33.33"
    assert sp500.findtext("ndoOtherPct") == "0.00"
    venues = {venue.findtext("name"): venue for venue in sp500.iter("rVenue")}
    assert venues["Internal order book"].findtext("orderPct") == "66.67"
    assert venues["Internal order book"].findtext("marketPct") == "100.00"
    assert venues["Internal order book"].findtext("otherPct") == ""  # no other orders at all
    assert venues["New York Stock Exchange"].findtext("mic") == "XNYS"
    assert venues["New York Stock Exchange"].findtext("nonMarketableLimitPct") == "100.00"
    assert may.find("rSP500") is None
    assert may.find("rOtherStocks") is not None
    assert june.find("rSP500") is None
    assert june.find("rOtherStocks") is None


def test_customer_report_lists_orders_routes_and_execution_times(
    schema: etree.XMLSchema,
) -> None:
    report = customer_routing_report(
        "acct-1",
        "TradeGuard Securities",
        start=date(2026, 4, 3),
        end=date(2026, 6, 30),
        orders=ORDERS,
        now_ns=NOW,
    )
    root = valid(schema, report)
    orders = root.findall("held/order")
    assert [order.findtext("orderId") for order in orders] == ["o2", "o3", "o4"]
    assert {order.findtext("directed") for order in orders} == {"N"}
    first = orders[0].find("route")
    assert first is not None
    assert first.findtext("venueName") == "Internal order book"
    assert [(t.findtext("date"), t.findtext("time")) for t in first.iter("transaction")] == [
        ("2026-04-03", "15:30:00")
    ]
    assert orders[1].findtext("route/mic") == "XNYS"


def test_execution_times_round_half_a_second_up(schema: etree.XMLSchema) -> None:
    report = customer_routing_report(
        "acct-1", "B", start=date(2026, 4, 1), end=date(2026, 4, 2), orders=ORDERS, now_ns=NOW
    )
    root = valid(schema, report)
    assert root.findtext("held/order/route/transaction/time") == "15:30:01"


def routed(order_id: str, kind: OrderKind, **paid: int) -> RoutedOrder:
    return RoutedOrder(order_id, at(4, 7), SP500, kind, NYSE, **paid)  # type: ignore[arg-type]


def test_net_payments_received_and_paid_per_venue_and_order_type(schema: etree.XMLSchema) -> None:
    paid = [  # 300 shares at $0.0012 received net; 100 at $0.0030 and 3 for $0.0001 paid net
        routed("p1", OrderKind.MARKET, net_payment=12 * 300, shares_executed=300),
        routed("p2", OrderKind.MARKETABLE_LIMIT, net_payment=-30 * 100, shares_executed=100),
        routed("p3", OrderKind.MARKETABLE_LIMIT, net_payment=-1, shares_executed=3),
    ]
    aspects = {NYSE.name: "Rebates of $0.002 a share on resting orders."}
    report = held_order_report("B", Quarter(2026, 2), paid, NOW, aspects)
    [venue] = valid(schema, report).iter("rVenue")
    assert venue.findtext("netPmtPaidRecvMarketOrdersUsd") == "0.36"
    assert venue.findtext("netPmtPaidRecvMarketOrdersCph") == "12.0000"  # units per share
    assert venue.findtext("netPmtPaidRecvMarketableLimitOrdersUsd") == "-0.30"
    assert venue.findtext("netPmtPaidRecvMarketableLimitOrdersCph") == "-29.1359"  # 3,001 / 103
    assert venue.findtext("netPmtPaidRecvOtherOrdersUsd") == "0.00"
    assert venue.findtext("netPmtPaidRecvOtherOrdersCph") == "0.0000"
    assert venue.findtext("materialAspects") == aspects[NYSE.name]


def test_an_order_that_went_to_a_venue_and_then_rested_here_shows_both_routes(
    schema: etree.XMLSchema,
) -> None:
    routes = (Route(NYSE, (at(4, 7),)), Route(BOOK, (at(4, 7, 30),)))
    order = RoutedOrder("r1", at(4, 7), SP500, OrderKind.MARKETABLE_LIMIT, NYSE, routes=routes)
    report = customer_routing_report(
        "acct-1", "B", start=date(2026, 4, 1), end=date(2026, 4, 30), orders=[order], now_ns=NOW
    )
    first, second = valid(schema, report).iter("route")
    assert (first.findtext("venueName"), first.findtext("mic")) == (NYSE.name, "XNYS")
    assert (second.findtext("venueName"), second.findtext("mic")) == (BOOK.name, None)
    assert second.findtext("transaction/time") == "15:30:30"
