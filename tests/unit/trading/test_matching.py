import pytest
from book_kit import BUY, SELL, SELL_SHORT, SYMBOL, book_with, lasting, limit, market, trades

from tradeguard.core.money import Price
from tradeguard.trading.matching.engine import (
    CancelReason,
    DepthLevel,
    Exchange,
    MatchingError,
    MatchingReason,
    Order,
    OrderBook,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from tradeguard.trading.matching.model import checked_limit_order


def test_submit_when_better_price_arrives_later_then_it_fills_first() -> None:
    book = book_with(limit("s1", SELL, 10, "10.05", "bob"), limit("s2", SELL, 10, "10.00", "carol"))

    result = book.submit(limit("b1", BUY, 15, "10.05"))

    assert trades(result) == [("s2", "b1", "10.00", 10), ("s1", "b1", "10.05", 5)]


def test_submit_when_same_price_then_earlier_order_fills_first() -> None:
    book = book_with(limit("s1", SELL, 10, "10.00", "bob"), limit("s2", SELL, 10, "10.00", "carol"))

    result = book.submit(limit("b1", BUY, 12, "10.00"))

    assert trades(result) == [("s1", "b1", "10.00", 10), ("s2", "b1", "10.00", 2)]


def test_submit_when_limit_better_than_resting_then_fills_at_resting_price() -> None:
    book = book_with(limit("b1", BUY, 5, "9.99", "bob"))

    result = book.submit(limit("s1", SELL, 5, "9.50"))

    assert trades(result) == [("b1", "s1", "9.99", 5)]
    assert result.fills[0].aggressor_side is SELL
    assert result.order.status is OrderStatus.FILLED
    assert book.best_bid is None


def test_submit_when_taker_larger_than_liquidity_then_remainder_rests() -> None:
    book = book_with(limit("s1", SELL, 4, "10.00", "bob"))

    result = book.submit(lasting(limit("b1", BUY, 10, "10.00"), TimeInForce.GTC))

    assert result.order.status is OrderStatus.PARTIALLY_FILLED
    assert (result.order.filled_quantity, result.order.remaining_quantity) == (4, 6)
    assert book.open_order("b1") == result.order
    assert book.best_bid == Price.parse("10.00")
    assert book.best_ask is None


def test_submit_when_maker_larger_than_taker_then_maker_keeps_priority_with_rest() -> None:
    book = book_with(limit("s1", SELL, 10, "10.00", "bob"), limit("s2", SELL, 10, "10.00", "bob"))

    book.submit(limit("b1", BUY, 3, "10.00"))
    result = book.submit(limit("b2", BUY, 8, "10.00"))

    assert trades(result) == [("s1", "b2", "10.00", 7), ("s2", "b2", "10.00", 1)]
    assert book.open_order("s1") is None
    remaining = book.open_order("s2")
    assert remaining is not None
    assert (remaining.filled_quantity, remaining.remaining_quantity) == (1, 9)


def test_submit_when_limit_does_not_cross_then_rests_without_fills() -> None:
    book = book_with(limit("s1", SELL, 10, "10.01", "bob"))

    result = book.submit(limit("b1", BUY, 10, "10.00"))

    assert result.fills == ()
    assert result.order.status is OrderStatus.OPEN
    assert (book.best_bid, book.best_ask) == (Price.parse("10.00"), Price.parse("10.01"))


def test_submit_when_ioc_partially_fills_then_remainder_cancelled_and_reported() -> None:
    book = book_with(limit("s1", SELL, 4, "10.00", "bob"), limit("s2", SELL, 4, "10.10", "bob"))

    result = book.submit(lasting(limit("b1", BUY, 10, "10.00"), TimeInForce.IOC))

    assert trades(result) == [("s1", "b1", "10.00", 4)]
    assert result.order.status is OrderStatus.CANCELLED
    assert (result.order.filled_quantity, result.order.remaining_quantity) == (4, 0)
    [cancelled] = result.cancellations
    assert (cancelled.order_id, cancelled.cancelled_quantity) == ("b1", 6)
    assert cancelled.reason is CancelReason.IOC_REMAINDER
    assert book.open_order("b1") is None
    assert book.best_bid is None


def test_submit_when_ioc_fully_fills_then_filled_without_cancellation() -> None:
    book = book_with(limit("s1", SELL, 4, "10.00", "bob"))

    result = book.submit(lasting(limit("b1", BUY, 4, "10.00"), TimeInForce.IOC))

    assert result.order.status is OrderStatus.FILLED
    assert result.cancellations == ()


def test_submit_when_market_order_on_empty_book_then_cancelled_for_no_liquidity() -> None:
    book = OrderBook(SYMBOL)

    result = book.submit(market("m1", BUY, 100))

    assert result.fills == ()
    assert result.order.status is OrderStatus.CANCELLED
    [cancelled] = result.cancellations
    assert (cancelled.cancelled_quantity, cancelled.reason) == (100, CancelReason.NO_LIQUIDITY)
    assert book.open_orders() == ()


def test_submit_when_market_order_exceeds_liquidity_then_sweeps_levels_and_never_rests() -> None:
    book = book_with(limit("b1", BUY, 5, "10.00", "bob"), limit("b2", BUY, 5, "9.00", "bob"))

    result = book.submit(market("m1", SELL, 12))

    assert trades(result) == [("b1", "m1", "10.00", 5), ("b2", "m1", "9.00", 5)]
    assert result.cancellations[0].cancelled_quantity == 2
    assert book.best_ask is None
    assert book.best_bid is None


def test_submit_when_short_sale_then_matches_as_sell_and_keeps_its_side() -> None:
    book = book_with(limit("b1", BUY, 5, "10.00", "bob"))

    result = book.submit(limit("ss1", SELL_SHORT, 8, "10.00"))

    assert trades(result) == [("b1", "ss1", "10.00", 5)]
    assert result.fills[0].aggressor_side is SELL
    assert result.order.side is SELL_SHORT
    assert book.best_ask == Price.parse("10.00")


def test_submit_when_same_account_rests_then_resting_cancelled_and_matching_goes_on() -> None:
    book = book_with(limit("s1", SELL, 5, "10.00", "alice"), limit("s2", SELL, 5, "10.00", "bob"))

    result = book.submit(limit("b1", BUY, 5, "10.00", "alice"))

    assert trades(result) == [("s2", "b1", "10.00", 5)]
    [cancelled] = result.cancellations
    assert (cancelled.order_id, cancelled.reason) == ("s1", CancelReason.SELF_TRADE)
    assert cancelled.cancelled_quantity == 5
    assert book.open_order("s1") is None
    assert all(fill.maker_account != fill.taker_account for fill in result.fills)


def test_submit_when_only_own_liquidity_crosses_then_own_order_cancelled_and_taker_rests() -> None:
    book = book_with(limit("s1", SELL, 5, "10.00", "alice"))

    result = book.submit(limit("b1", BUY, 5, "10.00", "alice"))

    assert result.fills == ()
    assert result.order.status is OrderStatus.OPEN
    assert (book.best_bid, book.best_ask) == (Price.parse("10.00"), None)


def test_submit_when_own_orders_do_not_cross_then_both_rest() -> None:
    book = book_with(limit("s1", SELL, 5, "10.01", "alice"))

    result = book.submit(limit("b1", BUY, 5, "10.00", "alice"))

    assert result.cancellations == ()
    assert {state.order_id for state in book.open_orders()} == {"s1", "b1"}


def test_submit_when_fills_happen_then_sequences_increase() -> None:
    book = book_with(*(limit(f"s{i}", SELL, 1, "10.00", "bob") for i in range(3)))

    first = book.submit(limit("b1", BUY, 2, "10.00"))
    second = book.submit(limit("b2", BUY, 1, "10.00"))

    assert [fill.sequence for fill in first.fills + second.fills] == [1, 2, 3]


def test_submit_when_order_id_already_open_then_refused() -> None:
    book = book_with(limit("b1", BUY, 5, "10.00"))

    with pytest.raises(MatchingError) as refused:
        book.submit(limit("b1", BUY, 5, "10.00"))

    assert refused.value.reason_code is MatchingReason.DUPLICATE_ORDER_ID


def test_submit_when_other_symbol_then_refused() -> None:
    book = OrderBook("OTHER")

    with pytest.raises(MatchingError) as refused:
        book.submit(limit("b1", BUY, 5, "10.00"))

    assert refused.value.reason_code is MatchingReason.SYMBOL_MISMATCH


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"quantity": 0}, MatchingReason.INVALID_QUANTITY),
        ({"quantity": -5}, MatchingReason.INVALID_QUANTITY),
        ({"quantity": True}, MatchingReason.INVALID_QUANTITY),
        ({"limit_price": None}, MatchingReason.INVALID_PRICE),
        ({"limit_price": Price(0)}, MatchingReason.INVALID_PRICE),
        ({"limit_price": Price(-1)}, MatchingReason.INVALID_PRICE),
        ({"order_type": OrderType.MARKET}, MatchingReason.INVALID_PRICE),
    ],
)
def test_order_when_fields_invalid_then_refused(
    fields: dict[str, object], reason: MatchingReason
) -> None:
    values: dict[str, object] = {
        "order_id": "o1",
        "symbol": SYMBOL,
        "account": "alice",
        "side": BUY,
        "quantity": 5,
        "limit_price": Price.parse("10.00"),
    }
    values.update(fields)

    with pytest.raises(MatchingError) as refused:
        Order(**values)  # type: ignore[arg-type]

    assert refused.value.reason_code is reason


