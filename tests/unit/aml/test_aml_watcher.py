"""The AML watcher over the audit trail: trades and money movement reach the shared queue."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from tradeguard.aml.parameters import MonitorParameters
from tradeguard.aml.watcher import AmlWatcher
from tradeguard.audit.records import Actor
from tradeguard.cases.models import AlertRow
from tradeguard.cases.store import AlertStore
from tradeguard.db.session import transaction
from tradeguard.watch.runner import CursorRunner
from unit.audit.audit_kit import AuditKit

PAYMENTS = Actor.system("payments")
HOUR_NS = 3_600 * 10**9


def record(kit: AuditKit, event_type: str, subject: str, data: dict[str, Any]) -> None:
    """One audit event in its own transaction, an hour after the previous one."""
    with transaction(kit.sessions) as db:
        kit.trail.record(db, event_type, PAYMENTS, subject, data)
    kit.clock.advance(nanoseconds=HOUR_NS)


def deposit(kit: AuditKit, account: str, amount: str, method: str = "cash", **extra: str) -> None:
    """A settled deposit as the money-movement service records it."""
    record(kit, "payments.deposit.settled", account,
           {"account": account, "amount": amount, "method": method, **extra})  # fmt: skip


def run(kit: AuditKit, store: AlertStore) -> list[AlertRow]:
    """Run the AML watcher until it has caught up; the alerts in the store."""
    runner = CursorRunner(kit.sessions, store, lambda: AmlWatcher(MonitorParameters()), kit.clock)
    runner.run_until_caught_up()
    with kit.sessions() as db:
        return list(db.scalars(select(AlertRow).order_by(AlertRow.typology)))


def test_watcher_when_cash_structured_over_two_accounts_then_one_alert_for_the_customer(
    kit: AuditKit, store: AlertStore
) -> None:
    record(kit, "account.opened", "acct-1", {"user_id": "user-9", "kind": "cash"})
    record(kit, "account.opened", "acct-2", {"user_id": "user-9", "kind": "cash"})
    for account, amount in (("acct-1", "9500.00"), ("acct-2", "9700.00"), ("acct-1", "9100")):
        deposit(kit, account, amount)
    (alert,) = run(kit, store)
    assert alert.typology == "structuring"
    assert alert.customer == "user-9"
    assert json.loads(alert.accounts) == ["acct-1", "acct-2"]
    assert json.loads(alert.evidence)["total"] == "28300.00"
    assert json.loads(alert.parameters)["band_floor_cents"] == 800_000


def test_watcher_when_run_again_then_the_same_alert_not_a_second(
    kit: AuditKit, store: AlertStore
) -> None:
    deposit(kit, "acct-1", "9500.00")
    deposit(kit, "acct-1", "9600.00")
    assert len(run(kit, store)) == 1
    deposit(kit, "acct-1", "9700.00")
    (alert,) = run(kit, store)
    assert len(json.loads(alert.evidence)["transactions"]) == 3


def test_watcher_when_deposit_then_trades_then_withdrawal_then_rapid_movement_judged_on_trading(
    kit: AuditKit, store: AlertStore
) -> None:
    deposit(kit, "acct-1", "40000.00", "wire")
    deposit(kit, "acct-2", "40000.00", "wire")
    trade = {
        "symbol": "ACME", "quantity": 1000, "price": "30.00",
        "buy": {"account": "acct-2", "order": "o1"}, "sell": {"account": "acct-3", "order": "o2"},
    }  # fmt: skip
    record(kit, "trade.executed", "ACME", trade)
    for account in ("acct-1", "acct-2"):
        record(kit, "payments.withdrawal.settled", account,
               {"account": account, "amount": "39000.00", "method": "wire"})  # fmt: skip
    alerts = run(kit, store)
    assert [(a.typology, a.customer) for a in alerts] == [("rapid_movement", "acct-1")]


def test_watcher_when_event_data_is_malformed_then_operations_alert_per_event_not_failure(
    kit: AuditKit, store: AlertStore
) -> None:
    deposit(kit, "acct-1", "not money")
    deposit(kit, "acct-1", "9500.00", "barter")
    record(kit, "trade.executed", "ACME", {"symbol": "ACME"})
    deposit(kit, "acct-1", "60000.00", "wire", counterparty="X", counterparty_country="IR")
    alerts = run(kit, store)
    assert [a.typology for a in alerts] == [
        "aml.event_unreadable", "aml.event_unreadable", "aml.event_unreadable",
        "high_risk_geography", "large_transaction",
    ]  # fmt: skip
    faults = [json.loads(a.evidence) for a in alerts if a.typology == "aml.event_unreadable"]
    assert sorted(f["event_type"] for f in faults) == [
        "payments.deposit.settled", "payments.deposit.settled", "trade.executed",
    ]  # fmt: skip
    assert {f["fault"] for f in faults} == {"AmlInputError", "ValueError", "missing 'price'"}
    for alert in alerts[:3]:
        assert "not money" not in alert.evidence
        assert "barter" not in alert.evidence
    assert len(run(kit, store)) == 5  # delivered again: the same alerts


def test_watcher_when_penny_stock_bought_and_sold_within_days_then_low_priced_alert(
    kit: AuditKit, store: AlertStore
) -> None:
    for n in range(3):
        for side, (buyer, seller) in (("buy", ("acct-1", "mm")), ("sell", ("mm", "acct-1"))):
            price = "0.6000" if side == "buy" else "0.6500"
            trade = {
                "symbol": f"PNY{n}", "quantity": 20000, "price": price,
                "buy": {"account": buyer, "order": f"o{n}{side}"},
                "sell": {"account": seller, "order": f"p{n}{side}"},
            }  # fmt: skip
            record(kit, "trade.executed", f"PNY{n}", trade)
    alerts = run(kit, store)
    assert [(a.typology, a.customer) for a in alerts] == [("low_priced_securities", "acct-1")]
    evidence = json.loads(alerts[0].evidence)
    assert evidence["round_trips"] == 3
    assert evidence["sold"] == "39000.00"


def test_watcher_when_an_outside_venue_takes_the_other_side_then_the_venue_is_no_customer(
    kit: AuditKit, store: AlertStore
) -> None:
    venue = "SIM-ARCA"
    for n in range(3):
        for side, (buyer, seller) in (("buy", (venue, "acct-1")), ("sell", ("acct-2", venue))):
            price = "0.6000" if side == "buy" else "0.6500"
            trade = {
                "symbol": f"PNY{n}", "quantity": 20000, "price": price, "venue": venue,
                "buy": {"account": buyer, "order": f"o{n}{side}"},
                "sell": {"account": seller, "order": f"p{n}{side}"},
            }  # fmt: skip
            record(kit, "trade.executed", f"PNY{n}", trade)
    assert run(kit, store) == []


def test_watcher_when_a_customer_round_trips_at_an_outside_venue_then_the_customer_is_alerted(
    kit: AuditKit, store: AlertStore
) -> None:
    venue = "SIM-ARCA"
    for n in range(3):
        for side, (buyer, seller) in (("buy", ("acct-1", venue)), ("sell", (venue, "acct-1"))):
            price = "0.6000" if side == "buy" else "0.6500"
            trade = {
                "symbol": f"PNY{n}", "quantity": 20000, "price": price, "venue": venue,
                "buy": {"account": buyer, "order": f"o{n}{side}"},
                "sell": {"account": seller, "order": f"p{n}{side}"},
            }  # fmt: skip
            record(kit, "trade.executed", f"PNY{n}", trade)
    alerts = run(kit, store)
    assert [(a.typology, a.customer) for a in alerts] == [("low_priced_securities", "acct-1")]
