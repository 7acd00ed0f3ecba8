"""The firm's pre-trade limits as stored overrides: ``risk_limits`` rows to ``RiskLimits`` and back.

A row overrides one value in one scope: ``firm`` (firm-wide values and the price collar
bands), ``tier:1`` / ``tier:2`` (the per-order size limits of an instrument tier) or
``account:<id>`` (one account's size limits and 15c3-5 credit threshold). A value without
a row is the default in ``RiskLimits``. Every value is a positive integer in its unit
(shares, cents, milliseconds, basis points, days, a count) within bounds that keep the
checks meaningful, and regulatory minimums (Reg T margin, the pattern-day-trader rule)
cannot be loosened. A row the code cannot read stops the start-up rather than be ignored.

An account's size override replaces the tier limits for every tier (``RiskLimits``); the
half of it that has no row takes the strictest tier's value, so one override never
loosens the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.core.clock import NS_PER_MILLISECOND
from tradeguard.core.errors import TradeGuardError
from tradeguard.core.money import Money
from tradeguard.risk.model import (
    BASIS_POINTS,
    CollarBand,
    OrderSizeLimit,
    RiskLimits,
)
from tradeguard.trading.models import RiskLimitRow

FIRM = "firm"
CENTS_SUFFIX = "_cents"
TIER_PREFIX = "tier:"
ACCOUNT_PREFIX = "account:"
MAX_QUANTITY = "max_quantity"
MAX_NOTIONAL = "max_notional_cents"
CREDIT_THRESHOLD = "credit_threshold_cents"
MAX_SHARES = 10**9
MAX_CENTS = 10**15
MAX_PER_SECOND = 10_000
MAX_MILLISECONDS = 86_400_000
MAX_DAYS = 3_650
REG_T_MARGIN_BPS = 5_000
PDT_EQUITY_MINIMUM_CENTS = 2_500_000
PDT_DAY_TRADES = 3
PDT_WINDOW_DAYS = 5

Overrides = Mapping[tuple[str, str], int]
"""Stored values by (scope, name)."""


class LimitUnit(StrEnum):
    """What a limit's integer counts."""

    SHARES = "shares"
    CENTS = "cents"
    COUNT = "count"
    MILLISECONDS = "milliseconds"
    BASIS_POINTS = "basis_points"
    DAYS = "days"


class LimitError(TradeGuardError):
    """A scope, name or value that is not a limit this code knows, or out of its bounds."""


@dataclass(frozen=True, slots=True)
class LimitDefinition:
    """One limit's name, unit and bounds."""

    name: str
    unit: LimitUnit
    low: int
    high: int

    def check(self, value: int) -> int:
        """``value`` if it is within the bounds; ``LimitError`` otherwise."""
        if isinstance(value, bool) or not self.low <= value <= self.high:
            low, high = self.shown(self.low), self.shown(self.high)
            raise LimitError(f"{self.public_name} must be between {low} and {high}")
        return value

    @property
    def public_name(self) -> str:
        """The name at the API edge: a money limit drops ``_cents`` (its value is dollars)."""
        return self.name.removesuffix(CENTS_SUFFIX) if self.unit is LimitUnit.CENTS else self.name

    @property
    def public_unit(self) -> str:
        """The unit at the API edge: ``dollars`` for money, else the stored unit."""
        return "dollars" if self.unit is LimitUnit.CENTS else self.unit.value

    def shown(self, value: int | None) -> int | Money | None:
        """A stored value as the API shows it: money as ``Money``, the rest as integers."""
        if value is None or self.unit is not LimitUnit.CENTS:
            return value
        return Money(value)

    def parsed(self, value: int | Money) -> int:
        """The stored integer of an API value; ``LimitError`` if it has the wrong kind."""
        if self.unit is LimitUnit.CENTS:
            if not isinstance(value, Money):
                raise LimitError(f'{self.public_name} is money: a decimal string like "2500.00"')
            return self.check(value.cents)
        if not isinstance(value, int):
            raise LimitError(f"{self.public_name} is a whole number of {self.unit.value}")
        return self.check(value)