def test_modify_when_quantity_decreases_then_time_priority_kept() -> None:
    book = book_with(limit("s1", SELL, 10, "10.00", "bob"), limit("s2", SELL, 10, "10.00", "carol"))

    modified = book.modify("s1", new_quantity=4)
    result = book.submit(limit("b1", BUY, 6, "10.00"))

    assert modified.order.quantity == 4
    assert modified.fills == ()
    assert trades(result) == [("s1", "b1", "10.00", 4), ("s2", "b1", "10.00", 2)]


def test_modify_when_quantity_increases_then_time_priority_lost() -> None:
    book = book_with(limit("s1", SELL, 10, "10.00", "bob"), limit("s2", SELL, 10, "10.00", "carol"))

    book.modify("s1", new_quantity=12)
    result = book.submit(limit("b1", BUY, 12, "10.00"))

    assert trades(result) == [("s2", "b1", "10.00", 10), ("s1", "b1", "10.00", 2)]
    assert book.depth().asks == (DepthLevel(Price.parse("10.00"), 10, 1),)


def test_modify_when_price_changes_then_requeued_behind_new_level() -> None:
    book = book_with(limit("s1", SELL, 5, "10.05", "bob"), limit("s2", SELL, 5, "10.00", "carol"))

    book.modify("s1", new_price=Price.parse("10.00"))
    result = book.submit(limit("b1", BUY, 10, "10.00"))

    assert trades(result) == [("s2", "b1", "10.00", 5), ("s1", "b1", "10.00", 5)]


