"""The screen at each check's exact boundary: one unit under, at and over the threshold.

Each scenario builds a fresh state in which one number sits ``delta`` away from the
value where a check flips, taking that value from the check's own denial where it
reports one. At every delta the engine, the screen and the checks run one by one must
agree (``agreed_answer``), and across the three deltas the answer must flip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from types import MappingProxyType

import pytest
from risk_kit import (
    ACCOUNT,
    ONE_BY_ONE,
    REFERENCE,
    SYMBOL,
    Kit,
    agreed_answer,
    kit,
    market,
    order,
    with_reference,
)

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.risk.engine import RiskEngine
from tradeguard.risk.model import (
    AccountKind,
    Locate,
    OrderRequest,
    OrderSizeLimit,
    RiskInput,
    RiskReason,
)
from tradeguard.risk.order_terms import Side

Scenario = Callable[[int], tuple[Kit, OrderRequest]]


def _reported(risk: Kit, candidate: OrderRequest, name: str) -> int:
    """The number a denying check reports as ``name`` for this order."""
    denial = RiskEngine(risk.clock, checks=ONE_BY_ONE).check(risk.ctx, candidate)
    assert denial is not None
    value: RiskInput = denial.inputs[name]
    assert isinstance(value, int)
    return value


def _limits(risk: Kit, **changes: object) -> None:
    risk.ctx.limits = replace(risk.ctx.limits, **changes)  # type: ignore[arg-type]


def cash_buy_modifying_an_order(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit(settled_cash_cents=10**8)
    first = risk.place(order(quantity=10))
    risk.place(order(quantity=3, limit_price=REFERENCE - 100))
    candidate = order(quantity=12, limit_price=REFERENCE + 100, modifies=first)
    risk.account.settled_cash_cents = 0
    risk.account.settled_cash_cents = _reported(risk, candidate, "needed_cents") + delta
    return risk, candidate


def margin_buy_on_a_held_position(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit(kind=AccountKind.MARGIN)
    risk.hold(SYMBOL, 100)
    risk.place(order(quantity=7, limit_price=REFERENCE - 100))
    candidate = market(quantity=13)
    risk.account.equity_cents = 0
    risk.account.equity_cents = _reported(risk, candidate, "requirement_cents") + delta
    return risk, candidate


def short_sale_reserved_at_the_collar_top(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit(kind=AccountKind.MARGIN)
    with_reference(risk, easy_to_borrow=True)
    candidate = order(side=Side.SELL_SHORT, quantity=10, limit_price=REFERENCE - 1_000)
    risk.account.equity_cents = 0
    risk.account.equity_cents = _reported(risk, candidate, "requirement_cents") + delta
    return risk, candidate


def credit_with_executions_today(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit()
    risk.ctx.fill(risk.place(order(quantity=4)), 4, REFERENCE)
    risk.place(order(quantity=6, limit_price=REFERENCE - 100))
    candidate = order(quantity=9)
    _limits(risk, credit_threshold_cents=0)
    total = _reported(risk, candidate, "day_notional_cents")
    _limits(risk, credit_threshold_cents=10**12, account_credit_thresholds={ACCOUNT: total + delta})
    return risk, candidate


def gross_exposure_with_a_position(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit()
    risk.hold(SYMBOL, 50)
    risk.place(order(quantity=5, limit_price=REFERENCE - 200))
    candidate = market(quantity=8)
    _limits(risk, max_gross_exposure_cents=0)
    _limits(risk, max_gross_exposure_cents=_reported(risk, candidate, "exposure_cents") + delta)
    return risk, candidate


def position_with_open_buys(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit()
    risk.hold(SYMBOL, 100)
    replaced = risk.place(order(quantity=20))
    risk.place(order(quantity=5, limit_price=REFERENCE - 100))
    candidate = order(quantity=30, modifies=replaced)
    _limits(risk, max_position_shares=0)
    projected = _reported(risk, candidate, "projected_position")
    _limits(risk, max_position_shares=abs(projected) + delta)
    return risk, candidate


def quantity_over_the_account_limit(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit()
    _limits(
        risk, account_size_limits=MappingProxyType({ACCOUNT: OrderSizeLimit(40 + delta, 10**9)})
    )
    return risk, order(quantity=40)


def market_notional_over_the_tier_limit(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit()
    candidate = market(quantity=40)
    _limits(risk, tier_limits=MappingProxyType({1: OrderSizeLimit(10**6, 0)}))
    notional = _reported(risk, candidate, "notional_cents")
    _limits(risk, tier_limits=MappingProxyType({1: OrderSizeLimit(10**6, notional + delta)}))
    return risk, candidate


def limit_price_at_the_collar_top(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit()
    with_reference(risk, tick_size=1)
    top = REFERENCE + risk.ctx.limits.collar_width(REFERENCE)
    return risk, order(quantity=1, limit_price=top - delta)


def limit_price_at_the_collar_bottom(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit()
    with_reference(risk, tick_size=1)
    bottom = REFERENCE - risk.ctx.limits.collar_width(REFERENCE)
    return risk, order(quantity=1, limit_price=bottom + delta)


def market_order_reference_age(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit()
    age = risk.ctx.limits.max_reference_age_ns
    with_reference(risk, reference_at_ns=risk.clock.now_ns() - age + delta)
    return risk, market(quantity=1)


def account_order_rate(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit()
    _limits(risk, max_orders_per_second=2, max_symbol_orders_per_second=10)
    risk.place(order(quantity=1))
    risk.clock.advance(nanoseconds=10)
    risk.place(order(quantity=2))
    risk.clock.advance(nanoseconds=NS_PER_SECOND - 10 + delta)
    return risk, order(quantity=3)


def symbol_order_rate(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit()
    _limits(risk, max_symbol_orders_per_second=1)
    risk.place(order(quantity=1))
    risk.clock.advance(nanoseconds=NS_PER_SECOND + delta)
    return risk, order(quantity=2)


def duplicate_window(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit()
    risk.place(order(quantity=7))
    risk.clock.advance(nanoseconds=risk.ctx.limits.duplicate_window_ns + delta)
    return risk, order(quantity=7)


def locate_shares(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit(kind=AccountKind.MARGIN)
    expires = risk.clock.now_ns() + NS_PER_SECOND
    risk.ctx.add_locate(ACCOUNT, Locate(SYMBOL, 10**6, expires))
    risk.place(order(side=Side.SELL_SHORT, quantity=25))
    risk.ctx.add_locate(ACCOUNT, Locate(SYMBOL, 25 + 15 + delta, expires))
    return risk, order(side=Side.SELL_SHORT, quantity=15)


def locate_expiry(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit(kind=AccountKind.MARGIN)
    risk.ctx.add_locate(ACCOUNT, Locate(SYMBOL, 100, risk.clock.now_ns() + delta))
    return risk, order(side=Side.SELL_SHORT, quantity=15)


def closeout_obligation(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit(kind=AccountKind.MARGIN)
    with_reference(risk, threshold=True, easy_to_borrow=True)
    risk.ctx.set_closeout_obligation(SYMBOL, 1 + delta)
    return risk, order(side=Side.SELL_SHORT, quantity=15)


def sell_against_open_sells(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit()
    risk.hold(SYMBOL, 100)
    risk.place(order(side=Side.SELL, quantity=60))
    return risk, order(side=Side.SELL, quantity=40 + delta, limit_price=REFERENCE + 100)


def pattern_day_trader_restriction(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit(kind=AccountKind.MARGIN)
    risk.account.pdt_restricted_until_ns = risk.clock.now_ns() + delta
    return risk, order(quantity=1)


def day_trade_count(delta: int) -> tuple[Kit, OrderRequest]:
    risk = kit(kind=AccountKind.MARGIN, equity_cents=2_000_000)
    risk.ctx.fill(risk.place(order(quantity=1)), 1, REFERENCE)
    risk.clock.advance(seconds=3)
    risk.ctx.fill(risk.place(order(side=Side.SELL, quantity=1)), 1, REFERENCE)
    risk.clock.advance(seconds=3)
    risk.ctx.fill(risk.place(order(quantity=2)), 2, REFERENCE)
    risk.clock.advance(seconds=3)
    _limits(risk, pdt_day_trade_limit=1 + delta)
    return risk, order(side=Side.SELL, quantity=2)


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        (cash_buy_modifying_an_order, RiskReason.BUYING_POWER),
        (margin_buy_on_a_held_position, RiskReason.BUYING_POWER),
        (short_sale_reserved_at_the_collar_top, RiskReason.BUYING_POWER),
        (credit_with_executions_today, RiskReason.CREDIT_THRESHOLD),
        (gross_exposure_with_a_position, RiskReason.GROSS_EXPOSURE),
        (position_with_open_buys, RiskReason.POSITION_LIMIT),
        (quantity_over_the_account_limit, RiskReason.MAX_QUANTITY),
        (market_notional_over_the_tier_limit, RiskReason.MAX_NOTIONAL),
        (limit_price_at_the_collar_top, RiskReason.PRICE_COLLAR),
        (limit_price_at_the_collar_bottom, RiskReason.PRICE_COLLAR),
        (market_order_reference_age, RiskReason.STALE_REFERENCE_PRICE),
        (account_order_rate, RiskReason.ORDER_RATE),
        (symbol_order_rate, RiskReason.SYMBOL_ORDER_RATE),
        (duplicate_window, RiskReason.DUPLICATE_ORDER),
        (locate_shares, RiskReason.SHO_LOCATE_REQUIRED),
        (locate_expiry, RiskReason.SHO_LOCATE_REQUIRED),
        (closeout_obligation, RiskReason.SHO_CLOSEOUT),
        (sell_against_open_sells, RiskReason.SELL_EXCEEDS_POSITION),
        (pattern_day_trader_restriction, RiskReason.PDT_RESTRICTED),
        (day_trade_count, RiskReason.PDT),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_screen_when_a_check_is_at_its_boundary_then_it_agrees_on_every_side(
    scenario: Scenario, reason: RiskReason
) -> None:
    answers = []
    for delta in (-1, 0, 1):
        answer = agreed_answer(*scenario(delta))
        answers.append(None if answer is None else answer.reason_code)
    assert None in answers, answers
    assert reason in answers, answers


def test_screen_when_a_modify_changes_side_then_the_checks_deny_it() -> None:
    risk = kit()
    risk.hold(SYMBOL, 100)
    bought = risk.place(order(quantity=5))
    denial = agreed_answer(risk, order(side=Side.SELL, quantity=5, modifies=bought))
    assert denial is not None
    assert denial.reason_code == RiskReason.INVALID_MODIFY