@dataclass(frozen=True, slots=True)
class FirmLimit:
    """A firm-wide limit and where it lives in ``RiskLimits``."""

    definition: LimitDefinition
    read: Callable[[RiskLimits], int]
    write: Callable[[RiskLimits, int], RiskLimits]


def _field(name: str, unit: LimitUnit, low: int, high: int) -> FirmLimit:
    return FirmLimit(
        LimitDefinition(name, unit, low, high),
        read=lambda limits: int(getattr(limits, name)),
        write=lambda limits, value: replace(limits, **{name: value}),  # type: ignore[arg-type]
    )


def _milliseconds(name: str, field: str) -> FirmLimit:
    return FirmLimit(
        LimitDefinition(name, LimitUnit.MILLISECONDS, 1, MAX_MILLISECONDS),
        read=lambda limits: int(getattr(limits, field)) // NS_PER_MILLISECOND,
        write=lambda limits, value: replace(limits, **{field: value * NS_PER_MILLISECOND}),  # type: ignore[arg-type]
    )


def _collar(name: str, band: int) -> FirmLimit:
    def write(limits: RiskLimits, value: int) -> RiskLimits:
        bands = list(limits.collar_bands)
        bands[band] = CollarBand(bands[band].up_to_price, value)
        return replace(limits, collar_bands=tuple(bands))

    return FirmLimit(
        LimitDefinition(name, LimitUnit.BASIS_POINTS, 1, BASIS_POINTS),
        read=lambda limits: limits.collar_bands[band].band_bps,
        write=write,
    )


FIRM_LIMITS: Mapping[str, FirmLimit] = MappingProxyType(
    {
        limit.definition.name: limit
        for limit in (
            _field("max_position_shares", LimitUnit.SHARES, 1, MAX_SHARES),
            _field("max_gross_exposure_cents", LimitUnit.CENTS, 1, MAX_CENTS),
            _field(CREDIT_THRESHOLD, LimitUnit.CENTS, 1, MAX_CENTS),
            _milliseconds("max_reference_age_ms", "max_reference_age_ns"),
            _field("max_orders_per_second", LimitUnit.COUNT, 1, MAX_PER_SECOND),
            _field("max_symbol_orders_per_second", LimitUnit.COUNT, 1, MAX_PER_SECOND),
            _milliseconds("duplicate_window_ms", "duplicate_window_ns"),
            _field(
                "pdt_equity_threshold_cents", LimitUnit.CENTS, PDT_EQUITY_MINIMUM_CENTS, MAX_CENTS
            ),
            _field("pdt_day_trade_limit", LimitUnit.COUNT, 1, PDT_DAY_TRADES),
            _field("pdt_window_business_days", LimitUnit.DAYS, PDT_WINDOW_DAYS, MAX_DAYS),
            _field("pdt_restriction_days", LimitUnit.DAYS, 1, MAX_DAYS),
            _field("initial_margin_bps", LimitUnit.BASIS_POINTS, REG_T_MARGIN_BPS, BASIS_POINTS),
            _collar("collar_bps_to_25", 0),
            _collar("collar_bps_to_50", 1),
            _collar("collar_bps_above_50", 2),
        )
    }
)
"""Firm-wide limits by stored name."""
SIZE_LIMITS: Mapping[str, LimitDefinition] = MappingProxyType(
    {
        MAX_QUANTITY: LimitDefinition(MAX_QUANTITY, LimitUnit.SHARES, 1, MAX_SHARES),
        MAX_NOTIONAL: LimitDefinition(MAX_NOTIONAL, LimitUnit.CENTS, 1, MAX_CENTS),
    }
)
"""The per-order size limits of a tier, or of one account."""
ACCOUNT_LIMITS: Mapping[str, LimitDefinition] = MappingProxyType(
    {**SIZE_LIMITS, CREDIT_THRESHOLD: FIRM_LIMITS[CREDIT_THRESHOLD].definition}
)
"""What an account's own limits may override."""


