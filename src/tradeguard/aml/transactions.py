"""What the monitors see: money movements and trade settlements of customers, and their profiles."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple
from zoneinfo import ZoneInfo

from tradeguard.core.errors import TradeGuardError

BUSINESS_ZONE = ZoneInfo("America/New_York")
"""Days (for CTRs and daily windows) are calendar dates in New York."""
NS_PER_DAY = 86_400 * 10**9
_NS_PER_HOUR = 3_600 * 10**9
_MAX_AMOUNT_DIGITS = 13


class AmlInputError(TradeGuardError):
    """A transaction, customer or account the monitors cannot read."""


class Kind(StrEnum):
    """What a transaction is."""

    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    BUY = "buy"
    SELL = "sell"


class Method(StrEnum):
    """How money moved; ``trade`` for trade settlements."""

    CASH = "cash"
    ACH = "ach"
    WIRE = "wire"
    CHECK = "check"
    CARD = "card"
    TRADE = "trade"


MONEY_KINDS = frozenset({Kind.DEPOSIT, Kind.WITHDRAWAL})

# The members as module constants: reading ``Kind.DEPOSIT`` goes through the enum's class
# (about 0.1 us), and the monitors compare a kind or a method for every transaction.
DEPOSIT, WITHDRAWAL, BUY, SELL = Kind.DEPOSIT, Kind.WITHDRAWAL, Kind.BUY, Kind.SELL
CASH = Method.CASH


class Transaction(NamedTuple):
    """One deposit, withdrawal or trade settlement of one account of one customer.

    A named tuple rather than a dataclass: replay builds hundreds of thousands a second.
    """

    ts: int
    txn_id: str
    account: str
    customer: str
    kind: Kind
    method: Method
    cents: int
    counterparty: str | None = None
    counterparty_country: str | None = None
    symbol: str | None = None
    """For trades: the security (the live trail always names it; replay lines may)."""
    price_micros: int = 0
    """For trades: the price of one share in millionths of a dollar (0 when not known)."""

    @property
    def is_cash(self) -> bool:
        """Whether currency changed hands (the CTR and structuring rules count only these)."""
        return self.method is CASH

    @property
    def is_inflow(self) -> bool:
        """Whether money came into the customer's accounts."""
        return self.kind is DEPOSIT


@dataclass(frozen=True, slots=True)
class CustomerProfile:
    """What a customer declared at onboarding that the monitors compare activity with."""

    customer: str
    name: str = ""
    dob: str = ""
    country: str = ""
    occupation: str = ""
    annual_income_cents: int = 0
    source_of_funds: str = ""
    declared: bool = True
    """False for a customer whose onboarding answers are not known to the monitors."""
    business: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        business = declares_business(self.occupation, self.source_of_funds)
        object.__setattr__(self, "business", business)


BUSINESS_WORDS = (
    "business", "owner", "self-employed", "self employed", "proprietor", "merchant",
    "entrepreneur", "contractor", "freelance", "restaurant", "shop", "store", "landlord",
    "retail", "vendor", "company", "revenue", "consult", "sole trader", "farm",
)  # fmt: skip
"""Words in an occupation or source of funds that declare a business of one's own."""


def declares_business(occupation: str, source_of_funds: str) -> bool:
    """Whether the declared occupation or source of funds names a business of the customer's."""
    declared = f"{occupation} {source_of_funds}".lower()
    return any(word in declared for word in BUSINESS_WORDS)


def parse_cents(text: str) -> int:
    """Cents from a positive decimal dollar string (``"9500"``, ``"9500.5"``, ``"9500.00"``)."""
    whole, _, fraction = text.partition(".")
    if (
        len(fraction) == 2  # noqa: PLR2004 - cents: the common shape, checked in fewer steps
        and text.isascii()
        and whole.isdigit()
        and fraction.isdigit()
        and len(whole) <= _MAX_AMOUNT_DIGITS
    ):
        return int(whole) * 100 + int(fraction)
    if not (whole.isdigit() and whole.isascii() and len(whole) <= _MAX_AMOUNT_DIGITS):
        raise AmlInputError(f"amount {text!r} is not a decimal number of dollars")
    if fraction and not (fraction.isdigit() and fraction.isascii() and len(fraction) <= 2):  # noqa: PLR2004 - cents
        raise AmlInputError(f"amount {text!r} has more than two decimal places")
    return int(whole) * 100 + int(fraction.ljust(2, "0") or "0")


def parse_micros(text: str) -> int:
    """Millionths of a dollar from a positive decimal price (``"0.0125"``, ``"4.99"``)."""
    whole, _, fraction = text.partition(".")
    if not (whole.isdigit() and whole.isascii() and len(whole) <= _MAX_AMOUNT_DIGITS):
        raise AmlInputError(f"price {text!r} is not a decimal number of dollars")
    if fraction and not (fraction.isdigit() and fraction.isascii() and len(fraction) <= 6):  # noqa: PLR2004 - micros
        raise AmlInputError(f"price {text!r} has more than six decimal places")
    return int(whole) * 1_000_000 + int(fraction.ljust(6, "0") or "0")


def format_dollars(cents: int) -> str:
    """``cents`` as a dollar string with two decimals (``"10000.01"``)."""
    return str(Decimal(cents).scaleb(-2).quantize(Decimal("0.01")))


class BusinessDays:
    """Maps nanosecond timestamps to New York calendar dates, caching by UTC hour."""

    def __init__(self) -> None:
        self._by_hour: dict[int, date] = {}

    def of(self, ts: int) -> date:
        """The New York date of ``ts`` (nanoseconds since the epoch, UTC)."""
        hour = ts // _NS_PER_HOUR
        day = self._by_hour.get(hour)
        if day is None:
            moment = datetime.fromtimestamp(hour * 3600, tz=UTC).astimezone(BUSINESS_ZONE)
            day = self._by_hour[hour] = moment.date()
        return day