def test_modify_when_new_price_crosses_then_fills_as_taker() -> None:
    book = book_with(limit("b1", BUY, 5, "10.00", "bob"), limit("s1", SELL, 8, "10.10"))

    result = book.modify("s1", new_price=Price.parse("9.90"))

    assert trades(result) == [("b1", "s1", "10.00", 5)]
    assert result.order.status is OrderStatus.PARTIALLY_FILLED
    assert book.best_ask == Price.parse("9.90")
    assert book.best_bid is None


def test_modify_when_partially_filled_then_filled_quantity_carries_over() -> None:
    book = book_with(limit("s1", SELL, 10, "10.00", "bob"))
    book.submit(limit("b1", BUY, 4, "10.00"))

    result = book.modify("s1", new_price=Price.parse("10.01"), new_quantity=12)

    assert (result.order.filled_quantity, result.order.remaining_quantity) == (4, 8)
    assert book.depth().asks == (DepthLevel(Price.parse("10.01"), 8, 1),)


@pytest.mark.parametrize("quantity", [4, 3])
def test_modify_when_quantity_at_or_below_filled_then_refused_and_book_unchanged(
    quantity: int,
) -> None:
    book = book_with(limit("s1", SELL, 10, "10.00", "bob"))
    book.submit(limit("b1", BUY, 4, "10.00"))
    before = book.open_orders()

    with pytest.raises(MatchingError) as refused:
        book.modify("s1", new_price=Price.parse("10.01"), new_quantity=quantity)

    assert refused.value.reason_code is MatchingReason.QUANTITY_NOT_ABOVE_FILLED
    assert book.open_orders() == before


