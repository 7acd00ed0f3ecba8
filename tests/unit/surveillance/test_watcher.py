"""The live watcher turns the desk's audit events into market events and skips the rest."""

from __future__ import annotations

from tradeguard.audit.records import Actor
from tradeguard.audit.search import AuditEvent
from tradeguard.cases.model import AlertDraft
from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.parameters import SurveillanceParameters
from tradeguard.surveillance.watcher import SurveillanceWatcher

DESK = Actor.system("matching")
TERMS = {"symbol": "ACME", "type": "limit", "quantity": 100, "limit_price": "10.00"}


def event(seq: int, event_type: str, subject: str, data: dict[str, object]) -> AuditEvent:
    return AuditEvent(
        str(seq), seq * 1_000_000_000, event_type, DESK, subject, None, data, None, seq
    )


def one_owner_watcher() -> SurveillanceWatcher:
    """A watcher that knows accounts ``a`` and ``b`` as held by the same owner."""
    directory = AccountDirectory()
    directory.add_account("a", "client", "owner")
    directory.add_account("b", "client", "owner")
    return SurveillanceWatcher(directory, SurveillanceParameters())


def place_crossing_orders(
    watcher: SurveillanceWatcher, n: int, seller: str, buyer: str
) -> list[AlertDraft]:
    """Round ``n``: ``seller`` places sell order ``s{n}``, ``buyer`` buy order ``b{n}``."""
    sell = TERMS | {"account": seller, "side": "sell"}
    buy = TERMS | {"account": buyer, "side": "buy"}
    return [
        *watcher.observe(event(10 * n + 1, "order.placed", f"s{n}", sell)),
        *watcher.observe(event(10 * n + 2, "order.placed", f"b{n}", buy)),
    ]


def test_watcher_when_one_owner_trades_with_itself_then_alerts_from_audit_events() -> None:
    watcher = one_owner_watcher()
    raised = []
    for n in range(2):
        seller, buyer = ("a", "b") if n == 0 else ("b", "a")
        raised += place_crossing_orders(watcher, n, seller, buyer)
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


ROUTER = Actor.system("router")


def venue_fill(seq: int, venue_exec: str, order: str, account: str, side: str) -> AuditEvent:
    """``trade.executed`` as the router records an outside venue's execution of our order."""
    ours = {"order": order, "account": account}
    theirs = {"order": f"XNAS:{venue_exec}", "account": "XNAS"}
    buy, sell = (ours, theirs) if side == "buy" else (theirs, ours)
    data = {
        "symbol": "ACME",
        "quantity": 100,
        "price": "10.00",
        "sequence": f"XNAS:{venue_exec}",
        "buy": buy,
        "sell": sell,
        "aggressor": "bid" if side == "buy" else "ask",
        "venue": "XNAS",
    }
    return AuditEvent(
        str(seq), seq * 1_000_000_000, "trade.executed", ROUTER, "ACME", None, data, None, seq
    )


def test_watcher_when_a_wash_pair_fills_at_an_outside_venue_then_alerts() -> None:
    watcher = one_owner_watcher()
    raised = []
    for n in range(2):
        seller, buyer = ("a", "b") if n == 0 else ("b", "a")
        raised += place_crossing_orders(watcher, n, seller, buyer)
        raised += watcher.observe(venue_fill(10 * n + 3, f"E{2 * n}", f"s{n}", seller, "sell"))
        raised += watcher.observe(venue_fill(10 * n + 4, f"E{2 * n + 1}", f"b{n}", buyer, "buy"))
    assert [alert.rule for alert in raised] == ["wash.same_owner"]
    assert raised[0].subject.accounts == ("a", "b")


def test_watcher_when_a_customer_trades_at_a_venue_then_its_fills_reach_the_detectors() -> None:
    directory = AccountDirectory()
    watcher = SurveillanceWatcher(directory, SurveillanceParameters())
    buy = TERMS | {"account": "a", "side": "buy"}
    assert watcher.observe(event(1, "order.placed", "o1", buy)) == []
    assert watcher.observe(venue_fill(2, "E1", "o1", "a", "buy")) == []
    fills = watcher.engine.market.recent_fills("ACME", "a")
    assert [(fill.account, fill.side, fill.qty, fill.counterparty) for fill in fills] == [
        ("a", "buy", 100, "XNAS")
    ]
    assert watcher.engine.pump.positions[("ACME", "a")].bought == 100
    assert not watcher.engine.market.orders["o1"].open


def test_watcher_when_venue_fills_of_one_group_differ_in_price_then_they_are_no_wash() -> None:
    watcher = one_owner_watcher()
    raised = []
    for n in range(3):
        raised += place_crossing_orders(watcher, n, "a", "b")
        raised += watcher.observe(venue_fill(10 * n + 3, f"E{2 * n}", f"s{n}", "a", "sell"))
        moved = venue_fill(10 * n + 4, f"E{2 * n + 1}", f"b{n}", "b", "buy")
        moved.data["price"] = "10.05"
        raised += watcher.observe(moved)
    assert raised == []
