"""The single-pass screen against the 26 checks run one by one, over generated histories.

Every candidate order is judged three ways: by the screen alone, by an engine that runs
the checks one by one (a copy of ``CHECKS``, so no screen), and by the standard engine.
The standard engine must answer exactly like the one-by-one engine; the screen may pass
an order only if the checks pass it, and must pass every order the checks pass outside
the cases it leaves to them on purpose (see ``screen.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from risk_kit import (
    ACCOUNT,
    ONE_BY_ONE,
    REFERENCE,
    SYMBOL,
    Kit,
    agreed_answer,
    instrument,
    kit,
    market,
    order,
)

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.risk import engine
from tradeguard.risk.engine import RiskEngine
from tradeguard.risk.model import (
    DAY_NS,
    AccountKind,
    AccountStatus,
    CollarBand,
    Locate,
    OrderRequest,
    OrderSizeLimit,
    RiskLimits,
    RiskReason,
    TradingState,
)
from tradeguard.risk.order_terms import OrderType, Side
from tradeguard.risk.screen import passes_every_check

OTHER = "OTHER"
TICK = 100


def _mostly(usual: object, *rare: object) -> st.SearchStrategy[Any]:
    """``usual`` eight times as often as all the ``rare`` values together."""
    return st.sampled_from([usual] * 8 * len(rare) + list(rare))


LIMITS = st.builds(
    RiskLimits,
    tier_limits=st.sampled_from(
        [
            MappingProxyType({1: OrderSizeLimit(300, 2_500_000), 2: OrderSizeLimit(50, 400_000)}),
            MappingProxyType({1: OrderSizeLimit(100_000, 10**9), 2: OrderSizeLimit(200, 10**9)}),
        ]
    ),
    account_size_limits=_mostly(
        MappingProxyType({}), MappingProxyType({ACCOUNT: OrderSizeLimit(120, 900_000)})
    ),
    max_position_shares=st.one_of(st.just(1_000_000), st.integers(0, 600)),
    max_gross_exposure_cents=st.one_of(st.just(2 * 10**9), st.integers(0, 5_000_000)),
    credit_threshold_cents=st.one_of(st.just(10**9), st.integers(0, 5_000_000)),
    account_credit_thresholds=_mostly(MappingProxyType({}), MappingProxyType({ACCOUNT: 800_000})),
    max_reference_age_ns=_mostly(60 * NS_PER_SECOND, 0, 2 * NS_PER_SECOND),
    max_orders_per_second=_mostly(20, 0, 1, 2, 3),
    max_symbol_orders_per_second=_mostly(5, 0, 1, 2),
    duplicate_window_ns=_mostly(2 * NS_PER_SECOND, 0, NS_PER_SECOND),
    pdt_equity_threshold_cents=_mostly(2_500_000, 0, 10**9),
    pdt_day_trade_limit=_mostly(3, 0, 1),
    initial_margin_bps=_mostly(5_000, 2_500, 10_000),
)
ACCOUNTS = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(list(AccountKind)),
        "status": _mostly(AccountStatus.ACTIVE, *AccountStatus),
        "trading_permission": _mostly(True, False),  # noqa: FBT003 - a value, not a flag
        "mfa_enrolled": _mostly(True, False),  # noqa: FBT003 - a value, not a flag
        "settled_cash_cents": st.one_of(st.just(10**8), st.integers(0, 3_000_000)),
        "equity_cents": st.one_of(st.just(10**8), st.integers(0, 3_000_000)),
    }
)
INSTRUMENTS = st.fixed_dictionaries(
    {
        "tier": st.sampled_from([1, 2]),
        "tick_size": _mostly(TICK, 1),
        "lot_size": _mostly(1, 10),
        "reference_price": _mostly(REFERENCE, 240_000, 450_000, None),
        "restricted": _mostly(False, True),  # noqa: FBT003 - a value, not a flag
        "threshold": st.booleans(),
        "easy_to_borrow": st.booleans(),
        "halted": _mostly(False, True),  # noqa: FBT003 - a value, not a flag
    }
)


@dataclass(frozen=True)
class Candidate:
    """A generated order; ``modifies`` is None, an index into the open orders, or unknown.

    ``price_mode``: ``usual`` gives a limit order its price and a market order none,
    ``swapped`` the other way round.
    """

    symbol: str
    side: Side
    type: OrderType
    quantity: int
    ticks: int
    off_tick: bool
    price_mode: str
    modifies: int | str | None


CANDIDATES = st.builds(
    Candidate,
    symbol=_mostly(SYMBOL, OTHER, "NOPE"),
    side=st.sampled_from(list(Side)),
    type=_mostly(OrderType.LIMIT, OrderType.MARKET),
    quantity=st.sampled_from([10, 1, 5, 40, 100, 150, 400, 0, -1]),
    ticks=st.one_of(st.integers(-40, 40), st.integers(-1_200, 1_200)),
    off_tick=_mostly(False, True),  # noqa: FBT003 - a value, not a flag
    price_mode=_mostly("usual", "swapped"),
    modifies=_mostly(None, 0, 1, 2, "ghost"),
)
PLACE = st.tuples(st.just("place"), CANDIDATES)

ACTIONS = st.lists(
    st.one_of(
        PLACE,
        PLACE,
        PLACE,
        st.tuples(st.just("fill"), st.integers(0, 9), st.integers(1, 400), st.integers(-20, 20)),
        st.tuples(st.just("cancel"), st.integers(0, 9)),
        st.tuples(
            st.just("advance"),
            st.sampled_from([1, NS_PER_SECOND // 4, NS_PER_SECOND, 3 * NS_PER_SECOND, DAY_NS]),
        ),
        st.tuples(st.just("rewind"), st.sampled_from([1, NS_PER_SECOND // 2, 5 * NS_PER_SECOND])),
        st.tuples(
            st.just("state"),
            st.sampled_from(["global", "symbol", "account"]),
            _mostly(TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED),
        ),
        st.tuples(
            st.just("loaded_state"),
            st.sampled_from(["global", "symbol", "account"]),
            st.sampled_from(list(TradingState)),
        ),
        st.tuples(st.just("locate"), st.integers(0, 300), st.sampled_from([-1, 1, DAY_NS])),
        st.tuples(st.just("closeout"), st.integers(0, 2)),
        st.tuples(st.just("pdt"), st.booleans()),
        st.tuples(st.just("status"), _mostly(AccountStatus.ACTIVE, *AccountStatus)),
        st.tuples(st.just("reference"), INSTRUMENTS),
        st.tuples(st.just("settle")),
    ),
    max_size=30,
)


def _candidate(risk: Kit, spec: Candidate) -> OrderRequest:
    """The order a generated spec describes, against the account's open orders now."""
    open_ids = list(risk.account.open_orders)
    modifies = spec.modifies
    if isinstance(modifies, int):
        modifies = open_ids[modifies % len(open_ids)] if open_ids else None
    known = risk.ctx.instruments.get(spec.symbol)
    reference = REFERENCE if known is None else known.reference_price or REFERENCE
    price = reference + spec.ticks * TICK + spec.off_tick
    has_price = (spec.type is OrderType.LIMIT) == (spec.price_mode == "usual")
    build = market if spec.type is OrderType.MARKET else order
    return build(
        symbol=spec.symbol,
        side=spec.side,
        quantity=spec.quantity,
        limit_price=price if has_price else None,
        modifies=modifies,
    )


