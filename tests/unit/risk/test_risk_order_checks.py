from types import MappingProxyType

import pytest
from risk_kit import ACCOUNT, REFERENCE, agreed_answer, kit, market, order, with_reference

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.risk.model import OrderSizeLimit, RiskLimits, RiskReason
from tradeguard.risk.order_terms import OrderType


def test_symbol_when_unknown_then_denied() -> None:
    denial = kit().check(order(symbol="NOPE"))
    assert denial is not None
    assert denial.reason_code == RiskReason.UNKNOWN_SYMBOL
    assert denial.inputs == {"symbol": "NOPE"}


def test_instrument_when_halted_then_denied() -> None:
    risk = kit()
    with_reference(risk, halted=True)
    assert risk.reason(order()) == RiskReason.INSTRUMENT_HALTED


def test_instrument_when_on_restricted_list_then_denied() -> None:
    risk = kit()
    with_reference(risk, restricted=True)
    assert risk.reason(order()) == RiskReason.RESTRICTED_SECURITY


@pytest.mark.parametrize("quantity", [0, -5])
def test_quantity_when_not_positive_then_denied(quantity: int) -> None:
    assert kit().reason(order(quantity=quantity)) == RiskReason.INVALID_QUANTITY


def test_quantity_when_not_whole_lots_then_denied_and_whole_lots_allowed() -> None:
    risk = kit()
    with_reference(risk, lot_size=100)
    denial = risk.check(order(quantity=150))
    assert denial is not None
    assert (denial.reason_code, denial.threshold) == (RiskReason.LOT_SIZE, 100)
    assert risk.check(order(quantity=200)) is None


@pytest.mark.parametrize("price", [0, -100, None])
def test_limit_price_when_missing_or_not_positive_then_denied(price: int | None) -> None:
    assert kit().reason(order(limit_price=price)) == RiskReason.INVALID_PRICE


def test_market_order_when_it_carries_a_limit_price_then_denied() -> None:
    assert kit().reason(market(limit_price=REFERENCE)) == RiskReason.INVALID_PRICE


def test_limit_price_when_off_tick_then_denied() -> None:
    risk = kit()
    assert risk.reason(order(limit_price=REFERENCE + 50)) == RiskReason.TICK_SIZE
    assert risk.check(order(limit_price=REFERENCE + 100)) is None


def test_reference_price_when_missing_then_limit_and_market_orders_denied() -> None:
    risk = kit()
    with_reference(risk, reference_price=None, reference_at_ns=None)
    assert risk.reason(order()) == RiskReason.NO_REFERENCE_PRICE
    assert risk.reason(market()) == RiskReason.NO_REFERENCE_PRICE


def test_market_order_when_reference_at_age_limit_then_allowed_and_older_denied() -> None:
    risk = kit()
    risk.clock.advance(seconds=5)
    assert risk.check(market()) is None
    risk.clock.advance(nanoseconds=1)
    denial = risk.check(market())
    assert denial is not None
    assert denial.reason_code == RiskReason.STALE_REFERENCE_PRICE
    assert denial.inputs == {"age_ns": 5 * NS_PER_SECOND + 1}
    assert denial.threshold == 5 * NS_PER_SECOND


def test_market_order_when_reference_has_no_timestamp_then_denied() -> None:
    risk = kit()
    with_reference(risk, reference_at_ns=None)
    assert risk.reason(market()) == RiskReason.STALE_REFERENCE_PRICE


def test_limit_order_when_reference_is_old_then_collared_against_it() -> None:
    risk = kit()
    risk.clock.advance(seconds=3600)
    assert risk.check(order()) is None


