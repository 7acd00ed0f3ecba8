"""The live watcher turns the desk's audit events into market events and skips the rest."""

from __future__ import annotations

from tradeguard.audit.records import Actor
from tradeguard.audit.search import AuditEvent
from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.parameters import SurveillanceParameters
from tradeguard.surveillance.watcher import SurveillanceWatcher

DESK = Actor.system("matching")


def event(seq: int, event_type: str, subject: str, data: dict[str, object]) -> AuditEvent:
    return AuditEvent(
        str(seq), seq * 1_000_000_000, event_type, DESK, subject, None, data, None, seq
    )


def test_watcher_when_one_owner_trades_with_itself_then_alerts_from_audit_events() -> None:
    directory = AccountDirectory()
    directory.add_account("a", "client", "owner")
    directory.add_account("b", "client", "owner")
    watcher = SurveillanceWatcher(directory, SurveillanceParameters())
    raised = []
    for n in range(2):
        seller, buyer = ("a", "b") if n == 0 else ("b", "a")
        sell = {
            "account": seller,
            "symbol": "ACME",
            "side": "sell",
            "type": "limit",
            "quantity": 100,
            "limit_price": "10.00",
        }
        buy = sell | {"account": buyer, "side": "buy"}
        raised += watcher.observe(event(10 * n + 1, "order.placed", f"s{n}", sell))
        raised += watcher.observe(event(10 * n + 2, "order.placed", f"b{n}", buy))
        trade = {
            "symbol": "ACME",
            "quantity": 100,
            "price": "10.00",
            "sequence": n,
            "buy": {"order": f"b{n}", "account": buyer},
            "sell": {"order": f"s{n}", "account": seller},
        }
        raised += watcher.observe(event(10 * n + 3, "trade.executed", "ACME", trade))
    assert [alert.rule for alert in raised] == ["wash.same_owner"]


def test_watcher_when_events_are_not_the_desks_then_skipped_without_failing() -> None:
    watcher = SurveillanceWatcher(AccountDirectory(), SurveillanceParameters())
    assert watcher.observe(event(1, "order.placed", "x", {"n": 1})) == []
    assert watcher.observe(event(2, "order.cancelled", "never-placed", {})) == []
    assert watcher.observe(event(3, "auth.login.succeeded", "u", {})) == []
