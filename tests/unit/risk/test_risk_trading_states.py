import pytest
from risk_kit import ACCOUNT, SYMBOL, kit, order

from tradeguard.risk.engine import RiskEngine
from tradeguard.risk.model import AccountKind, RiskReason, TradingState
from tradeguard.risk.order_terms import Side


def _set(risk, level: str, state: TradingState) -> None:
    if level == "global":
        RiskEngine.set_global_state(risk.ctx, state)
    elif level == "symbol":
        RiskEngine.set_symbol_state(risk.ctx, SYMBOL, state)
    else:
        RiskEngine.set_account_state(risk.ctx, ACCOUNT, state)


@pytest.mark.parametrize("level", ["global", "symbol", "account"])
def test_trading_state_when_halted_then_new_orders_denied_with_level(level: str) -> None:
    risk = kit()
    _set(risk, level, TradingState.HALTED)
    denial = risk.check(order())
    assert denial is not None
    assert denial.reason_code == RiskReason.TRADING_HALTED
    assert denial.inputs == {"level": level}


def test_trading_state_when_halted_then_modifies_denied_and_cancels_still_work() -> None:
    risk = kit()
    order_id = risk.place(order())
    RiskEngine.set_global_state(risk.ctx, TradingState.HALTED)
    assert risk.reason(order(quantity=5, modifies=order_id)) == RiskReason.TRADING_HALTED
    risk.ctx.cancel(order_id)
    assert risk.account.open_orders == {}
    assert risk.account.reserved_cents == 0


def test_trading_state_when_other_symbol_halted_then_allowed() -> None:
    risk = kit()
    RiskEngine.set_symbol_state(risk.ctx, "OTHER", TradingState.HALTED)
    assert risk.check(order()) is None


@pytest.mark.parametrize("level", ["global", "symbol", "account"])
def test_trading_state_when_reducing_and_order_increases_then_denied(level: str) -> None:
    risk = kit()
    risk.hold(SYMBOL, 100)
    _set(risk, level, TradingState.REDUCING)
    assert risk.reason(order(side=Side.BUY, quantity=1)) == RiskReason.TRADING_REDUCING


def test_trading_state_when_reducing_and_sell_within_position_then_allowed() -> None:
    risk = kit()
    risk.hold(SYMBOL, 100)
    RiskEngine.set_global_state(risk.ctx, TradingState.REDUCING)
    assert risk.check(order(side=Side.SELL, quantity=100)) is None


def test_trading_state_when_reducing_and_open_sells_would_flip_then_denied() -> None:
    risk = kit(kind=AccountKind.MARGIN)
    risk.hold(SYMBOL, 100)
    RiskEngine.set_global_state(risk.ctx, TradingState.REDUCING)
    risk.place(order(side=Side.SELL, quantity=60))
    denial = risk.check(order(side=Side.SELL, quantity=41, limit_price=1_000_100))
    assert denial is not None
    assert denial.reason_code == RiskReason.TRADING_REDUCING
    assert risk.check(order(side=Side.SELL, quantity=40, limit_price=1_000_100)) is None


def test_trading_state_when_reducing_and_short_covered_by_buy_then_allowed() -> None:
    risk = kit(kind=AccountKind.MARGIN)
    risk.hold(SYMBOL, -50)
    RiskEngine.set_account_state(risk.ctx, ACCOUNT, TradingState.REDUCING)
    assert risk.check(order(side=Side.BUY, quantity=50)) is None
    assert risk.reason(order(side=Side.BUY, quantity=51)) == RiskReason.TRADING_REDUCING


def test_trading_state_when_flat_and_reducing_then_every_order_denied() -> None:
    risk = kit()
    RiskEngine.set_global_state(risk.ctx, TradingState.REDUCING)
    assert risk.reason(order(side=Side.BUY)) == RiskReason.TRADING_REDUCING


def test_trading_state_when_levels_differ_then_strictest_applies() -> None:
    risk = kit()
    risk.hold(SYMBOL, 100)
    RiskEngine.set_global_state(risk.ctx, TradingState.REDUCING)
    RiskEngine.set_account_state(risk.ctx, ACCOUNT, TradingState.HALTED)
    denial = risk.check(order(side=Side.SELL, quantity=10))
    assert denial is not None
    assert denial.inputs == {"level": "account"}


def test_set_state_when_changed_then_previous_returned_and_active_clears() -> None:
    risk = kit()
    assert RiskEngine.set_symbol_state(risk.ctx, SYMBOL, TradingState.HALTED) == "ACTIVE"
    assert RiskEngine.set_symbol_state(risk.ctx, SYMBOL, TradingState.ACTIVE) == "HALTED"
    assert risk.ctx.symbol_states == {}
    assert RiskEngine.set_global_state(risk.ctx, TradingState.HALTED) == "ACTIVE"
    assert RiskEngine.set_global_state(risk.ctx, TradingState.ACTIVE) == "HALTED"
    assert risk.check(order()) is None