@pytest.mark.parametrize(
    ("reference", "band_percent"),
    [(250_000, 10), (250_100, 5), (500_000, 5), (500_100, 3), (REFERENCE, 3)],
)
def test_price_collar_when_at_band_edge_then_allowed_and_beyond_denied(
    reference: int, band_percent: int
) -> None:
    risk = kit()
    with_reference(risk, reference_price=reference, tick_size=1)
    width = reference * band_percent // 100
    assert risk.check(order(limit_price=reference + width)) is None
    assert risk.check(order(limit_price=reference - width)) is None
    above = risk.check(order(limit_price=reference + width + 1))
    assert above is not None
    assert above.reason_code == RiskReason.PRICE_COLLAR
    assert above.threshold == f"{reference - width}..{reference + width}"
    assert risk.reason(order(limit_price=reference - width - 1)) == RiskReason.PRICE_COLLAR


def test_max_quantity_when_over_tier_limit_then_denied_at_limit_allowed() -> None:
    limits = RiskLimits(
        tier_limits=MappingProxyType({1: OrderSizeLimit(50, 10**12), 2: OrderSizeLimit(5, 10**12)})
    )
    risk = kit(limits=limits)
    assert risk.check(order(quantity=50)) is None
    denial = risk.check(order(quantity=51))
    assert denial is not None
    assert (denial.reason_code, denial.threshold) == (RiskReason.MAX_QUANTITY, 50)


def test_max_notional_when_over_then_denied_at_limit_allowed() -> None:
    limits = RiskLimits(
        tier_limits=MappingProxyType({1: OrderSizeLimit(10**6, 100_000), 2: OrderSizeLimit(1, 1)})
    )
    risk = kit(limits=limits)
    assert risk.check(order(quantity=10)) is None  # 10 x $100 = 100,000 cents
    denial = risk.check(order(quantity=11))
    assert denial is not None
    assert denial.reason_code == RiskReason.MAX_NOTIONAL
    assert denial.inputs == {"notional_cents": 110_000}


def test_order_size_when_account_override_then_it_replaces_the_tier_limit() -> None:
    limits = RiskLimits(account_size_limits=MappingProxyType({ACCOUNT: OrderSizeLimit(5, 10**9)}))
    risk = kit(limits=limits)
    assert risk.check(order(quantity=5)) is None
    assert risk.reason(order(quantity=6)) == RiskReason.MAX_QUANTITY


def test_order_size_when_tier_two_then_tier_two_limit_applies() -> None:
    limits = RiskLimits(
        tier_limits=MappingProxyType({1: OrderSizeLimit(100, 10**9), 2: OrderSizeLimit(3, 10**9)})
    )
    risk = kit(limits=limits)
    with_reference(risk, tier=2)
    assert risk.reason(order(quantity=4)) == RiskReason.MAX_QUANTITY


def test_market_buy_when_sized_then_priced_at_collar_top() -> None:
    limits = RiskLimits(
        tier_limits=MappingProxyType({1: OrderSizeLimit(10**6, 103_000), 2: OrderSizeLimit(1, 1)})
    )
    risk = kit(limits=limits)
    assert risk.check(market(quantity=10)) is None  # 10 x $103 (collar top) = 103,000 cents
    denial = risk.check(market(quantity=11))
    assert denial is not None
    assert denial.inputs == {"notional_cents": 113_300}
    assert market().type is OrderType.MARKET


def test_price_band_when_outside_then_denied_inside_allowed_and_no_band_no_check() -> None:
    risk = kit()
    with_reference(risk, band_low=REFERENCE - 100, band_high=REFERENCE + 100)
    assert agreed_answer(risk, order(limit_price=REFERENCE + 100)) is None
    assert agreed_answer(risk, order(limit_price=REFERENCE - 100, quantity=11)) is None
    above = agreed_answer(risk, order(limit_price=REFERENCE + 200))
    assert above is not None
    assert above.reason_code == RiskReason.PRICE_BAND
    assert above.threshold == f"{REFERENCE - 100}..{REFERENCE + 100}"
    below = agreed_answer(risk, order(limit_price=REFERENCE - 200))
    assert below is not None
    assert below.reason_code == RiskReason.PRICE_BAND
    assert agreed_answer(risk, order(type=OrderType.MARKET, limit_price=None)) is None
    with_reference(risk, band_low=None, band_high=None)
    assert agreed_answer(risk, order(limit_price=REFERENCE + 200, quantity=12)) is None
