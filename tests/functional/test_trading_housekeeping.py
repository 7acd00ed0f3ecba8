"""The desk's periodic work: DAY orders expire at the close, proceeds settle, new instruments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import audit_event_types, sign_in_with_totp
from trading_flows import add_instrument, desk_of, funded_trader, place

from support import registry_of
from tradeguard.core.clock import FixedClock
from tradeguard.core.money import Price
from tradeguard.db.session import transaction
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind
from tradeguard.trading.models import InstrumentRow

# A Monday, 15:00 in New York (20:00 UTC in November): one hour before the close.
BEFORE_CLOSE = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)


@pytest.fixture
def traders(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> tuple[Any, Any]:
    clock.set(BEFORE_CLOSE)
    add_instrument(app, "ACME", "100.00")
    alice = funded_trader(client, mailbox, clock, app, "alice")
    bob = funded_trader(client, mailbox, clock, app, "bob", kind=AccountKind.MARGIN)
    add_instrument(app, "ACME", "100.00")
    return alice, bob


def test_day_orders_expire_at_the_close_and_gtc_orders_stay(
    client: TestClient, traders: tuple[Any, Any], clock: FixedClock, app: FastAPI
) -> None:
    alice, _ = traders
    day = place(client, alice, limit_price="99.00").json()
    gtc = place(client, alice, limit_price="98.00", time_in_force="gtc").json()
    desk_of(app).housekeeping()
    assert client.get(f"/v1/orders/{day['id']}", headers=alice.headers).json()["status"] == "open"
    clock.advance(seconds=3600)  # 16:00 New York
    desk_of(app).housekeeping()
    sign_in_with_totp(client, alice, clock)  # the access token expired meanwhile
    expired = client.get(f"/v1/orders/{day['id']}", headers=alice.headers).json()
    assert (expired["status"], expired["cancel_reason"]) == ("cancelled", "expired")
    assert client.get(f"/v1/orders/{gtc['id']}", headers=alice.headers).json()["status"] == "open"
    account = client.get("/v1/account", headers=alice.headers).json()
    assert account["reserved_cash"] == "980.00"  # only the GTC order still holds cash


def test_cash_account_sale_proceeds_settle_the_next_business_day(
    client: TestClient, traders: tuple[Any, Any], clock: FixedClock, app: FastAPI
) -> None:
    alice, bob = traders
    place(client, bob, side="sell_short", quantity=10, limit_price="100.00")
    assert place(client, alice, quantity=10, limit_price="100.00").json()["status"] == "filled"
    place(client, bob, quantity=10, limit_price="100.00")
    add_instrument(app, "ACME", "100.00")
    sold = place(client, alice, side="sell", quantity=10, limit_price="100.00")
    assert sold.json()["status"] == "filled", sold.text
    account = client.get("/v1/account", headers=alice.headers).json()
    assert (account["settled_cash"], account["unsettled_cash"]) == ("99000.00", "1000.00")
    desk_of(app).housekeeping()
    assert client.get("/v1/account", headers=alice.headers).json()["unsettled_cash"] == "1000.00"
    clock.advance(seconds=24 * 3600)  # Tuesday
    desk_of(app).housekeeping()
    sign_in_with_totp(client, alice, clock)
    account = client.get("/v1/account", headers=alice.headers).json()
    assert (account["settled_cash"], account["unsettled_cash"]) == ("100000.00", "0.00")
    assert audit_event_types(registry_of(app).services.engine).count("account.cash.settled") == 1
    desk_of(app).start()  # settled cash was stored, not only held in memory
    assert client.get("/v1/account", headers=alice.headers).json()["settled_cash"] == "100000.00"


def test_instruments_loaded_while_running_are_picked_up(
    client: TestClient, traders: tuple[Any, Any], clock: FixedClock, app: FastAPI
) -> None:
    alice, _ = traders
    assert place(client, alice, symbol="NEWCO").json()["reason_code"] == "RISK_UNKNOWN_SYMBOL"
    services = registry_of(app).services
    clock.advance(seconds=1)
    now = services.clock.now_ns()
    with transaction(services.sessions) as db:
        db.add(
            InstrumentRow(
                symbol="NEWCO",
                name="New Co",
                tier=2,
                tick_size=100,
                lot_size=1,
                reference_price=Price.parse("100.00").units,
                reference_at_ns=now,
                restricted=False,
                threshold=False,
                easy_to_borrow=True,
                status="active",
                updated_at_ns=now,
            )
        )
    desk_of(app).housekeeping()
    placed = place(client, alice, symbol="NEWCO")
    assert placed.status_code == 201, placed.text
    assert "order.cancelled" not in audit_event_types(services.engine)
