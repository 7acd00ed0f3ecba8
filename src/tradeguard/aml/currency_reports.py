"""Currency transaction reports: cash in and cash out per customer and New York business day.

31 CFR 1010.311 and 1010.313: multiple currency transactions by or for one person in one
business day are aggregated; a report is due when cash in, or cash out, is more than
$10,000. The two directions are totalled separately and never netted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from tradeguard.aml.parameters import CTR_THRESHOLD_CENTS
from tradeguard.aml.transactions import (
    CASH,
    DEPOSIT,
    MONEY_KINDS,
    BusinessDays,
    Transaction,
)


@dataclass(slots=True)
class CashDirection:
    """Cash moved one way on one day: total, transactions and the accounts they touched."""

    cents: int = 0
    transactions: list[str] = field(default_factory=list)
    accounts: dict[str, int] = field(default_factory=dict)

    def add(self, txn: Transaction) -> None:
        """Count ``txn`` in this direction."""
        self.cents += txn.cents
        self.transactions.append(txn.txn_id)
        self.accounts[txn.account] = self.accounts.get(txn.account, 0) + txn.cents


@dataclass(slots=True)
class CashDay:
    """One customer's cash on one business day."""

    customer: str
    day: date
    cash_in: CashDirection = field(default_factory=CashDirection)
    cash_out: CashDirection = field(default_factory=CashDirection)

    def reportable_in(self, threshold: int = CTR_THRESHOLD_CENTS) -> bool:
        """Whether cash in exceeded the threshold."""
        return self.cash_in.cents > threshold

    def reportable_out(self, threshold: int = CTR_THRESHOLD_CENTS) -> bool:
        """Whether cash out exceeded the threshold."""
        return self.cash_out.cents > threshold


class CashLedger:
    """Aggregates cash transactions by customer and New York day."""

    def __init__(self, threshold_cents: int = CTR_THRESHOLD_CENTS) -> None:
        self.threshold_cents = threshold_cents
        self._days: dict[tuple[str, date], CashDay] = {}
        self._calendar = BusinessDays()

    def add(self, txn: Transaction) -> CashDay | None:
        """Count a cash deposit or withdrawal; its day, or None for anything else."""
        if txn.method is not CASH or txn.kind not in MONEY_KINDS:
            return None
        day = self._calendar.of(txn.ts)
        key = (txn.customer, day)
        cash_day = self._days.get(key)
        if cash_day is None:
            cash_day = self._days[key] = CashDay(txn.customer, day)
        (cash_day.cash_in if txn.kind is DEPOSIT else cash_day.cash_out).add(txn)
        return cash_day

    def add_all(self, txns: Iterable[Transaction]) -> None:
        """Count the cash deposits and withdrawals among ``txns`` (replay's loop)."""
        add = self.add
        for txn in txns:
            if txn.method is CASH:
                add(txn)

    def reportable(self) -> list[CashDay]:
        """The days that need a CTR, by date then customer."""
        days = (
            d
            for d in self._days.values()
            if d.reportable_in(self.threshold_cents) or d.reportable_out(self.threshold_cents)
        )
        return sorted(days, key=lambda d: (d.day, d.customer))
