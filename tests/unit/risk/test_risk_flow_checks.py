from risk_kit import ACCOUNT, REFERENCE, SYMBOL, instrument, kit, order, with_reference

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.risk.model import AccountKind, Locate, RiskLimits, RiskReason
from tradeguard.risk.order_terms import Side

MARGIN_UNDER_PDT = {"kind": AccountKind.MARGIN, "equity_cents": 2_000_000}


def test_order_rate_when_account_limit_reached_then_denied_until_a_second_passes() -> None:
    risk = kit(limits=RiskLimits(max_orders_per_second=3, max_symbol_orders_per_second=10))
    for quantity in (1, 2, 3):
        risk.place(order(quantity=quantity))
    denial = risk.check(order(quantity=4))
    assert denial is not None
    assert (denial.reason_code, denial.threshold) == (RiskReason.ORDER_RATE, 3)
    risk.clock.advance(seconds=1)
    assert risk.check(order(quantity=4)) is None


def test_order_rate_when_symbol_limit_reached_then_other_symbols_still_allowed() -> None:
    risk = kit()
    risk.ctx.add_instrument(instrument(risk.clock, "OTHER"))
    for quantity in range(1, 6):
        risk.place(order(quantity=quantity))
    assert risk.reason(order(quantity=6)) == RiskReason.SYMBOL_ORDER_RATE
    assert risk.check(order(symbol="OTHER", quantity=6)) is None


def test_duplicate_when_same_order_within_window_then_denied_and_after_allowed() -> None:
    risk = kit()
    risk.place(order(quantity=7))
    risk.clock.advance(seconds=2)
    denial = risk.check(order(quantity=7))
    assert denial is not None
    assert denial.reason_code == RiskReason.DUPLICATE_ORDER
    assert denial.inputs == {"age_ns": 2 * NS_PER_SECOND}
    risk.clock.advance(nanoseconds=1)
    assert risk.check(order(quantity=7)) is None


def test_duplicate_when_price_or_side_differs_then_allowed() -> None:
    risk = kit()
    risk.hold(SYMBOL, 100)
    risk.place(order(quantity=7))
    assert risk.check(order(quantity=7, limit_price=REFERENCE + 100)) is None
    assert risk.check(order(quantity=7, side=Side.SELL)) is None


def test_sell_when_larger_than_long_position_left_then_denied() -> None:
    risk = kit()
    risk.hold(SYMBOL, 100)
    risk.place(order(side=Side.SELL, quantity=60))
    denial = risk.check(order(side=Side.SELL, quantity=41))
    assert denial is not None
    assert denial.reason_code == RiskReason.SELL_EXCEEDS_POSITION
    assert denial.threshold == 40
    assert risk.check(order(side=Side.SELL, quantity=40)) is None


def test_sell_when_no_position_then_denied() -> None:
    assert kit().reason(order(side=Side.SELL)) == RiskReason.SELL_EXCEEDS_POSITION


def test_short_sale_when_cash_account_then_denied() -> None:
    assert kit().reason(order(side=Side.SELL_SHORT)) == RiskReason.SHORT_IN_CASH_ACCOUNT


def test_short_sale_when_no_locate_then_denied() -> None:
    denial = kit(kind=AccountKind.MARGIN).check(order(side=Side.SELL_SHORT))
    assert denial is not None
    assert denial.reason_code == RiskReason.SHO_LOCATE_REQUIRED
    assert denial.inputs == {"locate_shares": None, "locate_expires_at_ns": None}


def test_short_sale_when_locate_covers_open_shorts_and_order_then_allowed_beyond_denied() -> None:
    risk = kit(kind=AccountKind.MARGIN)
    risk.ctx.add_locate(ACCOUNT, Locate(SYMBOL, 100, risk.clock.now_ns() + NS_PER_SECOND))
    risk.place(order(side=Side.SELL_SHORT, quantity=60))
    assert risk.check(order(side=Side.SELL_SHORT, quantity=40)) is None
    denial = risk.check(order(side=Side.SELL_SHORT, quantity=41))
    assert denial is not None
    assert (denial.reason_code, denial.threshold) == (RiskReason.SHO_LOCATE_REQUIRED, 101)


def test_short_sale_when_locate_expired_then_denied() -> None:
    risk = kit(kind=AccountKind.MARGIN)
    risk.ctx.add_locate(ACCOUNT, Locate(SYMBOL, 100, risk.clock.now_ns()))
    assert risk.reason(order(side=Side.SELL_SHORT)) == RiskReason.SHO_LOCATE_REQUIRED


def test_short_sale_when_easy_to_borrow_then_no_locate_needed() -> None:
    risk = kit(kind=AccountKind.MARGIN)
    with_reference(risk, easy_to_borrow=True)
    assert risk.check(order(side=Side.SELL_SHORT)) is None