@dataclass(frozen=True, slots=True)
class LimitScope:
    """Where a limit applies: the firm, an instrument tier or one account."""

    text: str
    tier: int | None = None
    account_id: str | None = None

    @classmethod
    def parse(cls, text: str, tiers: Iterable[int]) -> LimitScope:
        """The scope ``text`` names (``firm``, ``tier:N`` of a known tier, ``account:<id>``)."""
        if text == FIRM:
            return cls(text)
        tier = text.removeprefix(TIER_PREFIX)
        if tier != text and tier in {str(known) for known in tiers}:
            return cls(text, tier=int(tier))
        account_id = text.removeprefix(ACCOUNT_PREFIX)
        if account_id not in ("", text):
            return cls(text, account_id=account_id)
        raise LimitError(f"unknown limit scope {text!r}: firm, tier:N or account:<id>")

    @classmethod
    def of_account(cls, account_id: str) -> LimitScope:
        """The scope of one account's limits."""
        return cls(f"{ACCOUNT_PREFIX}{account_id}", account_id=account_id)

    @classmethod
    def of_tier(cls, tier: int) -> LimitScope:
        """The scope of one instrument tier's size limits."""
        return cls(f"{TIER_PREFIX}{tier}", tier=tier)

    def names(self) -> Mapping[str, LimitDefinition]:
        """The limits this scope has, by stored name."""
        if self.tier is not None:
            return SIZE_LIMITS
        if self.account_id is not None:
            return ACCOUNT_LIMITS
        return MappingProxyType({name: limit.definition for name, limit in FIRM_LIMITS.items()})


def definition(scope: LimitScope, name: str) -> LimitDefinition:
    """The limit ``name`` in ``scope``; ``LimitError`` if there is none."""
    found = scope.names().get(name)
    if found is None:
        raise LimitError(f"{scope.text} has no limit named {name!r}")
    return found


def public_definition(scope: LimitScope, public_name: str) -> LimitDefinition:
    """The limit the API calls ``public_name`` in ``scope``; ``LimitError`` if there is none."""
    for found in scope.names().values():
        if found.public_name == public_name:
            return found
    raise LimitError(f"{scope.text} has no limit named {public_name!r}")


def value_in(limits: RiskLimits, scope: LimitScope, name: str) -> int | None:
    """The value ``limits`` hold for ``name`` in ``scope`` (None: an account without its own)."""
    if scope.tier is not None:
        size = limits.tier_limits[scope.tier]
        return size.max_quantity if name == MAX_QUANTITY else size.max_notional_cents
    if scope.account_id is not None:
        return _account_value(limits, scope.account_id, name)
    return FIRM_LIMITS[name].read(limits)


def limits_of(overrides: Overrides, base: RiskLimits | None = None) -> RiskLimits:
    """``base`` (the defaults) with every stored override applied; ``LimitError`` on a bad row."""
    limits = base or RiskLimits()
    tiers = tuple(limits.tier_limits)
    accounts: dict[str, dict[str, int]] = {}
    for (scope_text, name), value in sorted(overrides.items()):
        scope = LimitScope.parse(scope_text, tiers)
        definition(scope, name).check(value)
        if scope.account_id is not None:
            accounts.setdefault(scope.account_id, {})[name] = value
        elif scope.tier is not None:
            limits = _with_tier(limits, scope.tier, name, value)
        else:
            limits = FIRM_LIMITS[name].write(limits, value)
    return _with_accounts(limits, accounts)


def strictest_size(limits: RiskLimits) -> OrderSizeLimit:
    """The smallest quantity and notional of any tier (an account override's missing half)."""
    sizes = limits.tier_limits.values()
    return OrderSizeLimit(
        min(size.max_quantity for size in sizes),
        min(size.max_notional_cents for size in sizes),
    )


def _with_tier(limits: RiskLimits, tier: int, name: str, value: int) -> RiskLimits:
    tiers = dict(limits.tier_limits)
    size = tiers[tier]
    tiers[tier] = (
        OrderSizeLimit(value, size.max_notional_cents)
        if name == MAX_QUANTITY
        else OrderSizeLimit(size.max_quantity, value)
    )
    return replace(limits, tier_limits=MappingProxyType(tiers))


