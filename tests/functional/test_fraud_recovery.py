"""Recovery after a takeover through the HTTP API: a fraudulent sale busted, identity re-verified.

Alice holds 10 ACME; someone in her session sells them cheaply to Bob. Compliance busts
the sale: Alice's shares come back and the proceeds leave her account, Bob keeps what he
bought, the firm's trade-error account holds the difference, the ledger still verifies
and nothing is busted twice. After a recovery Alice can neither withdraw nor change her
password until compliance marks her identity verified again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, reason_of, staff_signed_in, step_up_with_totp
from payment_flows import after_cooling, customer, keyed, verified_link
from sqlalchemy import Engine, select
from trading_flows import add_instrument, funded_trader, place

from support import registry_of
from tradeguard.audit.records import Actor
from tradeguard.core.clock import FixedClock
from tradeguard.db.session import transaction
from tradeguard.fraud import reverification
from tradeguard.identity.models import User
from tradeguard.ledger.journal import FirmAccount
from tradeguard.ledger.models import LedgerLineRow
from tradeguard.ledger.verify import verify
from tradeguard.notify.notifier import MemorySender
from tradeguard.payments.models import WithdrawalRow
from tradeguard.risk.model import AccountKind
from tradeguard.trading.models import ExecutionRow


@pytest.fixture
def market(app: FastAPI) -> FastAPI:
    add_instrument(app, "ACME", "100.00")
    return app


@pytest.fixture
def scene(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, market: FastAPI, clean_database
) -> dict[str, Any]:
    """Alice bought 10 ACME at 100.00 from Bob, then sold them to Bob at 90.00 (the fraud)."""
    alice = funded_trader(client, mailbox, clock, market, "alice")
    bob = funded_trader(client, mailbox, clock, market, "bob", kind=AccountKind.MARGIN)
    add_instrument(market, "ACME", "100.00")
    assert place(client, bob, side="sell_short", quantity=10, limit_price="100.00").is_success
    assert place(client, alice, side="buy", quantity=10, limit_price="100.00").is_success
    add_instrument(market, "ACME", "90.00")
    assert place(client, bob, side="buy", quantity=10, limit_price="90.00").is_success
    sold = place(client, alice, side="sell", quantity=10, limit_price="90.00")
    assert sold.json()["filled_quantity"] == 10, sold.text
    officer = staff_signed_in(
        client, mailbox, clock, clean_database.engine, role="COMPLIANCE", level="operator"
    )
    engine = clean_database.engine
    return {
        "alice": alice,
        "bob": bob,
        "officer": officer,
        "alice_id": _user_id(engine, "alice"),
        "bob_id": _user_id(engine, "bob"),
        "sale": _execution(engine, sold.json()["id"]),
    }


def _user_id(engine: Engine, username: str) -> str:
    with engine.connect() as connection:
        query = select(User.id).where(User.username == username)
        return str(connection.execute(query).scalar_one())


def _execution(engine: Engine, order_id: str) -> str:
    with engine.connect() as connection:
        query = select(ExecutionRow.id).where(ExecutionRow.order_id == order_id)
        return str(connection.execute(query).scalar_one())


def _bust(client: TestClient, who: Person, user_id: str, execution_id: str) -> Any:
    return client.post(
        f"/v1/fraud/users/{user_id}/trades/{execution_id}/bust",
        json={"reason": "sold by someone who took over the account"},
        headers=who.headers,
    )


def _position(client: TestClient, person: Person) -> int:
    positions = client.get("/v1/positions", headers=person.headers).json()
    return sum(item["quantity"] for item in positions if item["symbol"] == "ACME")


def test_bust_when_fraudulent_sale_then_shares_back_proceeds_taken_counterparty_kept(
    client: TestClient, scene: dict[str, Any], app: FastAPI
) -> None:
    alice, bob = scene["alice"], scene["bob"]
    before = client.get("/v1/account", headers=alice.headers).json()
    assert _position(client, alice) == 0
    busted = _bust(client, scene["officer"], scene["alice_id"], scene["sale"])
    assert busted.status_code == 200, busted.text
    assert busted.json()["shares_change"] == 10
    assert busted.json()["cash_change"] == "-900.00"
    assert _position(client, alice) == 10
    after = client.get("/v1/account", headers=alice.headers).json()
    assert float(after["unsettled_cash"]) == float(before["unsettled_cash"]) - 900
    assert after["settled_cash"] == before["settled_cash"]
    assert _position(client, bob) == 0  # Bob covered his short and keeps that fill
    with transaction(registry_of(app).services.sessions) as db:
        assert verify(db).differences == []
        firm = select(LedgerLineRow.amount_cents).where(
            LedgerLineRow.ledger_account == FirmAccount.TRADE_ERRORS.value
        )
        assert list(db.scalars(firm)) == [-90_000]  # the firm holds the proceeds, owes shares


def test_bust_when_asked_twice_then_refused_and_nothing_moves_again(
    client: TestClient, scene: dict[str, Any]
) -> None:
    officer, alice = scene["officer"], scene["alice"]
    assert _bust(client, officer, scene["alice_id"], scene["sale"]).status_code == 200
    again = _bust(client, officer, scene["alice_id"], scene["sale"])
    assert reason_of(again) == (409, "TRADE_ALREADY_BUSTED")
    assert _position(client, alice) == 10


def test_trades_when_reviewer_lists_them_then_newest_first_and_busted_marked(
    client: TestClient, scene: dict[str, Any]
) -> None:
    officer, alice_id = scene["officer"], scene["alice_id"]
    path = f"/v1/fraud/users/{alice_id}/trades"
    listed = client.get(path, headers=officer.headers)
    assert listed.status_code == 200, listed.text
    sale, purchase = listed.json()
    assert (sale["execution_id"], sale["side"], sale["price"]) == (scene["sale"], "sell", "90.00")
    assert (purchase["side"], purchase["quantity"], purchase["busted"]) == ("buy", 10, False)
    assert not sale["busted"]
    assert _bust(client, officer, alice_id, scene["sale"]).status_code == 200
    assert client.get(path, headers=officer.headers).json()[0]["busted"]
    assert client.get(path, headers=scene["alice"].headers).status_code == 403


def test_bust_when_trader_asks_then_forbidden_and_nothing_moves(
    client: TestClient, scene: dict[str, Any]
) -> None:
    alice = scene["alice"]
    refused = _bust(client, alice, scene["alice_id"], scene["sale"])
    assert refused.status_code == 403
    assert _position(client, alice) == 0


def test_bust_when_execution_is_another_customers_then_not_found(
    client: TestClient, scene: dict[str, Any]
) -> None:
    """The execution must be the named customer's: Alice's sale is not Bob's to bust."""
    refused = _bust(client, scene["officer"], scene["bob_id"], scene["sale"])
    assert reason_of(refused) == (404, "TRADE_NOT_FOUND")
    assert _position(client, scene["bob"]) == 0