def test_modify_when_price_not_positive_then_refused() -> None:
    book = book_with(limit("s1", SELL, 10, "10.00", "bob"))

    with pytest.raises(MatchingError) as refused:
        book.modify("s1", new_price=Price(0))

    assert refused.value.reason_code is MatchingReason.INVALID_PRICE


def test_modify_when_order_unknown_then_refused() -> None:
    with pytest.raises(MatchingError) as refused:
        OrderBook(SYMBOL).modify("nope", new_quantity=3)

    assert refused.value.reason_code is MatchingReason.ORDER_NOT_OPEN


def test_modify_when_nothing_changes_then_priority_kept() -> None:
    book = book_with(limit("s1", SELL, 5, "10.00", "bob"), limit("s2", SELL, 5, "10.00", "bob"))

    book.modify("s1", new_price=Price.parse("10.00"), new_quantity=5)

    assert [state.order_id for state in book.open_orders()] == ["s1", "s2"]


def test_cancel_when_open_then_removed_and_reported() -> None:
    book = book_with(limit("s1", SELL, 5, "10.00", "bob"), limit("s2", SELL, 5, "10.05", "bob"))

    cancelled = book.cancel("s1")

    assert (cancelled.cancelled_quantity, cancelled.reason) == (5, CancelReason.REQUESTED)
    assert book.best_ask == Price.parse("10.05")
    assert book.open_order("s1") is None


def test_cancel_when_order_unknown_then_refused() -> None:
    with pytest.raises(MatchingError) as refused:
        OrderBook(SYMBOL).cancel("nope")

    assert refused.value.reason_code is MatchingReason.ORDER_NOT_OPEN


def test_cancel_when_order_filled_then_refused() -> None:
    book = book_with(limit("s1", SELL, 5, "10.00", "bob"))
    book.submit(limit("b1", BUY, 5, "10.00"))

    with pytest.raises(MatchingError) as refused:
        book.cancel("s1")

    assert refused.value.reason_code is MatchingReason.ORDER_NOT_OPEN


def test_cancel_when_cancelled_twice_then_second_refused() -> None:
    book = book_with(limit("s1", SELL, 5, "10.00", "bob"))
    book.cancel("s1")

    with pytest.raises(MatchingError):
        book.cancel("s1")


def test_cancel_when_middle_of_level_then_later_order_keeps_its_place() -> None:
    book = book_with(*(limit(f"s{i}", SELL, 1, "10.00", "bob") for i in range(3)))

    book.cancel("s1")
    result = book.submit(limit("b1", BUY, 2, "10.00"))

    assert trades(result) == [("s0", "b1", "10.00", 1), ("s2", "b1", "10.00", 1)]