def _with_accounts(limits: RiskLimits, accounts: Mapping[str, Mapping[str, int]]) -> RiskLimits:
    strictest = strictest_size(limits)
    sizes: dict[str, OrderSizeLimit] = {}
    thresholds: dict[str, int] = {}
    for account_id, values in accounts.items():
        if MAX_QUANTITY in values or MAX_NOTIONAL in values:
            sizes[account_id] = OrderSizeLimit(
                values.get(MAX_QUANTITY, strictest.max_quantity),
                values.get(MAX_NOTIONAL, strictest.max_notional_cents),
            )
        if CREDIT_THRESHOLD in values:
            thresholds[account_id] = values[CREDIT_THRESHOLD]
    return replace(
        limits,
        account_size_limits=MappingProxyType(sizes),
        account_credit_thresholds=MappingProxyType(thresholds),
    )


def _account_value(limits: RiskLimits, account_id: str, name: str) -> int | None:
    if name == CREDIT_THRESHOLD:
        return limits.account_credit_thresholds.get(account_id)
    size = limits.account_size_limits.get(account_id)
    if size is None:
        return None
    return size.max_quantity if name == MAX_QUANTITY else size.max_notional_cents


@dataclass(frozen=True, slots=True)
class LimitValue:
    """One limit as it applies now: its value, its default and the stored override, if any."""

    scope: str
    definition: LimitDefinition
    value: int | None
    default: int | None
    """None for an account's own limit: without one, the tier's or the firm's applies."""
    override: RiskLimitRow | None


def effective_limits(limits: RiskLimits, rows: Iterable[RiskLimitRow]) -> list[LimitValue]:
    """Every firm and tier limit, and the limits of each account with an override."""
    stored = {(row.scope, row.name): row for row in rows}
    accounts = sorted({scope for scope, _ in stored if scope.startswith(ACCOUNT_PREFIX)})
    scopes = [
        LimitScope(FIRM),
        *(LimitScope.of_tier(tier) for tier in sorted(limits.tier_limits)),
        *(LimitScope.of_account(text.removeprefix(ACCOUNT_PREFIX)) for text in accounts),
    ]
    defaults = RiskLimits()
    return [
        LimitValue(
            scope.text,
            rule,
            value_in(limits, scope, name),
            None if scope.account_id is not None else value_in(defaults, scope, name),
            stored.get((scope.text, name)),
        )
        for scope in scopes
        for name, rule in scope.names().items()
    ]


# -- storage ----------------------------------------------------------------------------


def stored_rows(db: Session) -> list[RiskLimitRow]:
    """Every stored override, by scope and name."""
    return list(db.scalars(select(RiskLimitRow).order_by(RiskLimitRow.scope, RiskLimitRow.name)))


def overrides_of(rows: Iterable[RiskLimitRow]) -> dict[tuple[str, str], int]:
    """The values of stored rows by (scope, name)."""
    return {(row.scope, row.name): row.value for row in rows}


def load_limits(db: Session) -> RiskLimits:
    """The firm's limits: the defaults with every stored override applied."""
    return limits_of(overrides_of(stored_rows(db)))


def write_override(  # noqa: PLR0913 - the row's key, its value and who wrote it when
    db: Session, scope: str, name: str, value: int | None, *, by: str, now_ns: int
) -> int | None:
    """Store (or with ``None`` delete) one override, flushed; returns the value it replaced."""
    row = db.get(RiskLimitRow, (scope, name))
    previous = None if row is None else row.value
    if value is None:
        if row is not None:
            db.delete(row)
    else:
        if row is None:
            row = RiskLimitRow(scope=scope, name=name)
            db.add(row)
        row.value, row.updated_by, row.updated_at_ns = value, by, now_ns
    db.flush()  # the session does not autoflush; the limits are read back next
    return previous
