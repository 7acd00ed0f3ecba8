from risk_kit import REFERENCE, SYMBOL, kit, market, order, with_reference

from tradeguard.risk import checks
from tradeguard.risk.engine import RiskEngine
from tradeguard.risk.model import OrderRequest, RiskReason, TradingState
from tradeguard.risk.view import CheckContext


def test_engine_when_several_checks_fail_then_first_in_order_wins() -> None:
    risk = kit(mfa_enrolled=False)
    RiskEngine.set_global_state(risk.ctx, TradingState.HALTED)
    assert risk.reason(order(quantity=0)) == RiskReason.MFA_REQUIRED
    risk.account.mfa_enrolled = True
    assert risk.reason(order(quantity=0)) == RiskReason.TRADING_HALTED


def test_engine_check_order_is_the_documented_one() -> None:
    names = [check.__name__.removeprefix("check_") for check in checks.CHECKS]
    assert names[:6] == [
        "account_standing",
        "trading_permission",
        "mfa_enrolled",
        "modify_target",
        "symbol_known",
        "trading_state",
    ]
    assert names[-4:] == ["buying_power", "position_limit", "gross_exposure", "credit_threshold"]
    assert names[names.index("price_collar") + 1] == "price_band"
    assert len(names) == len(set(names)) == 26


def test_engine_when_account_unknown_then_internal_error() -> None:
    denial = kit().check(order(account_id="ghost"))
    assert denial is not None
    assert denial.reason_code == RiskReason.INTERNAL_ERROR
    assert denial.inputs == {"error": "MissingRiskDataError"}


def test_engine_when_a_check_raises_then_denied_not_passed() -> None:
    def broken(_ctx: CheckContext, _order: OrderRequest) -> None:
        raise ZeroDivisionError

    risk = kit()
    engine = RiskEngine(risk.clock, checks=(*checks.CHECKS, broken))
    denial = engine.check(risk.ctx, order())
    assert denial is not None
    assert denial.reason_code == RiskReason.INTERNAL_ERROR


def test_engine_when_market_order_has_no_reference_then_denied_never_waved_through() -> None:
    risk = kit()
    with_reference(risk, reference_price=None, reference_at_ns=None)
    assert risk.reason(market()) == RiskReason.NO_REFERENCE_PRICE
    engine = RiskEngine(
        risk.clock,
        checks=tuple(c for c in checks.CHECKS if c is not checks.check_reference_price),
    )
    denial = engine.check(risk.ctx, market())
    assert denial is not None
    assert denial.reason_code == RiskReason.INTERNAL_ERROR


def test_engine_when_instrument_data_corrupt_then_internal_error() -> None:
    risk = kit()
    with_reference(risk, lot_size=0)
    assert risk.reason(order()) == RiskReason.INTERNAL_ERROR


def test_engine_when_order_is_clean_then_allowed() -> None:
    risk = kit()
    assert risk.check(order(symbol=SYMBOL, limit_price=REFERENCE)) is None