def test_bust_when_bought_shares_already_sold_then_refused(
    client: TestClient, scene: dict[str, Any], clean_database
) -> None:
    """Alice's purchase cannot be busted: the shares it bought were sold (the fraud)."""
    with clean_database.engine.connect() as connection:
        query = select(ExecutionRow.id).where(
            ExecutionRow.side == "buy",
            ExecutionRow.symbol == "ACME",
            ExecutionRow.price == 1_000_000,
        )
        purchase = str(connection.execute(query).scalars().first())
    refused = _bust(client, scene["officer"], scene["alice_id"], purchase)
    assert reason_of(refused) == (409, "TRADE_BUST_SHARES_GONE")


def test_reverification_when_pending_then_password_change_refused_until_staff_mark_it(
    client: TestClient, scene: dict[str, Any], app: FastAPI, clock: FixedClock
) -> None:
    alice, officer = scene["alice"], scene["officer"]
    services = registry_of(app).services
    with transaction(services.sessions) as db:
        reverification.require(db, scene["alice_id"], Actor("staff", "officer"), clock.now_ns())
    step_up_with_totp(client, alice, clock)
    body = {"new_password": "amber-Canyon-violin-82-moss"}
    refused = client.post("/v1/auth/password", json=body, headers=alice.headers)
    assert reason_of(refused) == (403, "FRAUD_REVERIFICATION_REQUIRED")
    assert client.get("/v1/account", headers=alice.headers).status_code == 200  # unchanged
    by_alice = client.post(
        f"/v1/fraud/users/{scene['alice_id']}/reverified",
        json={"reason": "I am me"},
        headers=alice.headers,
    )
    assert by_alice.status_code == 403
    for reason in ("   ", "ok \x1b[2J", "a\u202eb"):  # blank, a terminal escape, an override
        unfit = client.post(
            f"/v1/fraud/users/{scene['alice_id']}/reverified",
            json={"reason": reason},
            headers=officer.headers,
        )
        assert reason_of(unfit) == (422, "VALIDATION_FAILED")
    marked = client.post(
        f"/v1/fraud/users/{scene['alice_id']}/reverified",
        json={"reason": "passport checked on a video call"},
        headers=officer.headers,
    )
    assert marked.status_code == 200, marked.text
    again = client.post(
        f"/v1/fraud/users/{scene['alice_id']}/reverified",
        json={"reason": "twice"},
        headers=officer.headers,
    )
    assert reason_of(again) == (409, "FRAUD_REVERIFICATION_NOT_PENDING")
    changed = client.post("/v1/auth/password", json=body, headers=alice.headers)
    assert changed.status_code == 200, changed.text


def test_withdrawal_when_reverification_pending_then_refused_and_nothing_requested(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI, clean_database
) -> None:
    clock.set(datetime(2026, 11, 23, 15, 0, tzinfo=UTC))
    ann = customer(client, mailbox, clock, app, "ann")
    link_id = verified_link(client, app, ann)
    after_cooling(client, ann, clock)
    with transaction(registry_of(app).services.sessions) as db:
        ann_id = _user_id(clean_database.engine, "ann")
        reverification.require(db, ann_id, Actor("staff", "officer"), clock.now_ns())
    asked = client.post(
        "/v1/payments/withdrawals",
        json={"bank_link_id": link_id, "amount": "100.00"},
        headers=keyed(ann),
    )
    assert reason_of(asked) == (403, "FRAUD_REVERIFICATION_REQUIRED")
    with transaction(registry_of(app).services.sessions) as db:
        assert db.scalars(select(WithdrawalRow)).all() == []
