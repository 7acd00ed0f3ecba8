"""The vocabulary of pre-trade risk: orders, instruments, limits, locates and denials.

Quantities are whole shares, prices are integer units of 1/10,000 dollar and money is
integer cents (see ``tradeguard.core.money``); nothing here is ever a float.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.risk.order_terms import OrderType, Side, TimeInForce

DAY_NS = 86_400 * NS_PER_SECOND
BASIS_POINTS = 10_000


class TradingState(StrEnum):
    """The kill-switch states, at platform, symbol and account level."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class AccountKind(StrEnum):
    """Cash accounts trade settled cash only; margin accounts borrow under Reg T."""

    CASH = "cash"
    MARGIN = "margin"


class AccountStatus(StrEnum):
    """The account's standing with the firm."""

    ACTIVE = "active"
    RESTRICTED = "restricted"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class RiskReason(StrEnum):
    """Stable reason codes of the pre-trade checks."""

    ACCOUNT_CLOSED = "RISK_ACCOUNT_CLOSED"
    ACCOUNT_SUSPENDED = "RISK_ACCOUNT_SUSPENDED"
    ACCOUNT_RESTRICTED = "RISK_ACCOUNT_RESTRICTED"
    NO_TRADING_PERMISSION = "RISK_NO_TRADING_PERMISSION"
    MFA_REQUIRED = "RISK_MFA_REQUIRED"
    UNKNOWN_ORDER = "RISK_UNKNOWN_ORDER"
    INVALID_MODIFY = "RISK_INVALID_MODIFY"
    UNKNOWN_SYMBOL = "RISK_UNKNOWN_SYMBOL"
    TRADING_HALTED = "RISK_TRADING_HALTED"
    TRADING_REDUCING = "RISK_TRADING_REDUCING"
    INSTRUMENT_HALTED = "RISK_INSTRUMENT_HALTED"
    RESTRICTED_SECURITY = "RISK_RESTRICTED_SECURITY"
    INVALID_QUANTITY = "RISK_INVALID_QUANTITY"
    LOT_SIZE = "RISK_LOT_SIZE"
    INVALID_PRICE = "RISK_INVALID_PRICE"
    TICK_SIZE = "RISK_TICK_SIZE"
    NO_REFERENCE_PRICE = "RISK_NO_REFERENCE_PRICE"
    STALE_REFERENCE_PRICE = "RISK_STALE_REFERENCE_PRICE"
    PRICE_COLLAR = "RISK_PRICE_COLLAR"
    PRICE_BAND = "RISK_PRICE_BAND"
    MAX_QUANTITY = "RISK_MAX_QUANTITY"
    MAX_NOTIONAL = "RISK_MAX_NOTIONAL"
    ORDER_RATE = "RISK_ORDER_RATE"
    SYMBOL_ORDER_RATE = "RISK_SYMBOL_ORDER_RATE"
    DUPLICATE_ORDER = "RISK_DUPLICATE_ORDER"
    SELL_EXCEEDS_POSITION = "RISK_SELL_EXCEEDS_POSITION"
    SHORT_IN_CASH_ACCOUNT = "RISK_SHORT_IN_CASH_ACCOUNT"
    SHO_CLOSEOUT = "RISK_SHO_CLOSEOUT"
    SHO_LOCATE_REQUIRED = "RISK_SHO_LOCATE_REQUIRED"
    PDT_RESTRICTED = "RISK_PDT_RESTRICTED"
    PDT = "RISK_PDT"
    BUYING_POWER = "RISK_BUYING_POWER"
    POSITION_LIMIT = "RISK_POSITION_LIMIT"
    GROSS_EXPOSURE = "RISK_GROSS_EXPOSURE"
    CREDIT_THRESHOLD = "RISK_CREDIT_THRESHOLD"
    INTERNAL_ERROR = "RISK_INTERNAL_ERROR"


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A new order, or with ``modifies`` the replacement of an open order's price/quantity."""

    account_id: str
    symbol: str
    side: Side
    type: OrderType
    quantity: int
    limit_price: int | None
    tif: TimeInForce
    client_order_id: str
    modifies: str | None = None


