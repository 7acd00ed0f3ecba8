from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st
from risk_kit import REFERENCE, SYMBOL, Kit, kit, order

from tradeguard.risk.account import OpenOrder
from tradeguard.risk.engine import RiskEngine
from tradeguard.risk.model import AccountKind, TradingState
from tradeguard.risk.order_terms import OrderType, Side
from tradeguard.risk.pricing import cost_cents, proceeds_cents, requirement_cents

TICK = 100
ORDERS = st.tuples(
    st.sampled_from(list(Side)),
    st.sampled_from(list(OrderType)),
    st.integers(min_value=1, max_value=400),
    st.integers(min_value=-300, max_value=300),
)
ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("order"), ORDERS),
        st.tuples(st.just("fill"), st.integers(0, 50), st.integers(1, 400), st.integers(0, 300)),
        st.tuples(st.just("cancel"), st.integers(0, 50)),
    ),
    max_size=40,
)


def _run(risk: Kit, actions: list[tuple[object, ...]], *, fixed_price: bool) -> list[int]:
    """Drive the engine; accepted orders are booked. Returns |position| after each step."""
    sizes = []
    for action in actions:
        risk.clock.advance(seconds=3)
        open_ids = list(risk.account.open_orders)
        if action[0] == "order":
            _submit(risk, action[1], fixed_price=fixed_price)  # type: ignore[arg-type]
        elif open_ids and action[0] == "fill":
            _fill(
                risk,
                open_ids[action[1] % len(open_ids)],
                action[2],
                action[3],
                fixed_price=fixed_price,
            )  # type: ignore[index, operator, arg-type]
        elif open_ids:
            risk.ctx.cancel(open_ids[action[1] % len(open_ids)])  # type: ignore[index, operator]
        _assert_bookkeeping(risk)
        sizes.append(abs(risk.account.position_quantity(SYMBOL)))
    return sizes


def _submit(risk: Kit, spec: tuple[Side, OrderType, int, int], *, fixed_price: bool) -> None:
    side, kind, quantity, ticks = spec
    price = REFERENCE if fixed_price else REFERENCE + ticks * TICK
    candidate = order(side=side, type=kind, quantity=quantity)
    if kind is OrderType.LIMIT:
        candidate = order(side=side, quantity=quantity, limit_price=price)
    if risk.check(candidate) is None:
        risk.ctx.accept(candidate)


def _fill(risk: Kit, order_id: str, quantity: int, ticks_better: int, *, fixed_price: bool) -> None:
    open_order = risk.account.open_orders[order_id]
    better = 0 if fixed_price else ticks_better * TICK
    price = open_order.price - better if open_order.side is Side.BUY else open_order.price + better
    if fixed_price:
        price = REFERENCE
    risk.ctx.fill(order_id, min(quantity, open_order.remaining), max(price, TICK))


def _assert_bookkeeping(risk: Kit) -> None:
    account = risk.account
    assert account.reserved_cents == sum(o.reserved_cents for o in account.open_orders.values())
    cash = account.settled_cash_cents + account.unsettled_cash_cents
    positions = sum(p.cost_cents for p in account.positions.values())
    assert account.equity_cents - cash - positions == 0


def _buying_power(risk: Kit) -> int:
    account = risk.account
    if account.kind is AccountKind.CASH:
        return account.settled_cash_cents - account.reserved_cents
    exposure = account.gross_cost_cents + account.reserved_cents
    return account.equity_cents - requirement_cents(exposure, risk.ctx.limits.initial_margin_bps)


@settings(max_examples=150, deadline=None)
@given(cash=st.integers(0, 5_000_000), actions=ACTIONS)
def test_cash_account_when_any_accepted_sequence_then_buying_power_never_negative(
    cash: int, actions: list[tuple[object, ...]]
) -> None:
    risk = kit(settled_cash_cents=cash, equity_cents=cash)
    for _ in _run(risk, actions, fixed_price=False):
        pass
    assert _buying_power(risk) >= 0
    assert risk.account.settled_cash_cents >= 0


@settings(max_examples=150, deadline=None)
@given(equity=st.integers(0, 5_000_000), actions=ACTIONS)
def test_margin_account_when_any_accepted_sequence_at_steady_price_then_buying_power_never_negative(
    equity: int, actions: list[tuple[object, ...]]
) -> None:
    risk = kit(kind=AccountKind.MARGIN, settled_cash_cents=equity, equity_cents=equity)
    risk.ctx.add_instrument(
        risk.ctx.instruments[SYMBOL].__class__(
            symbol=SYMBOL,
            tier=1,
            tick_size=TICK,
            lot_size=1,
            reference_price=REFERENCE,
            reference_at_ns=None,
            easy_to_borrow=True,
        )
    )
    _run(risk, actions, fixed_price=True)
    assert _buying_power(risk) >= 0


@settings(max_examples=150, deadline=None)
@given(start=st.integers(-300, 300), actions=ACTIONS)
def test_reducing_account_when_any_accepted_sequence_then_position_never_grows(
    start: int, actions: list[tuple[object, ...]]
) -> None:
    risk = kit(kind=AccountKind.MARGIN, settled_cash_cents=10**9, equity_cents=10**9)
    if start:
        risk.hold(SYMBOL, start)
    RiskEngine.set_account_state(risk.ctx, "acct-1", TradingState.REDUCING)
    sizes = [abs(start), *_run(risk, actions, fixed_price=False)]
    assert all(later <= earlier for earlier, later in pairwise(sizes))


@given(
    price=st.integers(1, 10**9),
    parts=st.lists(st.integers(1, 10_000), min_size=1, max_size=20),
    side=st.sampled_from([Side.BUY, Side.SELL]),
)
def test_partial_fills_when_any_split_then_cash_equals_whole_rounded_once(
    price: int, parts: list[int], side: Side
) -> None:
    total = sum(parts)
    working = OpenOrder(
        "o",
        SYMBOL,
        side,
        price,
        total,
        uses_buying_power=True,
        fingerprint=(side, SYMBOL, total, price),
    )
    flows = [working.record_fill(part, price) for part in parts]
    exact = price * total
    expected = -cost_cents(exact) if side is Side.BUY else proceeds_cents(exact)
    assert sum(flows) == expected
    assert working.worst_reserved() == 0
    assert abs(expected) * 100 - exact in range(-99, 100)
