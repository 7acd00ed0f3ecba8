"""Proof that the journal is whole and that the balances agree with it.

Four questions, each one aggregate query over the tables: does every entry balance and
have at least two lines; does every entry have lines at all; does each customer's
settled and unsettled cash in the journal equal the account row's; and do the
balances the payment records hold (money in flight) equal the firm's accounts for them.
Every difference found is named; an empty list is the proof.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, String, column, exists, func, select, table
from sqlalchemy.orm import Session

from tradeguard.core.money import Money
from tradeguard.ledger.models import LedgerEntryRow, LedgerLineRow

CUSTOMER_PREFIX = "customer:"
TRADING_ACCOUNTS = table(
    "trading_accounts",
    column("id", String),
    column("settled_cash_cents", BigInteger),
    column("unsettled_cash_cents", BigInteger),
)
"""The balances the desk keeps (read by name: the trading package posts to the journal)."""
BalanceCheck = Callable[[Session, dict[str, int]], Iterable[str]]
"""Extra agreement checks: given the journal's balances, the differences they find."""


@dataclass(slots=True)
class Verification:
    """What ``ledger verify`` found."""

    entries: int = 0
    lines: int = 0
    differences: list[str] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        """True when nothing differs."""
        return not self.differences


def verify(db: Session, extra_checks: Iterable[BalanceCheck] = ()) -> Verification:
    """Check the journal's balance and its agreement with every balance kept elsewhere."""
    result = Verification(
        entries=db.scalar(select(func.count()).select_from(LedgerEntryRow)) or 0,
        lines=db.scalar(select(func.count()).select_from(LedgerLineRow)) or 0,
    )
    result.differences.extend(unbalanced_entries(db))
    result.differences.extend(entries_without_lines(db))
    balances = journal_balances(db)
    result.differences.extend(customer_differences(db, balances))
    for check in extra_checks:
        result.differences.extend(check(db, balances))
    return result


def unbalanced_entries(db: Session) -> list[str]:
    """Entries whose lines do not sum to zero or that have a single line."""
    amount = func.sum(LedgerLineRow.amount_cents)
    query = (
        select(LedgerLineRow.entry_id, amount, func.count())
        .group_by(LedgerLineRow.entry_id)
        .having((amount != 0) | (func.count() < 2))  # noqa: PLR2004 - two sides
    )
    return [
        f"entry {entry_id} does not balance: {lines} line(s) summing to {total} cents"
        for entry_id, total, lines in db.execute(query)
    ]


def entries_without_lines(db: Session) -> list[str]:
    """Entries that have no lines at all."""
    has_lines = exists().where(LedgerLineRow.entry_id == LedgerEntryRow.id)
    query = select(LedgerEntryRow.id).where(~has_lines)
    return [f"entry {entry_id} has no lines" for entry_id in db.scalars(query)]


def journal_balances(db: Session) -> dict[str, int]:
    """The sum of lines (debit positive) of every ledger account."""
    query = select(LedgerLineRow.ledger_account, func.sum(LedgerLineRow.amount_cents)).group_by(
        LedgerLineRow.ledger_account
    )
    return {account: int(total) for account, total in db.execute(query)}


def customer_differences(db: Session, balances: dict[str, int]) -> list[str]:
    """Accounts whose stored cash differs from their journal (customer cash is a credit)."""
    differences: list[str] = []
    known: set[str] = set()
    columns = TRADING_ACCOUNTS.c
    query = select(columns.id, columns.settled_cash_cents, columns.unsettled_cash_cents)
    for account_id, settled, unsettled in db.execute(query):
        for name, stored in (("settled", settled), ("unsettled", unsettled)):
            ledger_account = f"{CUSTOMER_PREFIX}{account_id}:{name}"
            known.add(ledger_account)
            journal = -balances.get(ledger_account, 0)
            if journal != stored:
                differences.append(_differs(f"account {account_id} {name} cash", stored, journal))
    for ledger_account, total in balances.items():
        if ledger_account.startswith(CUSTOMER_PREFIX) and ledger_account not in known and total:
            differences.append(f"{ledger_account} has {Money(-total)} but no such account exists")
    return differences


def _differs(what: str, stored: int, journal: int) -> str:
    gap = Money(stored - journal)
    return f"{what}: stored {Money(stored)}, journal {Money(journal)} (differs by {gap})"