def test_cancel_when_many_behind_an_old_head_then_queue_compacted_and_matching_right() -> None:
    book = book_with(limit("head", SELL, 1, "10.00", "bob"))
    for i in range(500):
        book.submit(limit(f"s{i}", SELL, 1, "10.00", "bob"))
        book.cancel(f"s{i}")
    book.submit(limit("last", SELL, 1, "10.00", "bob"))

    level = book._asks.levels[-Price.parse("10.00").units]
    result = book.submit(limit("b1", BUY, 3, "10.00"))

    assert len(level.queue) < 100
    assert trades(result) == [("head", "b1", "10.00", 1), ("last", "b1", "10.00", 1)]


def test_cancel_all_when_account_given_then_only_its_orders_cancelled_oldest_first() -> None:
    book = book_with(
        limit("b1", BUY, 5, "9.00", "alice"),
        limit("s1", SELL, 5, "10.00", "bob"),
        limit("s2", SELL, 5, "11.00", "alice"),
    )

    cancelled = book.cancel_all("alice")

    assert [c.order_id for c in cancelled] == ["b1", "s2"]
    assert {c.reason for c in cancelled} == {CancelReason.MASS_CANCEL}
    assert [state.order_id for state in book.open_orders()] == ["s1"]


def test_cancel_all_when_no_account_then_book_empty() -> None:
    book = book_with(limit("b1", BUY, 5, "9.00", "alice"), limit("s1", SELL, 5, "10.00", "bob"))

    cancelled = book.cancel_all()

    assert len(cancelled) == 2
    assert book.open_orders() == ()
    assert (book.best_bid, book.best_ask) == (None, None)


def test_depth_when_levels_exceed_count_then_top_levels_aggregated_best_first() -> None:
    book = book_with(
        limit("b1", BUY, 5, "9.00", "alice"),
        limit("b2", BUY, 7, "9.00", "bob"),
        limit("b3", BUY, 1, "9.50", "bob"),
        limit("b4", BUY, 1, "8.00", "bob"),
        limit("s1", SELL, 3, "10.00", "bob"),
    )

    depth = book.depth(2)

    assert depth.bids == (
        DepthLevel(Price.parse("9.50"), 1, 1),
        DepthLevel(Price.parse("9.00"), 12, 2),
    )
    assert depth.asks == (DepthLevel(Price.parse("10.00"), 3, 1),)


def test_top_levels_when_asked_for_one_side_then_that_side_of_depth_as_plain_numbers() -> None:
    book = book_with(
        limit("b1", BUY, 5, "9.00", "alice"),
        limit("b2", BUY, 7, "9.00", "bob"),
        limit("b3", BUY, 1, "9.50", "bob"),
        limit("s1", SELL, 3, "10.00", "bob"),
        limit("s2", SELL, 4, "10.25", "bob"),
    )

    assert book.top_levels(asks=False, levels=10) == [(95_000, 1), (90_000, 12)]
    assert book.top_levels(asks=True, levels=1) == [(100_000, 3)]
    assert book.top_levels(asks=True, levels=0) == []
    for asks, levels in ((True, 1), (True, 5), (False, 1), (False, 2)):
        depth = book.depth(levels)
        shown = depth.asks if asks else depth.bids
        expected = [(level.price.units, level.quantity) for level in shown]
        assert book.top_levels(asks=asks, levels=levels) == expected
    assert OrderBook(SYMBOL).top_levels(asks=True, levels=10) == []


def test_exchange_when_orders_for_two_symbols_then_books_independent() -> None:
    exchange = Exchange()
    exchange.submit(limit("s1", SELL, 5, "10.00", "bob"))
    other = Order("x1", "OTHER", "carol", BUY, 5, limit_price=Price.parse("20.00"))

    result = exchange.submit(other)

    assert result.fills == ()
    assert exchange.symbols == ("ACME", "OTHER")
    assert exchange.book("OTHER").best_bid == Price.parse("20.00")


