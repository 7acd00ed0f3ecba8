"""A denial's inputs and threshold in the API's units: names and values."""

from __future__ import annotations

import pytest

from tradeguard.core.clock import NS_PER_MILLISECOND, NS_PER_SECOND
from tradeguard.risk.model import RiskInput, RiskReason
from tradeguard.trading.orders.denial_terms import public_input, public_inputs, public_threshold

INSTANT_NS = 1_795_253_400 * NS_PER_SECOND
INSTANT = "2026-11-21T09:30:00.000000000Z"


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("needed_cents", 120_000, ("needed", "1200.00")),
        ("settled_cash_cents", -5, ("settled_cash", "-0.05")),
        ("limit_price", 1_502_500, ("limit_price", "150.25")),
        ("reference_price", 1_000_050, ("reference_price", "100.005")),
        ("limit_price", None, ("limit_price", None)),
        ("age_ns", 6 * NS_PER_SECOND + NS_PER_MILLISECOND - 1, ("age_ms", 6_000)),
        ("locate_expires_at_ns", INSTANT_NS, ("locate_expires_at", INSTANT)),
        ("locate_expires_at_ns", None, ("locate_expires_at", None)),
        ("restricted_until_ns", INSTANT_NS, ("restricted_until", INSTANT)),
        ("quantity", 10, ("quantity", 10)),
        ("margin_bps", 5_000, ("margin_bps", 5_000)),
        ("symbol", "ACME", ("symbol", "ACME")),
        ("trading_permission", False, ("trading_permission", False)),
    ],
)
def test_input_when_named_by_its_unit_then_shown_in_the_api_unit_and_renamed(
    name: str, value: RiskInput, shown: tuple[str, RiskInput]
) -> None:
    assert public_input(name, value) == shown


@pytest.mark.parametrize(
    ("reason", "threshold", "shown"),
    [
        (RiskReason.BUYING_POWER, 100_000, "1000.00"),
        (RiskReason.MAX_NOTIONAL, 500_000_000, "5000000.00"),
        (RiskReason.GROSS_EXPOSURE, 2_000_000_000, "20000000.00"),
        (RiskReason.CREDIT_THRESHOLD, 50_000, "500.00"),
        (RiskReason.TICK_SIZE, 100, "0.01"),
        (RiskReason.INVALID_PRICE, 1, "0.0001"),
        (RiskReason.INVALID_PRICE, None, None),
        (RiskReason.PRICE_COLLAR, "970000..1030000", "97.00..103.00"),
        (RiskReason.STALE_REFERENCE_PRICE, 5 * NS_PER_SECOND, 5_000),
        (RiskReason.DUPLICATE_ORDER, 2 * NS_PER_SECOND, 2_000),
        (RiskReason.PDT_RESTRICTED, INSTANT_NS, INSTANT),
        (RiskReason.MAX_QUANTITY, 100_000, 100_000),
        (RiskReason.TRADING_HALTED, "ACTIVE", "ACTIVE"),
        (RiskReason.NO_TRADING_PERMISSION, True, True),
    ],
)
def test_threshold_when_reason_bounds_money_price_or_time_then_in_that_unit(
    reason: RiskReason, threshold: RiskInput, shown: RiskInput
) -> None:
    assert public_threshold(reason, threshold) == shown
    assert public_threshold(reason.value, threshold) == shown


def test_inputs_when_converted_then_order_kept_and_nothing_in_core_units_left() -> None:
    inputs: dict[str, RiskInput] = {"requirement_cents": 105_000, "margin_bps": 5_000}
    inputs["equity_cents"] = 100_000

    shown = public_inputs(inputs)

    assert list(shown.items()) == [
        ("requirement", "1050.00"),
        ("margin_bps", 5_000),
        ("equity", "1000.00"),
    ]
    assert inputs["equity_cents"] == 100_000  # the audited inputs are left as they are
