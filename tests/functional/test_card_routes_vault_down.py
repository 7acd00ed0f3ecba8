"""Without a vault every card route fails closed, changing nothing: 503 when the configured
vault is down, 409 when the installation runs none."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from functional.identity_flows import reason_of
from functional.trading_flows import funded_trader
from tradeguard.config import Settings
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender
from vault.vault_process import free_port

CARD_ID = "01a24d65-996a-7495-a0c7-ae9fc6fec1d0"


@pytest.fixture(params=["off", "external"])
def settings(settings_for: Callable[..., Settings], request: pytest.FixtureRequest) -> Settings:
    """No vault configured, or one configured on a port where nothing listens."""
    return settings_for(vault_mode=request.param, vault_port=free_port())


def test_card_routes_fail_closed_when_the_vault_is_down_or_off(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI, settings: Settings
) -> None:
    dave = funded_trader(client, mailbox, clock, app, "dave", deposit="5.00")
    off = settings.vault_mode == "off"
    unavailable = (409, "PAYMENT_VAULT_OFF") if off else (503, "PAYMENT_VAULT_UNAVAILABLE")
    assert reason_of(client.post("/v1/cards/intake", headers=dave.headers)) == unavailable
    assert reason_of(client.get("/v1/cards", headers=dave.headers)) == unavailable
    added = client.post("/v1/cards", json={"card_id": CARD_ID}, headers=dave.headers)
    assert reason_of(added) == unavailable
    deposit = client.post(
        f"/v1/cards/{CARD_ID}/deposits",
        json={"amount": "10.00"},
        headers=dave.headers | {"idempotency-key": "key-00000001"},
    )
    assert reason_of(deposit) == unavailable
    account = client.get("/v1/account", headers=dave.headers)
    assert account.json()["settled_cash"] == "5.00", account.text


def test_readyz_fails_for_a_configured_vault_that_is_down(
    client: TestClient, settings: Settings
) -> None:
    ready = client.get("/readyz")
    check = (ready.json().get("checks") or ready.json()["checks"])["payment_vault"]
    if settings.vault_mode == "off":
        assert (ready.status_code, check["ok"]) == (200, True)
    else:
        assert (ready.status_code, check["ok"]) == (503, False)
