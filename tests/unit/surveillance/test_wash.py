"""Wash trading: same owner, linked accounts, pre-arranged round trips; look-alikes stay quiet."""

from __future__ import annotations

from unit.surveillance.stream import Stream


def test_wash_when_one_owner_trades_with_itself_twice_then_one_alert_naming_both(
    stream: Stream,
) -> None:
    stream.directory.add_account("a1", "client", "owner-1")
    stream.directory.add_account("a2", "client", "owner-1")
    stream.cross(0, "a1", "a2", 500, 10.0)
    assert stream.raised() == []  # one cross could be an accident
    stream.cross(300, "a2", "a1", 500, 10.01)
    stream.cross(600, "a1", "a2", 500, 10.0)
    (alert,) = stream.raised("wash_trading")
    assert alert.subject.accounts == ("a1", "a2")
    assert alert.rule == "wash.same_owner"
    assert alert.evidence["trade_count"] == 3


def test_wash_when_linked_households_trade_with_each_other_once_then_no_alert(
    stream: Stream,
) -> None:
    stream.directory.add_links([("h1", "h2")])
    stream.cross(0, "h1", "h2", 100, 10.0, apart=400)
    stream.cross(1000, "h2", "h1", 100, 10.2, apart=500)
    assert stream.raised() == []


def test_wash_when_linked_accounts_trade_three_times_then_alert(stream: Stream) -> None:
    stream.directory.add_links([("l1", "l2")])
    for n in range(3):
        stream.cross(n * 120, "l1" if n % 2 else "l2", "l2" if n % 2 else "l1", 300, 10.0)
    (alert,) = stream.raised("wash_trading")
    assert alert.rule == "wash.linked_accounts"


def test_wash_when_gap_exceeds_thirty_minutes_then_two_episodes(stream: Stream) -> None:
    stream.directory.add_account("a1", "client", "o")
    stream.directory.add_account("a2", "client", "o")
    stream.cross(0, "a1", "a2", 100, 10.0)
    stream.cross(60, "a2", "a1", 100, 10.0)
    stream.cross(60 + 31 * 60, "a1", "a2", 100, 10.0)
    stream.cross(120 + 31 * 60, "a2", "a1", 100, 10.0)
    assert len(stream.raised("wash_trading")) == 2


def test_wash_when_unrelated_pair_round_trips_by_arrangement_then_alert(stream: Stream) -> None:
    for n in range(4):
        seller, buyer = ("x", "y") if n % 2 == 0 else ("y", "x")
        stream.cross(n * 200, seller, buyer, 700, 10.0, apart=5)
    (alert,) = stream.raised("wash_trading")
    assert alert.rule == "wash.round_trip"
    assert alert.subject.accounts == ("x", "y")


def test_wash_when_a_day_trader_round_trips_against_different_counterparties_then_none(
    stream: Stream,
) -> None:
    for n in range(6):
        side_of_trader = n % 2 == 0
        other = f"c{n}"
        seller, buyer = (other, "dt") if side_of_trader else ("dt", other)
        stream.cross(n * 200, seller, buyer, 300, 10.0, apart=5)
    assert stream.raised() == []


def test_wash_when_quoter_trades_with_one_client_among_many_then_none(stream: Stream) -> None:
    at = 0
    for n in range(12):  # the market maker trades with everyone; with "c" now and then
        other = "c" if n % 3 == 0 else f"other{n}"
        seller, buyer = ("mm", other) if n % 2 else (other, "mm")
        stream.cross(at, seller, buyer, 200, 10.0, apart=3)
        at += 60
    assert stream.raised() == []
