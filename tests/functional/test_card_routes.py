"""Card routes of the main API against a running vault: add a card, deposit by card
(credited once per idempotency key), declines and 3-D Secure, other customers' cards,
a vault that is down (503, nothing changed), and no card number in the main database."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text

from functional.identity_flows import Person, audit_event_types, reason_of
from functional.trading_flows import funded_trader
from support import TestDatabase, registry_of
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.db.session import transaction
from tradeguard.notify.notifier import MemorySender
from tradeguard.trading.models import TradingAccount
from vault.vault_process import RunningVault, running_vault

pytestmark = pytest.mark.live_server
VISA = "4242424242424242"
DECLINED_AT_CHARGE = "4000000000000341"
NEEDS_3DS = "4000000000003220"


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningVault]:
    with running_vault(tmp_path_factory.mktemp("card-routes-vault")) as running:
        yield running


def _trust_vault(vault: RunningVault, var_dir: Path) -> None:
    """The files ``tradeguard init`` leaves in var/tls: the CA and the client pair."""
    target = var_dir / "tls"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("dev-ca.pem", "vault-client.pem", "vault-client.key"):
        shutil.copy(vault.tls_dir / name, target / name)


@pytest.fixture
def settings(
    settings_for: Callable[..., Settings], vault: RunningVault, tmp_path: Path
) -> Settings:
    _trust_vault(vault, tmp_path / "var")
    return settings_for(vault_mode="external", vault_port=vault.port)


def _add_card(client: TestClient, vault: RunningVault, who: Person, number: str) -> str:
    intake = client.post("/v1/cards/intake", headers=who.headers)
    assert intake.status_code == 201, intake.text
    status, card = vault.tokenize(
        {
            "ticket": intake.json()["ticket"],
            "number": number,
            "exp_month": 11,
            "exp_year": 2033,
            "cvc": "321",
        }
    )
    assert status == 201, card
    added = client.post("/v1/cards", json={"card_id": card["id"]}, headers=who.headers)
    assert added.status_code == 201, added.text
    return str(card["id"])


def _deposit(client: TestClient, who: Person, card_id: str, amount: str, key: str) -> Any:
    return client.post(
        f"/v1/cards/{card_id}/deposits",
        json={"amount": amount},
        headers=who.headers | {"idempotency-key": key},
    )


def _cash(app: FastAPI) -> list[int]:
    with transaction(registry_of(app).services.sessions) as db:
        return [row.settled_cash_cents for row in db.scalars(select(TradingAccount))]


def test_a_card_deposit_is_charged_and_credited_once(  # noqa: PLR0913, PLR0917 - fixtures
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    vault: RunningVault,
    clean_database: TestDatabase,
) -> None:
    alice = funded_trader(client, mailbox, clock, app, "alice", deposit="10.00")
    card_id = _add_card(client, vault, alice, "4242 4242 4242 4242")
    listed = client.get("/v1/cards", headers=alice.headers).json()
    assert [(c["id"], c["brand"], c["last4"]) for c in listed] == [(card_id, "Visa", "4242")]
    key = f"deposit-{uuid.uuid4().hex}"
    first = _deposit(client, alice, card_id, "250.00", key)
    again = _deposit(client, alice, card_id, "250.00", key)
    assert first.status_code == 200, first.text
    assert (first.json()["credited"], first.json()["status"]) == (True, "pending")
    assert first.json()["charge_id"] == again.json()["charge_id"]
    assert first.json()["deposit_id"] == again.json()["deposit_id"]
    assert _cash(app) == [26_000]
    events = audit_event_types(clean_database.engine)
    assert events.count("payment.card_added") == 1
    assert events.count("payments.deposit.credited") == 1
    _assert_no_card_number(clean_database)


def test_declines_and_3d_secure_are_clear_and_credit_nothing(  # noqa: PLR0913, PLR0917 - fixtures
    client: TestClient,
    mailbox: MemorySender,
    clock: FixedClock,
    app: FastAPI,
    vault: RunningVault,
    clean_database: TestDatabase,
) -> None:
    bob = funded_trader(client, mailbox, clock, app, "bob", deposit="0.00")
    declined = _add_card(client, vault, bob, DECLINED_AT_CHARGE)
    secure = _add_card(client, vault, bob, NEEDS_3DS)
    refused = _deposit(client, bob, declined, "10.00", f"k-{uuid.uuid4().hex}")
    assert reason_of(refused) == (402, "PAYMENT_CARD_DECLINED")
    challenged = _deposit(client, bob, secure, "10.00", f"k-{uuid.uuid4().hex}")
    assert reason_of(challenged) == (402, "PAYMENT_AUTHENTICATION_REQUIRED")
    assert reason_of(_deposit(client, bob, secure, "10.001", "k-amount-1")) == (
        422,
        "PAYMENT_AMOUNT_INVALID",
    )
    assert _cash(app) == [0]
    events = audit_event_types(clean_database.engine)
    assert events.count("payment.card_deposit_refused") == 2
    assert "payments.deposit.recorded" not in events


def test_another_customers_card_answers_404(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI, vault: RunningVault
) -> None:
    carol = funded_trader(client, mailbox, clock, app, "carol", deposit="0.00")
    mallory = funded_trader(client, mailbox, clock, app, "mallory", deposit="0.00")
    card_id = _add_card(client, vault, carol, VISA)
    steal = _deposit(client, mallory, card_id, "10.00", f"k-{uuid.uuid4().hex}")
    assert reason_of(steal) == (404, "PAYMENT_CARD_NOT_FOUND")
    removal = client.delete(f"/v1/cards/{card_id}", headers=mallory.headers)
    assert reason_of(removal) == (404, "PAYMENT_CARD_NOT_FOUND")
    claim = client.post("/v1/cards", json={"card_id": card_id}, headers=mallory.headers)
    assert reason_of(claim) == (404, "PAYMENT_CARD_NOT_FOUND")
    assert client.delete(f"/v1/cards/{card_id}", headers=carol.headers).status_code == 204
    assert client.get("/v1/cards", headers=carol.headers).json() == []


def _assert_no_card_number(database: TestDatabase) -> None:
    tables = inspect(database.engine).get_table_names()
    with database.engine.connect() as connection:
        for table in tables:
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()  # noqa: S608 - catalogue names
            dumped = repr(rows)
            assert VISA not in dumped, table
            assert "4242 4242" not in dumped, table


def test_readyz_reports_the_vault_reached_over_mutual_tls(client: TestClient) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["payment_vault"] == {
        "ok": True,
        "detail": "reachable over mutual TLS, processor reachable",
    }


def test_the_service_keeps_its_vault_connection_and_closes_it_at_shutdown(app: FastAPI) -> None:
    vault_client = registry_of(app).card_vault.client
    with TestClient(app, base_url="https://testserver") as test:
        for _ in range(3):
            assert test.get("/readyz").status_code == 200
        assert vault_client.connected
        assert vault_client.context is not None
        assert vault_client.context.session_stats()["connect"] == 1
    assert not vault_client.connected
