"""Spoofing and layering: order, opposite execution, cancellation; market makers stay quiet."""

from __future__ import annotations

from unit.surveillance.stream import Stream


def spoof_cycle(
    stream: Stream, at: float, levels: int = 1, size: int = 6000, life: float = 12
) -> None:
    """Big sell orders near the ask, a small genuine buy filled, the sells cancelled."""
    stream.order(at - 5, "mm", "sell", 100, 10.02)  # the book the spoofer joins
    spoofs = [
        stream.order(at + level * 0.2, "spoofer", "sell", size // levels, 10.02 + level / 100)
        for level in range(levels)
    ]
    genuine = stream.order(at + 2, "spoofer", "buy", 200, 10.00)
    seller = stream.order(at + 4, "victim", "sell", 200, None)
    stream.trade(at + 4, genuine, seller, 200, 10.00)
    for order_id in spoofs:
        stream.cancel(at + life, order_id)


def test_spoofing_when_repeated_then_one_alert_with_its_cycles(stream: Stream) -> None:
    for n in range(3):
        spoof_cycle(stream, n * 300)
    (alert,) = stream.raised("spoofing")
    assert alert.subject.accounts == ("spoofer",)
    assert alert.evidence["cycle_count"] == 3
    cycle = alert.evidence["cycles"][0]
    assert cycle["size_ratio"] >= 4
    assert cycle["cancel_ratio"] == 1.0
    assert stream.raised("layering") == []


def test_spoofing_when_orders_span_levels_then_layering(stream: Stream) -> None:
    for n in range(2):
        spoof_cycle(stream, n * 300, levels=4)
    assert [a.typology for a in stream.raised()] == ["layering"]


def test_spoofing_when_single_modest_cycle_then_no_alert(stream: Stream) -> None:
    spoof_cycle(stream, 0, size=1600)  # 8x, once: a genuine trader changing their mind
    assert stream.raised() == []


def test_spoofing_when_orders_live_longer_than_genuine_ones_then_no_alert(stream: Stream) -> None:
    for n in range(3):
        spoof_cycle(stream, n * 300, life=90)
    assert stream.raised() == []


def test_spoofing_when_market_maker_cancels_both_sides_then_no_alert(stream: Stream) -> None:
    at = 0.0
    for _ in range(20):
        bids = [stream.order(at, "mm", "buy", 500, 10.00 - k / 100) for k in range(3)]
        asks = [stream.order(at, "mm", "sell", 500, 10.02 + k / 100) for k in range(3)]
        taker = stream.order(at + 1, "retail", "sell", 500, None)
        stream.trade(at + 1, bids[0], taker, 500, 10.00)
        for order_id in bids[1:] + asks:
            stream.cancel(at + 3, order_id)
        at += 5
    assert stream.raised() == []
