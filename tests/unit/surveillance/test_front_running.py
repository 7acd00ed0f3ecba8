"""Front-running: firm-side accounts buying ahead of a large client order and unwinding."""

from __future__ import annotations

from unit.surveillance.stream import Stream


def market(stream: Stream) -> None:
    for n in range(20):  # typical orders: 200 shares
        buy = stream.order(n, f"c{n}", "buy", 200, 10.0)
        sell = stream.order(n, f"d{n}", "sell", 200, 10.0)
        stream.trade(n, buy, sell, 200, 10.0)


def test_front_running_when_employee_buys_ahead_and_sells_after_then_alert(stream: Stream) -> None:
    stream.directory.add_account("emp", "employee", "e1")
    market(stream)
    client = stream.order(100, "client", "buy", 20_000, 9.99)
    ask = stream.order(101, "mm", "sell", 1000, 10.01)
    ahead = stream.order(110, "emp", "buy", 1000, None)
    stream.trade(110, ahead, ask, 1000, 10.01)
    seller = stream.order(200, "mm", "sell", 20_000, 10.05)
    stream.trade(200, client, seller, 20_000, 10.05)
    out = stream.order(300, "emp", "sell", 1000, None)
    bid = stream.order(299, "mm", "buy", 1000, 10.08)
    stream.trade(300, bid, out, 1000, 10.08)
    (alert,) = stream.raised("front_running")
    assert alert.subject.accounts == ("emp",)
    assert alert.evidence["client_order"] == client
    assert alert.evidence["ahead_qty"] == alert.evidence["unwound_qty"] == 1000


def test_front_running_when_desk_fills_client_then_hedges_then_no_alert(stream: Stream) -> None:
    stream.directory.add_account("desk", "proprietary", "firm")
    market(stream)
    client = stream.order(100, "client", "buy", 20_000, 10.02)
    facilitation = stream.order(101, "desk", "sell", 20_000, 10.02)
    stream.trade(101, client, facilitation, 20_000, 10.02)
    for n in range(4):
        hedge = stream.order(130 + n * 30, "desk", "buy", 5000, None)
        ask = stream.order(129 + n * 30, f"m{n}", "sell", 5000, 10.03)
        stream.trade(130 + n * 30, hedge, ask, 5000, 10.03)
    assert stream.raised() == []


def test_front_running_when_market_maker_quote_is_hit_then_no_alert(stream: Stream) -> None:
    stream.directory.add_account("mmfirm", "proprietary", "firm")
    market(stream)
    client = stream.order(100, "client", "buy", 20_000, 9.99)
    quote = stream.order(105, "mmfirm", "buy", 300, 9.98)
    taker = stream.order(110, "retail", "sell", 300, None)
    stream.trade(110, quote, taker, 300, 9.98)
    seller = stream.order(200, "x", "sell", 20_000, 9.99)
    stream.trade(200, client, seller, 20_000, 9.99)
    out = stream.order(210, "mmfirm", "sell", 300, 10.0)
    buyer = stream.order(211, "y", "buy", 300, None)
    stream.trade(211, buyer, out, 300, 10.0)
    assert stream.raised() == []
