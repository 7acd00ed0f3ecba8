"""Helpers of the trading tests: instruments, funded traders and order requests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import Person, signed_up_with_totp

from support import registry_of
from tradeguard.audit.records import Actor
from tradeguard.audit.verify import VerificationResult, verify_database
from tradeguard.core.clock import FixedClock
from tradeguard.core.money import Money, Price
from tradeguard.db.session import transaction
from tradeguard.identity.models import User
from tradeguard.market.feed import FeedRunner
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.model import AccountKind
from tradeguard.trading.models import InstrumentRow
from tradeguard.trading.orders.accounts import open_account
from tradeguard.trading.orders.desk import TradingDesk
from tradeguard.trading.reference_data import load_sample_if_empty


@contextmanager
def client_over_sample(app: FastAPI, clock: FixedClock) -> Iterator[TestClient]:
    """A client of ``app`` with the sample universe loaded and the desk started."""
    services = registry_of(app).services
    with transaction(services.sessions) as db:
        load_sample_if_empty(db, services.audit, clock, Actor.system("test"))
    desk_of(app).start()
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as test:
        yield test


def runner_of(app: FastAPI) -> FeedRunner:
    """The app's market data runner (the simulator or a provider's stream)."""
    runner = registry_of(app).market_data.runner
    assert runner is not None
    return runner


def verified_trail(app: FastAPI) -> VerificationResult:
    """The app's audit trail verified against its witness once nothing is being written.

    The permission-check writer commits in the background; flushing it waits for a write
    in progress to publish its checkpoint, so none is seen committed but not yet published.
    """
    registry = registry_of(app)
    registry.access_checks.flush()
    services = registry.services
    return verify_database(services.engine, services.audit.witness)


def desk_of(app: FastAPI) -> TradingDesk:
    """The app's trading desk."""
    desk: TradingDesk = registry_of(app).trading_desk
    return desk


def add_instrument(app: FastAPI, symbol: str, reference: str, **flags: Any) -> None:
    """Store an instrument (tick 0.01, lot 1 unless given) and reload the desk."""
    services = registry_of(app).services
    now = services.clock.now_ns()
    row = InstrumentRow(
        symbol=symbol,
        name=f"{symbol} Inc.",
        tier=flags.pop("tier", 1),
        tick_size=flags.pop("tick_size", 100),
        lot_size=flags.pop("lot_size", 1),
        reference_price=Price.parse(reference).units,
        reference_at_ns=now,
        restricted=flags.pop("restricted", False),
        threshold=flags.pop("threshold", False),
        easy_to_borrow=flags.pop("easy_to_borrow", True),
        status=flags.pop("status", "active"),
        updated_at_ns=now,
    )
    assert not flags, f"unknown instrument fields {flags}"
    with transaction(services.sessions) as db:
        db.merge(row)
    desk_of(app).start()


def fund_trader(
    app: FastAPI, person: Person, deposit: str, kind: AccountKind = AccountKind.CASH
) -> str:
    """Open ``person``'s brokerage account with ``deposit`` dollars; returns the account id."""
    services = registry_of(app).services
    with transaction(services.sessions) as db:
        user = db.query(User).filter(User.username == person.username).one()
        account = open_account(
            db,
            services.audit,
            services.clock,
            Actor.system("test"),
            user_id=user.id,
            kind=kind,
            deposit_cents=Money.parse(deposit).cents,
        )
    return account.id


def funded_trader(  # noqa: PLR0913 - who, with what, on which app
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    username: str,
    *,
    deposit: str = "100000.00",
    kind: AccountKind = AccountKind.CASH,
) -> Person:
    """A signed-in trader with an opened, funded account."""
    person = signed_up_with_totp(
        client, mailbox, clock, Person(username=username, email=f"{username}@example.com")
    )
    fund_trader(app, person, deposit, kind)
    return person


def order_terms(**terms: Any) -> dict[str, Any]:
    """A limit day order to buy 10 ACME at 100.00 with a fresh client id, changed by ``terms``."""
    body: dict[str, Any] = {
        "client_order_id": f"c-{uuid.uuid4().hex[:16]}",
        "symbol": "ACME",
        "side": "buy",
        "type": "limit",
        "quantity": 10,
        "limit_price": "100.00",
    }
    body.update(terms)
    return {key: value for key, value in body.items() if value is not None}


def place(client: TestClient, person: Person, **terms: Any) -> Any:
    """POST /v1/orders as ``person``."""
    return client.post("/v1/orders", json=order_terms(**terms), headers=person.headers)
