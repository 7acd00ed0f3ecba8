"""Stored limit overrides to ``RiskLimits`` and back: names, units, bounds and storage."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tradeguard.core.clock import NS_PER_MILLISECOND
from tradeguard.core.money import Money
from tradeguard.risk.model import OrderSizeLimit, RiskLimits
from tradeguard.trading.controls.limits_store import (
    FIRM_LIMITS,
    LimitError,
    LimitScope,
    LimitUnit,
    definition,
    effective_limits,
    limits_of,
    load_limits,
    public_definition,
    stored_rows,
    strictest_size,
    value_in,
    write_override,
)
from tradeguard.trading.models import RiskLimitRow

ACCOUNT = "01a1fd70-0000-7000-8000-00000000000a"
FIRM = LimitScope("firm")
TIERS = (1, 2)


def test_limits_when_nothing_is_stored_then_the_defaults() -> None:
    assert limits_of({}) == RiskLimits()


def test_limits_when_firm_values_are_stored_then_they_replace_the_defaults() -> None:
    limits = limits_of(
        {
            ("firm", "credit_threshold_cents"): 5_000_00,
            ("firm", "max_reference_age_ms"): 1_500,
            ("firm", "collar_bps_to_50"): 250,
        }
    )

    assert limits.credit_threshold_cents == 5_000_00
    assert limits.max_reference_age_ns == 1_500 * NS_PER_MILLISECOND
    assert [band.band_bps for band in limits.collar_bands] == [1_000, 250, 300]
    assert limits.max_position_shares == RiskLimits().max_position_shares


@pytest.mark.parametrize("name", sorted(FIRM_LIMITS))
def test_firm_limit_when_written_then_read_back_the_same(name: str) -> None:
    rule = FIRM_LIMITS[name].definition
    value = rule.low if rule.low != FIRM_LIMITS[name].read(RiskLimits()) else rule.high

    limits = limits_of({("firm", name): value})

    assert value_in(limits, FIRM, name) == value
    assert limits != RiskLimits()


def test_tier_limit_when_stored_then_only_that_tier_changes() -> None:
    limits = limits_of({("tier:2", "max_quantity"): 500})

    assert limits.tier_limits[2] == OrderSizeLimit(
        500, RiskLimits().tier_limits[2].max_notional_cents
    )
    assert limits.tier_limits[1] == RiskLimits().tier_limits[1]
    assert limits.size_limit("any-account", 2).max_quantity == 500


def test_account_size_when_one_half_is_stored_then_the_other_is_the_strictest_tier() -> None:
    limits = limits_of({(f"account:{ACCOUNT}", "max_quantity"): 7})

    size = limits.size_limit(ACCOUNT, 1)
    assert size == OrderSizeLimit(7, strictest_size(RiskLimits()).max_notional_cents)
    assert size.max_notional_cents == RiskLimits().tier_limits[2].max_notional_cents
    assert limits.size_limit("someone-else", 1) == RiskLimits().tier_limits[1]


def test_account_credit_threshold_when_stored_then_it_applies_to_that_account_only() -> None:
    limits = limits_of({(f"account:{ACCOUNT}", "credit_threshold_cents"): 100_00})

    assert limits.credit_threshold(ACCOUNT) == 100_00
    assert limits.credit_threshold("someone-else") == RiskLimits().credit_threshold_cents
    assert value_in(limits, LimitScope.of_account(ACCOUNT), "credit_threshold_cents") == 100_00
    assert value_in(limits, LimitScope.of_account(ACCOUNT), "max_quantity") is None


@pytest.mark.parametrize(
    ("scope", "name", "value"),
    [
        ("firm", "no_such_limit", 1),
        ("tier:3", "max_quantity", 1),
        ("account:", "max_quantity", 1),
        ("desk", "max_quantity", 1),
        ("firm", "max_quantity", 1),
        ("tier:1", "credit_threshold_cents", 1),
        ("firm", "max_position_shares", 0),
        ("firm", "max_position_shares", -5),
        ("firm", "collar_bps_to_25", 10_001),
        ("firm", "initial_margin_bps", 4_999),
        ("firm", "pdt_equity_threshold_cents", 2_499_999),
        ("firm", "pdt_day_trade_limit", 4),
        ("firm", "pdt_window_business_days", 4),
    ],
)
def test_limits_when_a_stored_row_is_not_a_valid_limit_then_refused(
    scope: str, name: str, value: int
) -> None:
    with pytest.raises(LimitError):
        limits_of({(scope, name): value})


def test_public_definition_when_money_then_named_without_cents_and_parsed_from_money() -> None:
    rule = public_definition(FIRM, "credit_threshold")

    assert rule.name == "credit_threshold_cents"
    assert rule.public_unit == "dollars"
    assert rule.parsed(Money.parse("2500.00")) == 250_000
    assert rule.shown(250_000) == Money(250_000)
    with pytest.raises(LimitError, match="decimal string"):
        rule.parsed(250_000)
    with pytest.raises(LimitError):
        public_definition(FIRM, "credit_threshold_cents")


def test_public_definition_when_a_count_then_a_whole_number_only() -> None:
    rule = public_definition(FIRM, "max_orders_per_second")

    assert rule.unit is LimitUnit.COUNT
    assert rule.parsed(3) == 3
    assert rule.shown(3) == 3
    with pytest.raises(LimitError, match="whole number"):
        rule.parsed(Money.parse("3.00"))
    with pytest.raises(LimitError, match="between"):
        rule.parsed(0)


def test_scope_parse_when_valid_then_it_names_the_tier_or_account() -> None:
    assert LimitScope.parse("tier:2", TIERS).tier == 2
    assert LimitScope.parse(f"account:{ACCOUNT}", TIERS).account_id == ACCOUNT
    assert definition(LimitScope.parse("tier:1", TIERS), "max_notional_cents").unit is (
        LimitUnit.CENTS
    )


def test_effective_limits_when_overridden_then_listed_with_defaults_and_the_override() -> None:
    overrides = {("firm", "max_position_shares"): 10, (f"account:{ACCOUNT}", "max_quantity"): 5}
    limits = limits_of(overrides)

    listed = {
        (item.scope, item.definition.name): item
        for item in effective_limits(limits, _rows(overrides))
    }

    firm = listed["firm", "max_position_shares"]
    assert (firm.value, firm.default, firm.override is not None) == (
        10,
        RiskLimits().max_position_shares,
        True,
    )
    assert listed["tier:1", "max_quantity"].override is None
    account = listed[f"account:{ACCOUNT}", "max_quantity"]
    assert (account.value, account.default) == (5, None)
    assert listed[f"account:{ACCOUNT}", "credit_threshold_cents"].value is None
    assert len(listed) == len(FIRM_LIMITS) + 2 * 2 + 3


def _rows(overrides: dict[tuple[str, str], int]) -> list[RiskLimitRow]:
    return [
        RiskLimitRow(scope=scope, name=name, value=value, updated_by="x", updated_at_ns=1)
        for (scope, name), value in overrides.items()
    ]


def test_stored_overrides_when_written_and_deleted_then_loaded_limits_follow(
    db_session: Session,
) -> None:
    write_override(db_session, "firm", "max_position_shares", 42, by="officer", now_ns=1)
    write_override(db_session, "tier:1", "max_quantity", 9, by="officer", now_ns=2)
    db_session.flush()

    loaded = load_limits(db_session)
    assert (loaded.max_position_shares, loaded.tier_limits[1].max_quantity) == (42, 9)

    replaced = write_override(db_session, "firm", "max_position_shares", 43, by="o", now_ns=3)
    removed = write_override(db_session, "tier:1", "max_quantity", None, by="o", now_ns=4)
    db_session.flush()

    assert (replaced, removed) == (42, 9)
    assert [(row.scope, row.name, row.value) for row in stored_rows(db_session)] == [
        ("firm", "max_position_shares", 43)
    ]
    assert load_limits(db_session).tier_limits[1] == RiskLimits().tier_limits[1]
