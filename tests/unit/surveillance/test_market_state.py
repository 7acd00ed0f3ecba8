"""Property tests of the shared market state: books and open volume agree; eviction forgets
only what is closed and old, never an open order."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeguard.surveillance.accounts import AccountDirectory
from tradeguard.surveillance.engine import Surveillance
from tradeguard.surveillance.events import OrderCancelled, OrderPlaced, TradeExecuted
from tradeguard.surveillance.market import Book
from tradeguard.surveillance.parameters import SurveillanceParameters

S = 1_000_000_000
ACCOUNTS = ["a", "b", "c", "d"]

actions = st.lists(
    st.tuples(
        st.sampled_from(["place", "cancel", "trade"]),
        st.integers(0, 3),
        st.integers(1, 5),
        st.integers(95, 105),
        st.integers(1, 120),
    ),
    max_size=80,
)


def play(steps: list[tuple[str, int, int, int, int]]) -> tuple[Surveillance, int]:
    directory = AccountDirectory()
    directory.add_links([("a", "b")])
    engine = Surveillance(directory, SurveillanceParameters())
    now, opened = 0, []
    for kind, who, size, price, pause in steps:
        now += pause * S
        if kind == "place" or not opened:
            order_id = f"o{len(opened)}"
            side = "buy" if who % 2 else "sell"
            engine.process(
                OrderPlaced(now, order_id, ACCOUNTS[who], "X", side, size * 100, price * 100)
            )
            opened.append(order_id)
        elif kind == "cancel":
            engine.process(OrderCancelled(now, opened[who % len(opened)]))
        else:
            trade(engine, now, opened, size)
    return engine, now


def trade(engine: Surveillance, now: int, opened: list[str], size: int) -> None:
    orders = engine.market.orders
    buys = [o for o in opened if o in orders and orders[o].open and orders[o].side == "buy"]
    sells = [o for o in opened if o in orders and orders[o].open and orders[o].side == "sell"]
    if buys and sells:
        buy, sell = orders[buys[0]], orders[sells[0]]
        qty = min(size * 100, buy.remaining, sell.remaining)
        if qty > 0:
            engine.process(
                TradeExecuted(
                    now, f"t{now}", "X", qty, sell.price or 1, buy.order_id, sell.order_id
                )
            )


@settings(max_examples=150, deadline=None)
@given(actions)
def test_market_state_when_any_stream_then_books_and_open_volume_match_open_orders(steps) -> None:
    engine, _ = play(steps)
    market = engine.market
    expected_volume: defaultdict[tuple[str, str, str], int] = defaultdict(int)
    expected_levels: defaultdict[tuple[str, int], int] = defaultdict(int)
    for order in market.orders.values():
        if order.open:
            expected_volume[(order.symbol, order.group, order.side)] += order.remaining
            expected_levels[(order.side, order.price or 0)] += order.remaining
    assert {k: v for k, v in market.open_volume.items() if v} == {
        k: v for k, v in expected_volume.items() if v
    }
    book = market.books["X"]
    levels = {("buy", p): q for p, q in book.bids.items()} | {
        ("sell", p): q for p, q in book.asks.items()
    }
    assert levels == {k: v for k, v in expected_levels.items() if v}


@settings(max_examples=150, deadline=None)
@given(actions)
def test_eviction_when_time_passes_then_only_open_orders_and_recent_state_remain(steps) -> None:
    engine, now = play(steps)
    open_before = {o.order_id for o in engine.market.orders.values() if o.open}
    later = now + 10 * 3600 * S
    engine.evict(later)
    remaining = engine.market.orders
    assert set(remaining) == open_before
    assert all(not fills for fills in engine.market.fills.values())
    assert engine.wash.episodes.open == {}
    assert engine.spoofing.cycles == {}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["buy", "sell"]), st.integers(95, 105), st.integers(-5, 5)),
        max_size=120,
    )
)
def test_book_when_levels_come_and_go_then_best_is_always_the_extreme_level(
    changes: list[tuple[str, int, int]],
) -> None:
    book, held = Book(), defaultdict(int)
    for side, price, wanted in changes:
        qty = max(wanted, -held[(side, price)])  # never take away more than the level holds
        book.add(side, price, qty)
        held[(side, price)] += qty
        bids = [p for (s, p), q in held.items() if s == "buy" and q > 0]
        asks = [p for (s, p), q in held.items() if s == "sell" and q > 0]
        assert book.best("buy") == (max(bids) if bids else None)
        assert book.best("sell") == (min(asks) if asks else None)