def _apply(  # noqa: C901, PLR0912 - a branch per action
    risk: Kit, action: tuple[Any, ...]
) -> None:
    ctx, account, kind = risk.ctx, risk.account, action[0]
    open_ids = list(account.open_orders)
    if kind == "place":
        candidate = _candidate(risk, action[1])
        if agreed_answer(risk, candidate) is None:
            ctx.accept(candidate)
    elif kind == "fill" and open_ids:
        working = account.open_orders[open_ids[action[1] % len(open_ids)]]
        price = max(working.price + action[3] * TICK, TICK)
        ctx.fill(working.order_id, min(action[2], working.remaining), price)
    elif kind == "cancel" and open_ids:
        ctx.cancel(open_ids[action[1] % len(open_ids)])
    elif kind == "advance":
        risk.clock.advance(nanoseconds=action[1])
    elif kind == "rewind":
        risk.clock.set(risk.clock.now_ns() - action[1])
    elif kind == "state":
        _set_state(risk, action[1], action[2])
    elif kind == "loaded_state":
        _load_state(risk, action[1], action[2])
    elif kind == "locate":
        ctx.add_locate(ACCOUNT, Locate(SYMBOL, action[1], risk.clock.now_ns() + action[2]))
    elif kind == "closeout":
        ctx.set_closeout_obligation(SYMBOL, action[1])
    elif kind == "pdt":
        (ctx.flag_pattern_day_trader if action[1] else ctx.reset_pattern_day_trader)(ACCOUNT)
    elif kind == "status":
        account.status = action[1]
    elif kind == "reference":
        ctx.add_instrument(instrument(risk.clock, **action[1]))
    elif kind == "settle":
        ctx.settle()


