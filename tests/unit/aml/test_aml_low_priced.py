"""Rapid round trips in low-priced securities: the monitor alone, the engine, the watcher."""

from __future__ import annotations

from aml_kit import Txns

from tradeguard.aml.monitors.low_priced import LowPricedSecuritiesMonitor
from tradeguard.aml.parameters import LowPricedSecuritiesParameters
from tradeguard.aml.transactions import CustomerProfile, Transaction, parse_micros

CLERK = CustomerProfile("C1", occupation="clerk", annual_income_cents=4_000_000)
WEALTHY = CustomerProfile("C1", occupation="surgeon", annual_income_cents=200_000_000)


def trade(t: Txns, day: float, kind: str, amount: str, symbol: str, price: str) -> Transaction:  # noqa: PLR0913, PLR0917 - a builder of test rows
    """A trade settlement naming its security and share price."""
    txn = t.make(day, kind, amount, "trade")
    return txn._replace(symbol=symbol, price_micros=parse_micros(price))


def round_trips(t: Txns, count: int, price: str, hold_days: float, amount: str = "6000") -> list:
    """``count`` buys of distinct securities, each sold ``hold_days`` later."""
    txns = []
    for n in range(count):
        txns.append(trade(t, n * 2, "buy", amount, f"PNY{n}", price))
        txns.append(trade(t, n * 2 + hold_days, "sell", amount, f"PNY{n}", price))
    return txns


def findings(txns: list[Transaction], profile: CustomerProfile = CLERK) -> list:
    monitor = LowPricedSecuritiesMonitor(LowPricedSecuritiesParameters())
    return [f for f in (monitor.observe(t, profile) for t in txns) if f is not None]


def test_low_priced_when_three_quick_round_trips_under_five_dollars_then_finding() -> None:
    txns = round_trips(Txns(), 3, "0.4500", hold_days=1)
    (found,) = findings(txns)
    assert found.facts["round_trips"] == 3
    assert found.facts["sold"] == "18000.00"
    assert found.facts["symbols"] == ["PNY0", "PNY1", "PNY2"]
    assert found.transactions == tuple(t.txn_id for t in txns)
    assert found.start_ts == txns[0].ts
    assert found.end_ts == txns[-1].ts


def test_low_priced_when_pumped_above_five_dollars_before_the_sale_then_still_a_round_trip() -> (
    None
):
    t = Txns()
    txns = []
    for n in range(3):
        txns.append(trade(t, n, "buy", "6000", f"PNY{n}", "1.20"))
        txns.append(trade(t, n + 2, "sell", "9000", f"PNY{n}", "6.10"))
    (found,) = findings(sorted(txns))
    assert found.facts["round_trips"] == 3


def test_low_priced_when_priced_at_five_dollars_or_more_then_nothing() -> None:
    assert findings(round_trips(Txns(), 5, "5.00", hold_days=1)) == []


def test_low_priced_when_held_longer_than_the_round_trip_window_then_nothing() -> None:
    assert findings(round_trips(Txns(), 5, "0.80", hold_days=6)) == []


def test_low_priced_when_two_round_trips_only_then_nothing() -> None:
    assert findings(round_trips(Txns(), 2, "0.80", hold_days=1, amount="50000")) == []


def test_low_priced_when_small_beside_a_large_declared_income_then_nothing() -> None:
    txns = round_trips(Txns(), 4, "0.80", hold_days=1, amount="20000")
    assert findings(txns, WEALTHY) == []
    assert len(findings(txns, CLERK)) == 2


def test_low_priced_when_trade_names_no_price_then_never_judged() -> None:
    t = Txns()
    txns = [t.make(n / 4, k, "9000", "trade") for n in range(12) for k in ("buy", "sell")]
    assert findings(txns) == []


def test_low_priced_when_sale_without_a_recent_buy_then_no_round_trip() -> None:
    t = Txns()
    txns = [trade(t, n, "sell", "9000", f"PNY{n}", "0.50") for n in range(5)]
    assert findings(txns) == []
