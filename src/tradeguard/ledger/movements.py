"""A movement of a customer's cash that the desk applies and journals in one transaction.

Payments (deposits, withdrawals, their reversals) change the cash the desk holds in
memory, so the desk applies them as a unit of work of its own: the account's settled
cash changes, the entry is posted with the batch, or nothing happens. A debit never
takes settled cash below the open orders' reservations plus ``keep_cents`` (deposits
credited but not yet settled). ``entry.reference`` makes a movement happen once.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradeguard.core.errors import ProblemError, ProblemType
from tradeguard.core.money import Money
from tradeguard.ledger.journal import JournalEntry, settled_cash

INSUFFICIENT_FUNDS = ProblemType("withdrawal-denied", "Withdrawal denied", 422)
NO_ACCOUNT = ProblemType("cash-account-not-found", "No such account", 404)


@dataclass(frozen=True, slots=True)
class CashMovement:
    """A journal entry on one account's settled cash, and what a debit must leave."""

    entry: JournalEntry
    keep_cents: int = 0
    may_overdraw: bool = False
    """A reversal the bank already made (an ACH return): applied even below zero."""

    @property
    def account_id(self) -> str:
        """The brokerage account whose cash moves."""
        if self.entry.account_id is None:
            raise ValueError("a cash movement names its account")
        return self.entry.account_id

    @property
    def change_cents(self) -> int:
        """How the account's settled cash changes (customer cash is a credit balance)."""
        ledger_account = settled_cash(self.account_id)
        return -sum(amount for name, amount in self.entry.lines if name == ledger_account)


@dataclass(frozen=True, slots=True)
class CashPosted:
    """What the desk did: posted now, or found the reference posted before."""

    entry_id: str
    posted: bool
    settled_cash_cents: int


def insufficient_funds(available: int, needed: int) -> ProblemError:
    """A debit larger than the withdrawable cash."""
    return ProblemError(
        INSUFFICIENT_FUNDS,
        "WITHDRAWAL_INSUFFICIENT_FUNDS",
        f"withdrawable cash is {Money(max(available, 0))}; {Money(needed)} was asked",
        {"withdrawable": str(Money(max(available, 0))), "amount": str(Money(needed))},
    )


def account_not_found() -> ProblemError:
    """A movement for an account that does not exist."""
    return ProblemError(NO_ACCOUNT, "NOT_FOUND", "no such brokerage account")
