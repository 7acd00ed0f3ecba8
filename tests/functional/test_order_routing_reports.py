"""Rule 606 reports through the API: a customer's own 606(b)(1), compliance's 606(a)(1)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, reason_of, staff_signed_in
from lxml import etree
from trading_flows import add_instrument, funded_trader, place

from support import registry_of
from tradeguard.core.clock import FixedClock, ns_to_datetime
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind

SCHEMA = Path("/work/shared/schemas/sec-606/oh-20191231.xsd")
MINE = "/v1/reports/order-routing"
QUARTERLY = "/v1/compliance/reports/order-routing"


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def valid(schema: etree.XMLSchema, body: bytes) -> etree._Element:
    root = etree.fromstring(body)
    assert schema.validate(root), schema.error_log
    return root


@pytest.fixture
def traded(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> tuple[Person, Person, dict[str, str]]:
    """Alice rests a buy; Bob sells into it (marketable) and rests another sell."""
    add_instrument(app, "ACME", "100.00")
    alice = funded_trader(client, mailbox, clock, app, "alice")
    bob = funded_trader(client, mailbox, clock, app, "bob", kind=AccountKind.MARGIN)
    add_instrument(app, "ACME", "100.00")
    ids = {
        "rest": place(client, alice, quantity=5, limit_price="100.00").json()["id"],
        "take": place(client, bob, side="sell_short", quantity=5, limit_price="99.00").json()["id"],
        "away": place(client, bob, side="sell_short", quantity=3, limit_price="102.00").json()[
            "id"
        ],
    }
    return alice, bob, ids


def test_a_customer_gets_their_own_606b1_report_and_nobody_elses(
    client: TestClient, schema: etree.XMLSchema, traded: tuple[Person, Person, dict[str, str]]
) -> None:
    alice, bob, ids = traded
    answer = client.get(MINE, headers=alice.headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    root = valid(schema, answer.content)
    assert [order.findtext("orderId") for order in root.iter("order")] == [ids["rest"]]
    route = root.find("held/order/route")
    assert route is not None
    assert route.findtext("venueName") == "TradeGuard internal order book"
    assert len(route.findall("transaction")) == 1  # its one fill
    theirs = valid(schema, client.get(MINE, headers=bob.headers).content)
    assert [order.findtext("orderId") for order in theirs.iter("order")] == [
        ids["take"],
        ids["away"],
    ]


def test_a_trader_cannot_read_the_quarterly_report(
    client: TestClient, traded: tuple[Person, Person, dict[str, str]]
) -> None:
    alice, _, _ = traded
    refused = client.get(f"{QUARTERLY}?year=2026&quarter=1", headers=alice.headers)
    assert reason_of(refused) == (403, "ACCESS_DENIED")


@pytest.fixture
def officer(client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI) -> Person:
    engine = registry_of(app).services.engine
    return staff_signed_in(
        client, mailbox, clock, engine, role="COMPLIANCE", level="operator", username="officer"
    )


@pytest.mark.usefixtures("traded")
def test_compliance_gets_the_quarterly_606a1_report(
    client: TestClient, clock: FixedClock, schema: etree.XMLSchema, officer: Person
) -> None:
    today = ns_to_datetime(clock.now_ns())
    quarter = (today.month - 1) // 3 + 1
    answer = client.get(f"{QUARTERLY}?year={today.year}&quarter={quarter}", headers=officer.headers)
    assert answer.status_code == 200, answer.text
    root = valid(schema, answer.content)
    [month] = [m for m in root.iter("rMonthly") if m.findtext("mon") == str(today.month)]
    section = month.find("rSP500")
    assert section is not None
    assert section.findtext("ndoMarketableLimitPct") == "33.33"  # Bob's sell into the bid
    assert section.findtext("ndoNonmarketableLimitPct") == "66.67"
    assert section.findtext("rVenues/rVenue/orderPct") == "100.00"
    bad = client.get(f"{QUARTERLY}?year={today.year}&quarter=5", headers=officer.headers)
    assert reason_of(bad) == (422, "VALIDATION_FAILED")
