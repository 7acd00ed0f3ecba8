from types import MappingProxyType

from risk_kit import ACCOUNT, REFERENCE, SYMBOL, kit, market, order

from tradeguard.risk.model import AccountKind, RiskLimits, RiskReason
from tradeguard.risk.order_terms import Side


def test_buying_power_when_cash_order_costs_exactly_settled_cash_then_allowed() -> None:
    risk = kit(settled_cash_cents=100_000)
    assert risk.check(order(quantity=10)) is None
    denial = risk.check(order(quantity=11))
    assert denial is not None
    assert denial.reason_code == RiskReason.BUYING_POWER
    assert denial.inputs == {"needed_cents": 110_000, "settled_cash_cents": 100_000}


def test_buying_power_when_open_buys_reserve_cash_then_counted() -> None:
    risk = kit(settled_cash_cents=100_000)
    risk.place(order(quantity=6))
    assert risk.reason(order(quantity=5)) == RiskReason.BUYING_POWER
    assert risk.check(order(quantity=4)) is None


def test_buying_power_when_modify_then_replaced_reservation_released() -> None:
    risk = kit(settled_cash_cents=100_000)
    order_id = risk.place(order(quantity=10))
    assert risk.check(order(quantity=10, limit_price=REFERENCE - 100, modifies=order_id)) is None


def test_buying_power_when_sale_unsettled_then_not_usable_until_next_business_day() -> None:
    risk = kit(settled_cash_cents=0)
    risk.hold(SYMBOL, 10)
    sold = risk.place(order(side=Side.SELL, quantity=10))
    risk.ctx.fill(sold, 10, REFERENCE)
    assert risk.account.unsettled_cash_cents == 100_000
    risk.clock.advance(seconds=3)
    assert risk.reason(order(quantity=1)) == RiskReason.BUYING_POWER
    risk.ctx.settle()
    assert risk.reason(order(quantity=1)) == RiskReason.BUYING_POWER
    risk.clock.advance(seconds=86_400)
    risk.ctx.settle()
    assert risk.account.settled_cash_cents == 100_000
    assert risk.check(order(quantity=10)) is None


def test_buying_power_when_market_buy_then_reserved_at_collar_top() -> None:
    risk = kit(settled_cash_cents=103_000)
    assert risk.check(market(quantity=10)) is None
    assert risk.reason(market(quantity=11)) == RiskReason.BUYING_POWER
    risk.ctx.accept(market(quantity=10))
    assert risk.account.reserved_cents == 103_000


def test_buying_power_when_margin_then_reg_t_half_of_exposure_within_equity() -> None:
    risk = kit(kind=AccountKind.MARGIN, settled_cash_cents=0, equity_cents=50_000)
    assert risk.check(order(quantity=10)) is None  # 50% of $1,000 = $500 of equity
    denial = risk.check(order(quantity=11))
    assert denial is not None
    assert denial.reason_code == RiskReason.BUYING_POWER
    assert denial.inputs == {
        "requirement_cents": 55_000,
        "margin_bps": 5_000,
        "equity_cents": 50_000,
    }


def test_buying_power_when_margin_positions_then_their_cost_counts() -> None:
    risk = kit(kind=AccountKind.MARGIN, settled_cash_cents=0, equity_cents=0)
    risk.hold(SYMBOL, 10)  # adds $1,000 equity, $1,000 at cost: $500 requirement
    assert risk.check(order(quantity=10)) is None
    assert risk.reason(order(quantity=11)) == RiskReason.BUYING_POWER


def test_buying_power_when_margin_covers_short_then_not_required() -> None:
    risk = kit(kind=AccountKind.MARGIN, equity_cents=0)
    risk.hold(SYMBOL, -10)
    risk.account.equity_cents = 0
    assert risk.check(order(side=Side.BUY, quantity=10)) is None
    assert risk.reason(order(side=Side.BUY, quantity=11)) == RiskReason.BUYING_POWER


def test_position_limit_when_projected_beyond_then_denied_reducing_allowed() -> None:
    risk = kit(limits=RiskLimits(max_position_shares=100))
    risk.place(order(quantity=60))
    assert risk.check(order(quantity=40, limit_price=REFERENCE + 100)) is None
    denial = risk.check(order(quantity=41, limit_price=REFERENCE + 100))
    assert denial is not None
    assert denial.reason_code == RiskReason.POSITION_LIMIT
    assert denial.inputs == {"position": 0, "projected_position": 101}


def test_position_limit_when_already_over_after_limit_lowered_then_sell_allowed() -> None:
    risk = kit(limits=RiskLimits(max_position_shares=5))
    risk.hold(SYMBOL, 10)
    assert risk.check(order(side=Side.SELL, quantity=1)) is None


def test_gross_exposure_when_positions_open_orders_and_order_exceed_then_denied() -> None:
    risk = kit(limits=RiskLimits(max_gross_exposure_cents=300_010))
    risk.hold(SYMBOL, 10)
    risk.place(order(quantity=10))
    assert risk.check(order(quantity=10, limit_price=REFERENCE + 100)) is None
    denial = risk.check(order(quantity=11, limit_price=REFERENCE + 100))
    assert denial is not None
    assert denial.reason_code == RiskReason.GROSS_EXPOSURE
    assert denial.inputs == {"exposure_cents": 310_011}


def test_gross_exposure_when_order_reduces_then_allowed() -> None:
    risk = kit(limits=RiskLimits(max_gross_exposure_cents=1))
    risk.hold(SYMBOL, 10)
    assert risk.check(order(side=Side.SELL, quantity=10)) is None


def test_credit_threshold_when_executed_plus_open_plus_order_exceed_then_denied() -> None:
    risk = kit(limits=RiskLimits(credit_threshold_cents=300_000))
    filled = risk.place(order(quantity=10))
    risk.ctx.fill(filled, 10, REFERENCE)
    risk.place(order(quantity=10, limit_price=REFERENCE + 100))
    assert risk.check(order(quantity=10, limit_price=REFERENCE - 100)) is None  # 300,000 exactly
    denial = risk.check(order(quantity=11, limit_price=REFERENCE - 100))
    assert denial is not None
    assert denial.reason_code == RiskReason.CREDIT_THRESHOLD
    assert denial.inputs == {"day_notional_cents": 309_999}


def test_credit_threshold_when_next_day_then_executed_notional_resets() -> None:
    limits = RiskLimits(account_credit_thresholds=MappingProxyType({ACCOUNT: 150_000}))
    risk = kit(limits=limits)
    risk.ctx.fill(risk.place(order(quantity=10)), 10, REFERENCE)
    assert (
        risk.reason(order(quantity=6, limit_price=REFERENCE - 100)) == RiskReason.CREDIT_THRESHOLD
    )
    risk.clock.advance(seconds=86_400)
    assert risk.check(order(quantity=10, limit_price=REFERENCE - 100)) is None
