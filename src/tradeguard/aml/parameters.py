"""The monitors' parameters: documented defaults from public guidance, changed by compliance."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradeguard.aml.geography import CALL_FOR_ACTION, INCREASED_MONITORING

CTR_THRESHOLD_CENTS = 1_000_000
"""31 CFR 1010.311: a CTR for currency transactions of more than $10,000 in one business day."""


class Frozen(BaseModel):
    """A parameter group: immutable, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class StructuringParameters(Frozen):
    """Cash kept just under the CTR threshold, on one or several days, over all accounts."""

    threshold_cents: int = Field(CTR_THRESHOLD_CENTS, gt=0)
    band_floor_cents: int = Field(800_000, gt=0, description="lowest amount counted as just under")
    window_days: int = Field(7, ge=1, le=31)
    min_transactions: int = Field(2, ge=2)
    long_window_days: int = Field(30, ge=1, le=92, description="for a slower, repeated pattern")
    long_min_transactions: int = Field(3, ge=2)
    same_day_floor_cents: int = Field(
        300_000, gt=0, description="least amount counted when split within one day"
    )


class RapidMovementParameters(Frozen):
    """Funds in and out again shortly, with little trading in between."""

    window_days: int = Field(7, ge=1, le=31)
    min_inflow_cents: int = Field(1_000_000, gt=0)
    business_multiplier: int = Field(
        5, ge=1, description="of the minimum inflow, for customers who declared a business"
    )
    min_outflow_ratio: float = Field(0.8, gt=0, le=1)
    max_trading_ratio: float = Field(0.25, ge=0)


class FanParameters(Frozen):
    """Many distinct counterparties paying in (fan-in) or paid out (fan-out)."""

    window_days: int = Field(7, ge=1, le=31)
    min_counterparties: int = Field(6, ge=2)
    business_multiplier: int = Field(5, ge=1, description="for customers who declared a business")
    min_total_cents: int = Field(100_000, ge=0)


class GeographyParameters(Frozen):
    """Deposits from and withdrawals to FATF-listed jurisdictions."""

    call_for_action: frozenset[str] = CALL_FOR_ACTION
    increased_monitoring: frozenset[str] = INCREASED_MONITORING
    min_amount_cents: int = Field(0, ge=0)

    @field_validator("call_for_action", "increased_monitoring")
    @classmethod
    def country_codes(cls, codes: frozenset[str]) -> frozenset[str]:
        """Two upper-case letters each (ISO 3166 alpha-2)."""
        for code in codes:
            if len(code) != 2 or not code.isascii() or not code.isupper():  # noqa: PLR2004 - alpha-2
                raise ValueError(f"{code!r} is not an ISO 3166 alpha-2 country code")
        return codes


class UnusualActivityParameters(Frozen):
    """Money moved in a month against what the declared income explains."""

    window_days: int = Field(30, ge=7, le=92)
    income_multiple: float = Field(1.0, gt=0, description="of the declared annual income")
    min_amount_cents: int = Field(2_000_000, ge=0)
    low_income_default_cents: int = Field(
        2_000_000, gt=0, description="annual income assumed when none was declared"
    )


class LowPricedSecuritiesParameters(Frozen):
    """Rapid round trips (bought, then sold within days) in securities priced under $5."""

    price_ceiling_micros: int = Field(
        5_000_000, gt=0, description="a share priced below this is low-priced (SEC Rule 3a51-1)"
    )
    round_trip_days: int = Field(5, ge=1, le=31, description="most days from buy to sale")
    window_days: int = Field(30, ge=1, le=92)
    min_round_trips: int = Field(3, ge=1)
    min_notional_cents: int = Field(
        1_000_000, ge=0, description="least sold in the window's low-priced round trips"
    )
    income_fraction: float = Field(
        0.1, ge=0, description="of the declared annual income, when that is more"
    )


class LargeTransactionParameters(Frozen):
    """One deposit or withdrawal large enough for a look on its own."""

    min_amount_cents: int = Field(5_000_000, gt=0)


class MonitorParameters(Frozen):
    """Every monitor's parameters, plus how long a quiet gap ends an episode."""

    episode_gap_days: int = Field(30, ge=1, le=365)
    structuring: StructuringParameters = StructuringParameters()
    rapid_movement: RapidMovementParameters = RapidMovementParameters()
    fan: FanParameters = FanParameters()
    geography: GeographyParameters = GeographyParameters()
    unusual_activity: UnusualActivityParameters = UnusualActivityParameters()
    low_priced_securities: LowPricedSecuritiesParameters = LowPricedSecuritiesParameters()
    large_transaction: LargeTransactionParameters = LargeTransactionParameters()
