"""Pump and dump: a group accumulates, pushes, sells the peak; momentum buyers stay quiet."""

from __future__ import annotations

from unit.surveillance.stream import Stream


def background(stream: Stream, until: float, price: float = 10.0) -> None:
    """Quiet two-sided trading to make a baseline: 200 shares a minute."""
    at = 0.0
    while at < until:
        buy = stream.order(at, f"b{int(at) % 7}", "buy", 200, price)
        sell = stream.order(at, f"s{int(at) % 5}", "sell", 200, price)
        stream.trade(at, buy, sell, 200, price)
        at += 60


def pump(stream: Stream, start: float, accounts: list[str], *, sell: bool = True) -> None:
    price = 10.0
    for n in range(20):  # accumulate quietly
        at = start + n * 60
        stream.trade(
            at,
            stream.order(at, accounts[n % len(accounts)], "buy", 500, price),
            stream.order(at, "mkt", "sell", 500, price),
            500,
            price,
        )
    for n in range(40):  # push
        at = start + 1200 + n * 10
        price = round(price * 1.01, 2)
        stream.trade(
            at,
            stream.order(at, accounts[n % len(accounts)], "buy", 800, price),
            stream.order(at, "mkt", "sell", 800, price),
            800,
            price,
        )
    if not sell:
        return
    for n in range(30):  # dump into the peak
        at = start + 1700 + n * 10
        stream.trade(
            at,
            stream.order(at, "crowd", "buy", 900, price),
            stream.order(at, accounts[n % len(accounts)], "sell", 900, price),
            900,
            price,
        )


def test_pump_when_linked_group_dumps_at_peak_then_one_alert_naming_the_group(
    stream: Stream,
) -> None:
    stream.directory.add_account("p1", "client", "o1")
    stream.directory.add_account("p2", "client", "o1")
    stream.directory.add_links([("p2", "p3")])
    background(stream, 3600)
    pump(stream, 3600, ["p1", "p2", "p3"])
    (alert,) = stream.raised("pump_and_dump")
    assert set(alert.subject.accounts) == {"p1", "p2", "p3"}
    assert alert.evidence["price_rise"] >= 0.2


def test_pump_when_buyers_hold_then_no_alert(stream: Stream) -> None:
    background(stream, 3600)
    pump(stream, 3600, ["m1", "m2", "m3"], sell=False)
    assert stream.raised() == []