@dataclass(frozen=True, slots=True)
class Instrument:
    """Reference data the checks need about one symbol."""

    symbol: str
    tier: int
    tick_size: int
    lot_size: int
    reference_price: int | None = None
    reference_at_ns: int | None = None
    restricted: bool = False
    threshold: bool = False
    easy_to_borrow: bool = False
    halted: bool = False
    band_low: int | None = None
    band_high: int | None = None


@dataclass(frozen=True, slots=True)
class OrderSizeLimit:
    """The largest single order: shares and notional cents."""

    max_quantity: int
    max_notional_cents: int


@dataclass(frozen=True, slots=True)
class CollarBand:
    """Limit prices may stray ``band_bps`` from a reference price up to ``up_to_price``."""

    up_to_price: int | None
    band_bps: int


DEFAULT_TIER_LIMITS: Mapping[int, OrderSizeLimit] = MappingProxyType(
    {
        1: OrderSizeLimit(max_quantity=100_000, max_notional_cents=500_000_000),
        2: OrderSizeLimit(max_quantity=25_000, max_notional_cents=100_000_000),
    }
)
DEFAULT_COLLAR_BANDS = (
    CollarBand(up_to_price=250_000, band_bps=1_000),
    CollarBand(up_to_price=500_000, band_bps=500),
    CollarBand(up_to_price=None, band_bps=300),
)


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """The firm's pre-trade limits; per-account overrides replace the tier's size limits."""

    tier_limits: Mapping[int, OrderSizeLimit] = field(default_factory=lambda: DEFAULT_TIER_LIMITS)
    account_size_limits: Mapping[str, OrderSizeLimit] = field(
        default_factory=lambda: MappingProxyType({})
    )
    max_position_shares: int = 1_000_000
    max_gross_exposure_cents: int = 2_000_000_000
    credit_threshold_cents: int = 1_000_000_000
    account_credit_thresholds: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType({})
    )
    collar_bands: tuple[CollarBand, ...] = DEFAULT_COLLAR_BANDS
    max_reference_age_ns: int = 5 * NS_PER_SECOND
    max_orders_per_second: int = 20
    max_symbol_orders_per_second: int = 5
    duplicate_window_ns: int = 2 * NS_PER_SECOND
    pdt_equity_threshold_cents: int = 2_500_000
    pdt_day_trade_limit: int = 3
    pdt_window_business_days: int = 5
    pdt_restriction_days: int = 90
    initial_margin_bps: int = 5_000

    def size_limit(self, account_id: str, tier: int) -> OrderSizeLimit:
        """The order size limit for an account on an instrument tier."""
        override = self.account_size_limits.get(account_id)
        return override if override is not None else self.tier_limits[tier]

    def credit_threshold(self, account_id: str) -> int:
        """The 15c3-5 daily credit threshold in cents for an account."""
        return self.account_credit_thresholds.get(account_id, self.credit_threshold_cents)

    def collar_width(self, reference_price: int) -> int:
        """Half the collar band in price units around ``reference_price`` (rounded in)."""
        for band in self.collar_bands:
            if band.up_to_price is None or reference_price <= band.up_to_price:
                return reference_price * band.band_bps // BASIS_POINTS
        return 0


@dataclass(frozen=True, slots=True)
class Locate:
    """A stock-loan locate: shares that may still be sold short until it expires."""

    symbol: str
    quantity: int
    expires_at_ns: int


RiskInput = str | int | bool | None


@dataclass(frozen=True, slots=True)
class Denial:
    """Why an order was refused: the reason, the check's inputs and its threshold."""

    reason_code: RiskReason
    detail: str
    inputs: dict[str, RiskInput]
    threshold: RiskInput = None