def _set_state(risk: Kit, level: str, state: TradingState) -> None:
    if level == "global":
        RiskEngine.set_global_state(risk.ctx, state)
    elif level == "symbol":
        RiskEngine.set_symbol_state(risk.ctx, SYMBOL, state)
    else:
        RiskEngine.set_account_state(risk.ctx, ACCOUNT, state)


def _load_state(risk: Kit, level: str, state: TradingState) -> None:
    """Write a state straight into the context, as a loader does (ACTIVE entries included)."""
    if level == "global":
        risk.ctx.global_state = state
    elif level == "symbol":
        risk.ctx.symbol_states[SYMBOL] = state
    else:
        risk.ctx.account_states[ACCOUNT] = state


def _history_kit(limits: RiskLimits, account: dict[str, Any], start: int) -> Kit:
    risk = kit(limits=limits, kind=account["kind"])
    risk.ctx.add_instrument(instrument(risk.clock, OTHER, tier=2))
    if start:
        risk.hold(SYMBOL, start)
    for name, value in account.items():
        setattr(risk.account, name, value)
    return risk


@settings(max_examples=600, deadline=None)
@given(
    limits=LIMITS,
    account=ACCOUNTS,
    start=st.sampled_from([0, 0, 50, -50, 300]),
    actions=ACTIONS,
    final=CANDIDATES,
)
def test_screen_when_any_history_then_it_agrees_with_the_checks_one_by_one(
    limits: RiskLimits,
    account: dict[str, Any],
    start: int,
    actions: list[tuple[Any, ...]],
    final: Candidate,
) -> None:
    risk = _history_kit(limits, account, start)
    for action in actions:
        _apply(risk, action)
    agreed_answer(risk, _candidate(risk, final))


BUSY_LIMITS = st.builds(
    RiskLimits,
    max_position_shares=st.integers(50, 500),
    max_gross_exposure_cents=st.integers(200_000, 5_000_000),
    credit_threshold_cents=st.integers(200_000, 8_000_000),
    max_orders_per_second=st.integers(1, 4),
    max_symbol_orders_per_second=st.integers(1, 3),
    duplicate_window_ns=st.sampled_from([NS_PER_SECOND, 3 * NS_PER_SECOND]),
    pdt_equity_threshold_cents=st.sampled_from([10**9, 0]),
    pdt_day_trade_limit=st.integers(0, 2),
)
CLEAN = st.builds(
    Candidate,
    symbol=_mostly(SYMBOL, OTHER),
    side=st.sampled_from(list(Side)),
    type=_mostly(OrderType.LIMIT, OrderType.MARKET),
    quantity=st.sampled_from([10, 1, 5, 40, 100, 150]),
    ticks=st.integers(-30, 30),
    off_tick=st.just(False),  # noqa: FBT003 - a value, not a flag
    price_mode=st.just("usual"),
    modifies=_mostly(None, 0, 1),
)
BUSY_ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("place"), CLEAN),
        st.tuples(st.just("place"), CLEAN),
        st.tuples(st.just("fill"), st.integers(0, 9), st.integers(1, 150), st.integers(-5, 5)),
        st.tuples(st.just("cancel"), st.integers(0, 9)),
        st.tuples(
            st.just("advance"),
            st.sampled_from([1, NS_PER_SECOND // 3, NS_PER_SECOND, 2 * NS_PER_SECOND, DAY_NS]),
        ),
        st.tuples(st.just("locate"), st.integers(0, 300), st.sampled_from([1, DAY_NS])),
        st.tuples(st.just("closeout"), st.integers(0, 1)),
        st.tuples(st.just("pdt"), st.booleans()),
    ),
    min_size=3,
    max_size=30,
)


@settings(max_examples=400, deadline=None)
@given(
    limits=BUSY_LIMITS,
    account=st.fixed_dictionaries(
        {
            "kind": st.sampled_from(list(AccountKind)),
            "settled_cash_cents": st.integers(100_000, 5_000_000),
            "equity_cents": st.integers(100_000, 5_000_000),
        }
    ),
    start=st.sampled_from([0, 100, -100]),
    flags=st.fixed_dictionaries({"easy_to_borrow": st.booleans(), "threshold": st.booleans()}),
    actions=BUSY_ACTIONS,
    final=CLEAN,
)
def test_screen_when_busy_account_then_it_agrees_with_the_checks_one_by_one(  # noqa: PLR0913, PLR0917
    limits: RiskLimits,
    account: dict[str, Any],
    start: int,
    flags: dict[str, bool],
    actions: list[tuple[Any, ...]],
    final: Candidate,
) -> None:
    risk = _history_kit(limits, account, start)
    reference = instrument(risk.clock, reference_at_ns=2**62, **flags)
    risk.ctx.add_instrument(reference)
    for action in actions:
        _apply(risk, action)
    agreed_answer(risk, _candidate(risk, final))