def test_short_sale_when_threshold_security_has_closeout_then_denied() -> None:
    risk = kit(kind=AccountKind.MARGIN)
    with_reference(risk, threshold=True, easy_to_borrow=True)
    assert risk.check(order(side=Side.SELL_SHORT)) is None
    risk.ctx.set_closeout_obligation(SYMBOL, 500)
    denial = risk.check(order(side=Side.SELL_SHORT))
    assert denial is not None
    assert denial.reason_code == RiskReason.SHO_CLOSEOUT
    assert denial.inputs == {"symbol": SYMBOL, "closeout_shares": 500}
    risk.ctx.set_closeout_obligation(SYMBOL, 0)
    assert risk.check(order(side=Side.SELL_SHORT)) is None


def _day_trade(risk, quantity: int) -> None:
    bought = risk.place(order(quantity=quantity))
    risk.ctx.fill(bought, quantity, REFERENCE)
    risk.clock.advance(seconds=3)
    sold = risk.place(order(side=Side.SELL, quantity=quantity))
    risk.ctx.fill(sold, quantity, REFERENCE)
    risk.clock.advance(seconds=3)


def _three_day_trades_and_an_open_position(risk) -> None:
    for quantity in (1, 2, 3):
        _day_trade(risk, quantity)
    bought = risk.place(order(quantity=4))
    risk.ctx.fill(bought, 4, REFERENCE)
    risk.clock.advance(seconds=3)


def test_pdt_when_fourth_day_trade_under_equity_minimum_then_denied() -> None:
    risk = kit(**MARGIN_UNDER_PDT)
    _three_day_trades_and_an_open_position(risk)
    denial = risk.check(order(side=Side.SELL, quantity=4))
    assert denial is not None
    assert denial.reason_code == RiskReason.PDT
    assert denial.inputs == {"day_trades": 3, "equity_cents": 2_000_000}
    assert denial.threshold == 3


def test_pdt_when_third_day_trade_then_allowed() -> None:
    risk = kit(**MARGIN_UNDER_PDT)
    for quantity in (1, 2):
        _day_trade(risk, quantity)
    risk.ctx.fill(risk.place(order(quantity=3)), 3, REFERENCE)
    risk.clock.advance(seconds=3)
    assert risk.check(order(side=Side.SELL, quantity=3)) is None


def test_pdt_when_equity_at_minimum_then_allowed() -> None:
    risk = kit(**MARGIN_UNDER_PDT)
    _three_day_trades_and_an_open_position(risk)
    risk.account.equity_cents = 2_500_000
    assert risk.check(order(side=Side.SELL, quantity=4)) is None


def test_pdt_when_cash_account_then_not_applied() -> None:
    risk = kit(equity_cents=2_000_000)
    _three_day_trades_and_an_open_position(risk)
    assert risk.check(order(side=Side.SELL, quantity=4)) is None


def test_pdt_when_day_trades_leave_the_five_business_day_window_then_allowed() -> None:
    risk = kit(**MARGIN_UNDER_PDT)
    for quantity in (1, 2, 3):
        _day_trade(risk, quantity)
    risk.clock.advance(seconds=4 * 86_400)  # Friday: Monday's trades are 5 business days ago
    risk.ctx.fill(risk.place(order(quantity=4)), 4, REFERENCE)
    risk.clock.advance(seconds=3)
    assert risk.reason(order(side=Side.SELL, quantity=4)) == RiskReason.PDT
    risk.clock.advance(seconds=3 * 86_400)  # the next Monday
    risk.ctx.fill(risk.place(order(quantity=5)), 5, REFERENCE)
    risk.clock.advance(seconds=3)
    assert risk.check(order(side=Side.SELL, quantity=5)) is None


def test_pdt_restricted_when_flagged_then_only_closing_orders_for_90_days() -> None:
    risk = kit(kind=AccountKind.MARGIN)
    risk.hold(SYMBOL, 10)
    risk.ctx.flag_pattern_day_trader(ACCOUNT)
    denial = risk.check(order(quantity=1))
    assert denial is not None
    assert denial.reason_code == RiskReason.PDT_RESTRICTED
    assert risk.check(order(side=Side.SELL, quantity=10)) is None
    risk.clock.advance(seconds=90 * 86_400 - 1)
    assert risk.reason(order(quantity=1)) == RiskReason.PDT_RESTRICTED
    risk.clock.advance(seconds=1)
    assert risk.check(order(quantity=1)) is None


def test_pdt_restricted_when_reset_by_compliance_then_allowed() -> None:
    risk = kit(kind=AccountKind.MARGIN)
    risk.ctx.flag_pattern_day_trader(ACCOUNT)
    risk.ctx.reset_pattern_day_trader(ACCOUNT)
    assert risk.check(order(quantity=1)) is None
