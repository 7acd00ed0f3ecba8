"""What is being decided: the action, who asks, from where, and its amounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from tradeguard.fraud.geo import Network


class Action(StrEnum):
    """The decision points."""

    LOGIN = "login"
    NEW_DEVICE = "new_device"
    PROFILE_CHANGE = "profile_change"
    CREDENTIAL_CHANGE = "credential_change"
    BANK_LINK = "bank_link"
    WITHDRAWAL = "withdrawal"
    ORDER = "order"


MONEY_ACTIONS = frozenset({Action.WITHDRAWAL, Action.BANK_LINK})
CREDENTIAL_ACTIONS = frozenset({Action.CREDENTIAL_CHANGE, Action.PROFILE_CHANGE})


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """The request at a decision point, as the caller knows it.

    Amounts are cents; ``balance_cents`` is the account's cash (or equity) now, None when
    the caller does not know it. ``kyc_risk`` is the onboarding risk rating (0 low, 1
    medium, 2 high); ``linked_under_review`` counts accounts linked to this customer with
    an open case; ``flagged_symbol`` says the symbol is thin and traded by flagged accounts.
    """

    user: str
    ts_ns: int
    device: str | None = None
    network: Network | None = None
    session: str | None = None
    amount_cents: int = 0
    balance_cents: int | None = None
    symbol: str | None = None
    sell: bool = False
    quantity: int = 0
    account_created_ns: int | None = None
    kyc_risk: int = 0
    linked_under_review: int = 0
    flagged_symbol: bool = False
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What order entry tells the fraud check: symbol, side, quantity and price (1/10,000 $).

    ``price`` is a limit order's limit and a market order's reference price (None when the
    symbol has none), so that a market order is valued at what it will trade near.
    """

    symbol: str
    sell: bool
    quantity: int
    price: int | None