def test_screen_when_an_order_passes_every_check_then_it_passes_the_screen() -> None:
    risk = kit()
    now = risk.clock.now_ns()
    assert passes_every_check(risk.ctx, risk.ctx.limits, order(), now)
    assert passes_every_check(risk.ctx, risk.ctx.limits, market(), now)


def test_screen_when_states_are_loaded_as_explicit_active_entries_then_still_screened() -> None:
    risk = kit()
    risk.ctx.symbol_states[SYMBOL] = TradingState.ACTIVE
    risk.ctx.account_states[ACCOUNT] = TradingState.ACTIVE
    assert passes_every_check(risk.ctx, risk.ctx.limits, order(), risk.clock.now_ns())
    risk.ctx.account_states[ACCOUNT] = TradingState.HALTED
    denial = agreed_answer(risk, order())
    assert denial is not None
    assert denial.inputs == {"level": "account"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": AccountStatus.SUSPENDED}, RiskReason.ACCOUNT_SUSPENDED),
        ({"trading_permission": False}, RiskReason.NO_TRADING_PERMISSION),
        ({"mfa_enrolled": False}, RiskReason.MFA_REQUIRED),
        ({"settled_cash_cents": 9_999}, RiskReason.BUYING_POWER),
        ({"kind": AccountKind.MARGIN, "equity_cents": 4_999}, RiskReason.BUYING_POWER),
        ({"pdt_restricted_until_ns": 2**62}, RiskReason.PDT_RESTRICTED),
    ],
)
def test_screen_when_account_fields_change_directly_then_next_order_sees_them(
    change: dict[str, object], reason: RiskReason
) -> None:
    risk = kit()
    assert risk.check(order(quantity=1)) is None
    for name, value in change.items():
        setattr(risk.account, name, value)
    assert risk.reason(order(quantity=1)) == reason


def test_screen_when_engine_limits_replaced_then_next_order_uses_new_limits() -> None:
    risk = kit()
    high = order(limit_price=REFERENCE + 20_000)  # inside the 3 % band, outside a 1 % band
    assert risk.check(high) is None
    narrow = (CollarBand(up_to_price=None, band_bps=100),)
    risk.ctx.limits = replace(risk.ctx.limits, collar_bands=narrow)
    assert risk.reason(high) == RiskReason.PRICE_COLLAR
    risk.ctx.limits = replace(risk.ctx.limits, max_position_shares=5)
    assert risk.reason(order(quantity=6)) == RiskReason.POSITION_LIMIT


def test_screen_when_instrument_replaced_then_collar_follows_its_new_reference() -> None:
    risk = kit()
    higher = order(limit_price=REFERENCE + 120_000)
    assert risk.reason(higher) == RiskReason.PRICE_COLLAR
    risk.ctx.add_instrument(instrument(risk.clock, reference_price=REFERENCE + 100_000))
    assert risk.check(higher) is None
    risk.ctx.instruments[SYMBOL] = instrument(risk.clock, halted=True)
    assert risk.reason(higher) == RiskReason.INSTRUMENT_HALTED


def test_screen_when_clock_went_back_and_stamps_out_of_order_then_answer_is_the_checks() -> None:
    risk = kit(limits=RiskLimits(max_orders_per_second=2, max_symbol_orders_per_second=2))
    risk.place(order(quantity=1))
    risk.clock.set(risk.clock.now_ns() - NS_PER_SECOND // 2)
    risk.place(order(quantity=2))
    risk.clock.advance(seconds=1)
    # The later stamp is the older one: one order in the past second, so the rate allows.
    assert risk.check(order(quantity=3)) is None


def test_engine_when_screen_raises_then_the_checks_decide(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object) -> bool:
        raise ZeroDivisionError

    monkeypatch.setattr(engine, "passes_every_check", broken)
    risk = kit()
    assert risk.check(order()) is None
    assert risk.reason(order(quantity=0)) == RiskReason.INVALID_QUANTITY


def test_engine_when_checks_are_not_the_standard_ones_then_no_screen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[OrderRequest] = []

    def spy(_risk: object, _limits: object, candidate: OrderRequest, _now: int) -> bool:
        calls.append(candidate)
        return True

    monkeypatch.setattr(engine, "passes_every_check", spy)
    risk = kit()
    custom = RiskEngine(risk.clock, checks=ONE_BY_ONE)
    assert custom.check(risk.ctx, order(quantity=0)) is not None
    assert calls == []
    assert risk.check(order(quantity=0)) is None  # the standard engine trusts its screen
    assert len(calls) == 1
