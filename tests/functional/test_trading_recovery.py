"""The desk's memory always matches the database: after a restart and after a failed write."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from identity_flows import reason_of
from trading_flows import add_instrument, desk_of, funded_trader, place

from support import registry_of
from tradeguard.core.clock import FixedClock
from tradeguard.notify.notifier import MemorySender
from tradeguard.risk.account import AccountRisk
from tradeguard.risk.model import AccountKind


def risk_snapshot(app: FastAPI) -> dict[str, Any]:
    """What the checks rely on, per account, in comparable form."""
    desk = desk_of(app)
    with desk.lock:
        return {account_id: _account(account) for account_id, account in desk.risk.accounts.items()}


def _account(account: AccountRisk) -> dict[str, Any]:
    return {
        "settled": account.settled_cash_cents,
        "unsettled": account.unsettled_cash_cents,
        "reserved": account.reserved_cents,
        "equity": account.equity_cents,
        "open_notional": account.open_notional_cents,
        "positions": {s: (p.quantity, p.cost_cents) for s, p in account.positions.items()},
        "open_orders": sorted(
            (o.order_id, o.remaining, o.price, o.reserved_cents)
            for o in account.open_orders.values()
        ),
        "executed_today": account.executed_today_cents,
        "day_trades": list(account.day_trade_days),
    }


def book_snapshot(app: FastAPI, symbol: str) -> list[tuple[str, int, int]]:
    desk = desk_of(app)
    with desk.lock:
        return [
            (
                state.order_id,
                state.remaining_quantity,
                state.limit_price.units if state.limit_price else 0,
            )
            for state in desk.exchange.book(symbol).open_orders()
        ]


@pytest.fixture
def busy_market(
    client: TestClient, mailbox: MemorySender, clock: FixedClock, app: FastAPI
) -> tuple[Any, Any]:
    add_instrument(app, "ACME", "100.00")
    alice = funded_trader(client, mailbox, clock, app, "alice", kind=AccountKind.MARGIN)
    bob = funded_trader(client, mailbox, clock, app, "bob", kind=AccountKind.MARGIN)
    add_instrument(app, "ACME", "100.00")
    for price in ("99.00", "99.50", "100.00"):
        assert place(client, alice, quantity=10, limit_price=price).status_code == 201
    assert (
        place(client, bob, side="sell_short", quantity=15, limit_price="99.50").status_code == 201
    )
    assert (
        place(client, bob, side="sell_short", quantity=7, limit_price="101.00").status_code == 201
    )
    return alice, bob


@pytest.mark.usefixtures("busy_market")
def test_a_restart_rebuilds_exactly_the_committed_state(app: FastAPI) -> None:
    before, book_before = risk_snapshot(app), book_snapshot(app, "ACME")
    desk_of(app).start()
    assert risk_snapshot(app) == before
    assert book_snapshot(app, "ACME") == book_before


def failing_drafts(original: Any) -> Any:
    """``AuditTrail.draft`` failing for a trade: the work fails after memory changed."""

    def failing(event_type: str, *args: Any, **kwargs: Any) -> Any:
        if event_type == "trade.executed":
            raise OSError("disk full")
        return original(event_type, *args, **kwargs)

    return failing


def failing_appends(original: Any) -> Any:
    """``AuditTrail.append_batch`` failing for a batch with a trade: the commit fails."""

    def failing(session: Any, drafts: Any) -> Any:
        if any(draft.event_type == "trade.executed" for draft in drafts):
            raise OSError("disk full")
        return original(session, drafts)

    return failing


@pytest.mark.parametrize(
    ("method", "failure"), [("draft", failing_drafts), ("append_batch", failing_appends)]
)
def test_a_failed_write_leaves_no_trace_in_memory(  # noqa: PLR0913, PLR0917 - fixtures and the failure
    client: TestClient,
    busy_market: tuple[Any, Any],
    app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    failure: Any,
) -> None:
    _, bob = busy_market
    before, book_before = risk_snapshot(app), book_snapshot(app, "ACME")
    audit = registry_of(app).services.audit
    original = getattr(audit, method)
    monkeypatch.setattr(audit, method, failure(original))
    crossing = place(
        client, bob, client_order_id="retry-me", side="sell_short", quantity=5, limit_price="99.00"
    )
    assert reason_of(crossing) == (503, "TRADING_UNAVAILABLE")
    assert crossing.headers["Retry-After"] == "1"
    assert risk_snapshot(app) == before
    assert book_snapshot(app, "ACME") == book_before
    monkeypatch.setattr(audit, method, original)
    retried = place(
        client, bob, client_order_id="retry-me", side="sell_short", quantity=5, limit_price="99.00"
    )
    assert retried.status_code == 201, retried.text
    assert retried.json()["filled_quantity"] == 5
