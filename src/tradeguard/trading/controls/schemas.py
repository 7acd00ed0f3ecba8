"""Request and response shapes of the trading controls: halts, accounts, limits, lists, locates.

Every change names its reason (3 to 200 characters, no control characters) and answers
with what it changed: the subject, the value before and after, and the orders it
cancelled. Money limits are decimal strings (``"2500.00"``), other limits whole numbers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    Field,
    JsonValue,
    Strict,
    StrictBool,
    StringConstraints,
    model_validator,
)

from tradeguard.audit.search import Rfc3339Ns
from tradeguard.core.money import MoneyStr, PriceStr
from tradeguard.core.reasons import Reason
from tradeguard.risk.model import AccountStatus, TradingState
from tradeguard.trading.orders.schemas import MAX_SHARES, AccountView, OrderView, Symbol
from tradeguard.web.bodies import Body

AccountId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]
LimitScopeText = Annotated[str, StringConstraints(max_length=48, pattern=r"^[a-z0-9:\-]+$")]
LimitName = Annotated[str, StringConstraints(max_length=48, pattern=r"^[a-z0-9_]+$")]
Shares = Annotated[int, Field(ge=0, le=MAX_SHARES, strict=True)]


class _Target(Body):
    """The platform (``global``) or one ``symbol``."""

    scope: Literal["global", "symbol"]
    symbol: Symbol | None = Field(default=None, description="Required with scope symbol")
    reason: Reason

    @model_validator(mode="after")
    def _symbol_fits_scope(self) -> _Target:
        if (self.scope == "symbol") != (self.symbol is not None):
            raise ValueError("scope symbol needs a symbol; scope global must not have one")
        return self


class HaltRequest(_Target):
    """Halt (or restrict to reducing orders) the platform or one symbol."""

    state: Literal["HALTED", "REDUCING"] = "HALTED"
    cancel_open_orders: StrictBool = Field(
        default=False, description="Also cancel the open orders in scope, in the same step"
    )


class ResumeRequest(_Target):
    """Set the platform or one symbol back to ACTIVE."""


class ReasonRequest(Body):
    """Why a control is applied."""

    reason: Reason


class AccountStateRequest(Body):
    """One account's trading state (its own kill switch)."""

    state: TradingState
    reason: Reason
    cancel_open_orders: StrictBool = False


class StandingRequest(Body):
    """An account's standing with the firm and/or its approval to trade."""

    status: AccountStatus | None = None
    trading_permission: StrictBool | None = None
    reason: Reason

    @model_validator(mode="after")
    def _changes_something(self) -> StandingRequest:
        if self.status is None and self.trading_permission is None:
            raise ValueError("give status, trading_permission or both")
        return self


class LimitChangeRequest(Body):
    """One limit's new value; ``null`` puts the default (or the tier's or firm's) back."""

    scope: LimitScopeText = Field(description="firm, tier:1, tier:2 or account:<account id>")
    name: LimitName
    value: Annotated[int, Strict()] | MoneyStr | None = Field(
        description="A decimal string for money limits, a whole number otherwise, or null"
    )
    reason: Reason


class FlagsRequest(Body):
    """New list memberships of an instrument (flags not given stay as they are)."""

    restricted: StrictBool | None = None
    threshold: StrictBool | None = None
    easy_to_borrow: StrictBool | None = None
    reason: Reason

    @model_validator(mode="after")
    def _changes_something(self) -> FlagsRequest:
        if not self.flags:
            raise ValueError("give restricted, threshold, easy_to_borrow or several")
        return self

    @property
    def flags(self) -> dict[str, bool]:
        """The flags to set."""
        asked = {
            "restricted": self.restricted,
            "threshold": self.threshold,
            "easy_to_borrow": self.easy_to_borrow,
        }
        return {name: value for name, value in asked.items() if value is not None}


class LocateRequest(Body):
    """A stock-loan locate: shares the account may sell short in the symbol until it expires."""

    account_id: AccountId
    symbol: Symbol
    quantity: Annotated[int, Field(gt=0, le=MAX_SHARES, strict=True)]
    expires_at: Rfc3339Ns | None = Field(
        default=None,
        description="RFC 3339; in the future, at most 5 days ahead (default 23:59:59 UTC today)",
    )


class CloseoutRequest(Body):
    """The firm's fails to deliver in a symbol from the clearing firm's report (0 clears it)."""

    shares: Shares
    reason: Reason


class ControlChangeView(BaseModel):
    """What a control request changed."""

    event: str = Field(description="The audit event recorded")
    subject: str
    before: JsonValue = Field(description="A state, or an object of the values that changed")
    after: JsonValue
    reason: str | None
    cancelled_orders: list[OrderView] = Field(description="Open orders the change cancelled")


class TradingStateView(BaseModel):
    """A trading state other than ACTIVE: the platform (key ``*``), a symbol or an account."""

    scope: str
    key: str
    state: str
    reason: str
    set_by: str
    set_at: str


class AccountControlView(AccountView):
    """An account as compliance sees it: standing, approvals, trading states, cash, day trades."""

    user_id: str
    trading_permission: bool
    account_trading_state: str = Field(description="The account's own state (without global)")
    open_orders: int
    restrictions: list[str] = Field(
        default_factory=list, description="Who holds a restriction of the account"
    )


class LimitView(BaseModel):
    """One limit as it applies now."""

    scope: str
    name: str
    unit: str = Field(description="dollars (a decimal string) or the unit of a whole number")
    value: int | MoneyStr | None = Field(description="null: the tier's or firm's value applies")
    default: int | MoneyStr | None
    overridden: bool
    updated_by: str | None
    updated_at: str | None


class LimitsView(BaseModel):
    """Every firm and tier limit, and each account's own limits."""

    limits: list[LimitView]


class InstrumentView(BaseModel):
    """An instrument of the trading universe."""

    symbol: str
    name: str
    tier: int
    tick_size: PriceStr
    lot_size: int
    reference_price: PriceStr | None
    reference_at: str | None
    status: str = Field(description="active, halted (by the venue) or inactive")
    trading_state: str = Field(description="The firm's state for the symbol: ACTIVE or a halt")
    restricted: bool
    threshold: bool
    easy_to_borrow: bool


class LocateView(BaseModel):
    """A locate and the shares still left on it."""

    account_id: str
    symbol: str
    quantity: int = Field(description="Shares that may still be sold short")
    expires_at: str
    active: bool
    granted_by: str
    granted_at: str


class CloseoutView(BaseModel):
    """An open Reg SHO close-out obligation."""

    symbol: str
    shares: int
    threshold: bool = Field(description="New short sales are refused while the symbol is one")
    fails_since: str
    updated_by: str
    updated_at: str
