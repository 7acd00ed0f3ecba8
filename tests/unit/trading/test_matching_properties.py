"""Invariants of the book over random sequences of submits, cancels and modifies.

Each submit (and each re-queueing modify) is checked against a plain reference: walk the
opposite side's open orders in price-time order as they stood before the call, skip (and
expect cancelled) those of the same account, and fill the others at their own price until
the taker is done or the next price no longer crosses.
"""

from dataclasses import dataclass, field
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeguard.core.money import Price
from tradeguard.trading.matching.engine import (
    CancelReason,
    MatchingError,
    Order,
    OrderBook,
    OrderState,
    OrderType,
    Side,
    SubmitResult,
    TimeInForce,
)

SYMBOL = "ACME"
ACCOUNTS = st.sampled_from(["alice", "bob", "carol"])
PRICES = st.integers(min_value=95, max_value=105).map(lambda cents: Price(cents * 100))
QUANTITIES = st.integers(min_value=1, max_value=20)

SUBMITS = st.tuples(
    st.just("submit"),
    st.sampled_from(list(Side)),
    st.sampled_from(list(OrderType)),
    st.sampled_from(list(TimeInForce)),
    ACCOUNTS,
    QUANTITIES,
    PRICES,
)
CANCELS = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=200))
MODIFIES = st.tuples(
    st.just("modify"),
    st.integers(min_value=0, max_value=200),
    st.none() | PRICES,
    st.none() | QUANTITIES,
)
OPERATIONS = st.lists(st.one_of(SUBMITS, CANCELS, MODIFIES), max_size=80)

Expected = tuple[list[tuple[str, Price, int]], list[str]]


@dataclass
class Ledger:
    """What the test saw: every order's side and the quantity filled per order."""

    book: OrderBook = field(default_factory=lambda: OrderBook(SYMBOL))
    ids: list[str] = field(default_factory=list)
    sides: dict[str, Side] = field(default_factory=dict)
    filled: dict[str, int] = field(default_factory=dict)
    fill_total: int = 0


def _crosses(taker_side: Side, limit: Price | None, resting: Price) -> bool:
    if limit is None:
        return True
    return resting <= limit if taker_side is Side.BUY else resting >= limit


def _expected(
    before: tuple[OrderState, ...], side: Side, limit: Price | None, account: str, quantity: int
) -> Expected:
    remaining, fills, self_trades = quantity, [], []
    for resting in before:
        if remaining == 0 or resting.side.book_side is side.book_side:
            continue
        assert resting.limit_price is not None
        if not _crosses(side.book_side, limit, resting.limit_price):
            break
        if resting.account == account:
            self_trades.append(resting.order_id)
            continue
        traded = min(remaining, resting.remaining_quantity)
        fills.append((resting.order_id, resting.limit_price, traded))
        remaining -= traded
    return fills, self_trades


def _check_against_reference(result: SubmitResult, expected: Expected) -> None:
    fills, self_trades = expected
    assert [(f.maker_order_id, f.price, f.quantity) for f in result.fills] == fills
    cancelled = [c.order_id for c in result.cancellations if c.reason is CancelReason.SELF_TRADE]
    assert cancelled == self_trades


def _record(ledger: Ledger, result: SubmitResult, taker_limit: Price | None) -> None:
    for fill in result.fills:
        assert ledger.sides[fill.maker_order_id].book_side is not fill.aggressor_side
        assert fill.maker_account != fill.taker_account
        assert _crosses(fill.aggressor_side, taker_limit, fill.price)
        for order_id in (fill.maker_order_id, fill.taker_order_id):
            ledger.filled[order_id] = ledger.filled.get(order_id, 0) + fill.quantity
        ledger.fill_total += fill.quantity
    taker = result.order
    assert taker.filled_quantity == ledger.filled.get(taker.order_id, 0) <= taker.quantity


def _submit(ledger: Ledger, operation: tuple[object, ...]) -> None:
    _, side, order_type, tif, account, quantity, price = operation
    assert isinstance(side, Side)
    assert isinstance(order_type, OrderType)
    assert isinstance(tif, TimeInForce)
    assert isinstance(account, str)
    assert isinstance(quantity, int)
    limit = price if order_type is OrderType.LIMIT else None
    assert limit is None or isinstance(limit, Price)
    order_id = f"o{len(ledger.ids)}"
    ledger.ids.append(order_id)
    ledger.sides[order_id] = side
    before = ledger.book.open_orders()
    order = Order(order_id, SYMBOL, account, side, quantity, order_type, limit, tif)
    result = ledger.book.submit(order)
    _check_against_reference(result, _expected(before, side, limit, account, quantity))
    _record(ledger, result, limit)


def _modify(ledger: Ledger, state: OrderState, price: Price | None, quantity: int | None) -> None:
    before = tuple(other for other in ledger.book.open_orders() if other.order_id != state.order_id)
    try:
        result = ledger.book.modify(state.order_id, price, quantity)
    except MatchingError:
        assert quantity is not None
        assert quantity <= state.filled_quantity
        return
    new_price = price or state.limit_price
    new_quantity = quantity or state.quantity
    if new_price != state.limit_price or new_quantity > state.quantity:
        remaining = new_quantity - state.filled_quantity
        expected = _expected(before, state.side, new_price, state.account, remaining)
        _check_against_reference(result, expected)
        assert result.order.sequence > max(other.sequence for other in (*before, state))
    else:
        assert result.fills == ()
        assert result.order.sequence == state.sequence
    _record(ledger, result, new_price)


def _apply(ledger: Ledger, operation: tuple[object, ...]) -> None:
    if operation[0] == "submit":
        _submit(ledger, operation)
        return
    index = operation[1]
    assert isinstance(index, int)
    order_id = ledger.ids[index % len(ledger.ids)] if ledger.ids else "none"
    state = ledger.book.open_order(order_id)
    if state is None:
        return
    if operation[0] == "cancel":
        assert ledger.book.cancel(order_id).cancelled_quantity == state.remaining_quantity
        return
    price, quantity = operation[2], operation[3]
    assert price is None or isinstance(price, Price)
    assert quantity is None or isinstance(quantity, int)
    _modify(ledger, state, price, quantity)


def _check_book(ledger: Ledger) -> None:
    book = ledger.book
    if book.best_bid is not None and book.best_ask is not None:
        assert book.best_bid < book.best_ask
    open_orders = book.open_orders()
    for state in open_orders:
        assert 0 <= state.filled_quantity < state.quantity
        assert state.filled_quantity == ledger.filled.get(state.order_id, 0)
        assert state.remaining_quantity == state.quantity - state.filled_quantity
    for earlier, later in pairwise(open_orders):
        if (earlier.side.book_side, earlier.limit_price) == (
            later.side.book_side,
            later.limit_price,
        ):
            assert earlier.sequence < later.sequence
    depth = book.depth(levels=100)
    in_depth = sum(level.quantity for level in depth.bids + depth.asks)
    assert in_depth == sum(state.remaining_quantity for state in open_orders)
    buy_filled = sum(q for o, q in ledger.filled.items() if ledger.sides[o] is Side.BUY)
    sell_filled = sum(q for o, q in ledger.filled.items() if ledger.sides[o] is not Side.BUY)
    assert buy_filled == sell_filled == ledger.fill_total


@settings(max_examples=300, deadline=None)
@given(OPERATIONS)
def test_book_when_random_operations_then_invariants_and_reference_hold(
    operations: list[tuple[object, ...]],
) -> None:
    ledger = Ledger()
    for operation in operations:
        _apply(ledger, operation)
        _check_book(ledger)