def test_exchange_when_cancel_and_modify_then_routed_to_symbol_book() -> None:
    exchange = Exchange()
    exchange.submit(limit("s1", SELL, 5, "10.00", "bob"))

    exchange.modify(SYMBOL, "s1", new_quantity=3)
    cancelled = exchange.cancel(SYMBOL, "s1")

    assert cancelled.cancelled_quantity == 3


def test_exchange_when_symbol_has_no_book_then_cancel_refused_without_creating_one() -> None:
    exchange = Exchange()

    with pytest.raises(MatchingError) as refused:
        exchange.cancel("NONE", "s1")

    assert refused.value.reason_code is MatchingReason.ORDER_NOT_OPEN
    assert exchange.symbols == ()


def test_exchange_cancel_all_when_halting_then_every_book_or_one_symbol_emptied() -> None:
    exchange = Exchange()
    exchange.submit(limit("s1", SELL, 5, "10.00", "bob"))
    exchange.submit(Order("x1", "OTHER", "bob", BUY, 5, limit_price=Price.parse("20.00")))
    exchange.submit(Order("x2", "OTHER", "carol", BUY, 5, limit_price=Price.parse("20.00")))

    one_symbol = exchange.cancel_all(symbol=SYMBOL)
    one_account = exchange.cancel_all(account="carol")
    rest = exchange.cancel_all()

    assert [c.order_id for c in one_symbol] == ["s1"]
    assert [c.order_id for c in one_account] == ["x2"]
    assert [c.order_id for c in rest] == ["x1"]
    assert exchange.cancel_all(symbol="NONE") == []


def test_expire_day_orders_when_close_then_day_orders_cancelled_and_gtc_kept() -> None:
    book = book_with(
        limit("b1", BUY, 5, "9.00", "alice"),
        lasting(limit("b2", BUY, 5, "9.00", "bob"), TimeInForce.GTC),
        limit("s1", SELL, 5, "10.00", "bob"),
    )

    expired = book.expire_day_orders()

    assert [(c.order_id, c.reason) for c in expired] == [
        ("b1", CancelReason.EXPIRED),
        ("s1", CancelReason.EXPIRED),
    ]
    assert [state.order_id for state in book.open_orders()] == ["b2"]


def test_exchange_expire_day_orders_when_several_books_then_each_expired() -> None:
    exchange = Exchange()
    exchange.submit(limit("s1", SELL, 5, "10.00", "bob"))
    exchange.submit(Order("x1", "OTHER", "bob", BUY, 5, limit_price=Price.parse("20.00")))

    expired = exchange.expire_day_orders()

    assert sorted(c.order_id for c in expired) == ["s1", "x1"]
    assert exchange.book(SYMBOL).open_orders() == ()


def test_submit_when_fill_then_it_names_both_sides() -> None:
    book = book_with(limit("s1", SELL, 5, "10.00", "bob"))

    [fill] = book.submit(limit("b1", BUY, 5, "10.00", "alice")).fills

    assert (fill.symbol, fill.maker_account, fill.taker_account) == (SYMBOL, "bob", "alice")
    assert (fill.aggressor_side, fill.price, fill.quantity) == (BUY, Price.parse("10.00"), 5)


def test_a_limit_order_the_desk_checked_is_the_order_the_book_would_build() -> None:
    terms = {"symbol": SYMBOL, "account": "alice", "side": BUY, "quantity": 5}
    built = Order("b1", **terms, limit_price=Price.parse("10.00"), time_in_force=TimeInForce.IOC)

    checked = checked_limit_order(
        "b1", **terms, limit_price=Price.parse("10.00"), time_in_force=TimeInForce.IOC
    )

    assert checked == built
    assert checked.order_type is OrderType.LIMIT
    resting = limit("s1", SELL, 3, "9.99", "bob")
    assert book_with(resting).submit(checked) == book_with(resting).submit(built)
