"""Live surveillance: orders through the HTTP API raise an alert, email compliance, act.

The embedded watcher runs in the server's own loop; the test only waits for its work.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, build_app, client_at
from sqlalchemy import select
from trading_flows import add_instrument, funded_trader, place

from support import registry_of
from tradeguard.audit.records import Actor
from tradeguard.audit.search import AuditQuery, search
from tradeguard.cases.models import AlertRow
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.db.session import transaction
from tradeguard.identity.models import User
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind, TradingState
from tradeguard.surveillance.profiles import set_profile
from tradeguard.trading.models import TradingAccount

COMPLIANCE = "compliance@tradeguard.localhost"


@pytest.fixture
def app(
    settings_for: Callable[..., Settings], clean_database, clock: FixedClock, mailbox: MemorySender
) -> FastAPI:
    settings = settings_for(
        surveillance_actions=("wash_trading:0.5:REDUCING",), compliance_email=COMPLIANCE
    )
    return build_app(settings, clean_database.engine, clock, mailbox)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with client_at(app) as started:
        yield started


def account_of(app: FastAPI, person: Person) -> str:
    with registry_of(app).services.sessions() as db:
        user = db.scalars(select(User).where(User.username == person.username)).one()
        return db.scalars(select(TradingAccount.id).where(TradingAccount.user_id == user.id)).one()


def wait_for_alerts(app: FastAPI, seconds: float = 10.0) -> list[AlertRow]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with registry_of(app).services.sessions() as db:
            found = list(db.scalars(select(AlertRow).where(AlertRow.source == "surveillance")))
        if found:
            return found
        time.sleep(0.05)
    return []


def test_live_orders_when_one_owner_trades_with_itself_then_alert_email_and_reducing(
    app: FastAPI, client: TestClient, mailbox: MemorySender, clock: FixedClock
) -> None:
    add_instrument(app, "ACME", "100.00")
    alice = funded_trader(client, mailbox, clock, app, "alice", kind=AccountKind.MARGIN)
    bob = funded_trader(client, mailbox, clock, app, "bobby", kind=AccountKind.MARGIN)
    add_instrument(app, "ACME", "100.00")
    registry = registry_of(app)
    accounts = [account_of(app, alice), account_of(app, bob)]
    with transaction(registry.services.sessions) as db:
        for account in accounts:
            set_profile(
                db,
                registry.services.audit,
                Actor.system("test"),
                account,
                kind="client",
                owner="household-7",
                now_ns=clock.now_ns(),
            )
    registry.watchers.reload()
    for seller, buyer in ((alice, bob), (bob, alice)):
        assert (
            place(
                client,
                seller,
                side="sell_short" if seller is alice else "sell",
                quantity=100,
                limit_price="100.00",
            ).status_code
            == 201
        )
        bought = place(client, buyer, side="buy", quantity=100, limit_price="100.00")
        assert bought.json()["filled_quantity"] == 100, bought.text
    (alert,) = wait_for_alerts(app)
    assert (alert.typology, alert.rule, alert.symbol) == ("wash_trading", "wash.same_owner", "ACME")
    assert sorted(json.loads(alert.accounts)) == sorted(accounts)
    deadline = time.monotonic() + 10
    states = lambda: [registry.trading_desk.effective_state(a) for a in accounts]  # noqa: E731
    while time.monotonic() < deadline and TradingState.ACTIVE in states():
        time.sleep(0.05)
    for account in accounts:
        assert registry.trading_desk.effective_state(account) is TradingState.REDUCING
    refused = place(client, alice, side="buy", quantity=1, limit_price="100.00")
    assert refused.status_code != 201
    with registry.services.sessions() as db:
        changes = search(db, AuditQuery(event_type="trading.state.changed")).events
    assert {event.actor.id for event in changes} == {"surveillance"}
    assert any(
        email.to == COMPLIANCE and email.kind == "alert.wash_trading" for email in mailbox.emails
    )
    told = lambda: {e.to for e in mailbox.emails if e.kind == "trading.restricted"}  # noqa: E731
    while time.monotonic() < deadline and len(told()) < len(accounts):
        time.sleep(0.05)
    assert told() == {alice.email, bob.email}
    notice = next(email for email in mailbox.emails if email.kind == "trading.restricted")
    assert "only orders that reduce a position" in notice.text
    assert "wash" not in notice.text  # the suspicion is not told to the suspect
