"""Journal entries and how they are posted: balanced, in the caller's transaction, in bulk.

Ledger accounts are named by what they hold. A customer's cash is two liabilities of
the firm, ``customer:<account>:settled`` and ``customer:<account>:unsettled`` (sale
proceeds waiting to settle); their balance is the credit side (``-sum(lines)``), and it
equals the trading account's ``settled_cash_cents`` and ``unsettled_cash_cents``. The
firm's own accounts (``firm:...``) are where the cash came from or went.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from tradeguard.core.errors import TradeGuardError
from tradeguard.ledger.models import LedgerEntryRow, LedgerLineRow

ENTRIES = cast("Table", LedgerEntryRow.__table__)
LINES = cast("Table", LedgerLineRow.__table__)


class FirmAccount(StrEnum):
    """The firm's side of customer cash movements."""

    CLEARING = "firm:clearing"
    """Trades against the street: what executions pay or receive."""
    BANK = "firm:bank"
    """The firm's operating cash at its bank."""
    ACH_RECEIVABLE = "firm:ach_receivable"
    """ACH pulls credited to customers but not yet settled by the bank."""
    WITHDRAWALS_PAYABLE = "firm:withdrawals_payable"
    """Withdrawals taken from customers and not yet settled out of the bank."""
    BRANCH_CASH = "firm:branch_cash"
    """Currency taken in at a branch."""
    CARD_RECEIVABLE = "firm:card_receivable"
    """Card charges credited to customers and not yet paid out by the processor."""
    FEES = "firm:fee_income"
    TRADE_ERRORS = "firm:trade_errors"
    """Busted trades' cash: the firm holds the other side of each reversed execution."""
    OPENING = "firm:opening_balances"
    """Balances brought in when an account opens with a deposit or the ledger starts."""


class EntryKind(StrEnum):
    """What an entry records."""

    OPENING = "opening"
    TRADE = "trade"
    SETTLEMENT = "settlement"
    DEPOSIT = "deposit"
    DEPOSIT_SETTLED = "deposit_settled"
    DEPOSIT_RETURNED = "deposit_returned"
    WITHDRAWAL = "withdrawal"
    WITHDRAWAL_SETTLED = "withdrawal_settled"
    WITHDRAWAL_REVERSED = "withdrawal_reversed"
    FEE = "fee"
    TRADE_BUST = "trade_bust"


class UnbalancedEntryError(TradeGuardError):
    """An entry's lines do not sum to zero, or it has fewer than two."""


def settled_cash(account_id: str) -> str:
    """The ledger account of a customer's settled cash."""
    return f"customer:{account_id}:settled"


def unsettled_cash(account_id: str) -> str:
    """The ledger account of a customer's unsettled sale proceeds."""
    return f"customer:{account_id}:unsettled"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """An entry to post: its lines as (ledger account, signed cents; debit positive)."""

    id: str
    kind: EntryKind
    lines: tuple[tuple[str, int], ...]
    account_id: str | None = None
    reference: str | None = None

    def __post_init__(self) -> None:
        if len(self.lines) < 2 or sum(amount for _, amount in self.lines) != 0:  # noqa: PLR2004 - two sides
            raise UnbalancedEntryError(f"entry {self.kind} does not balance: {self.lines}")


def transfer(  # noqa: PLR0913 - an entry is made of these
    entry_id: str,
    kind: EntryKind,
    debit: str,
    credit: str,
    cents: int,
    *,
    account_id: str | None = None,
    reference: str | None = None,
) -> JournalEntry:
    """Two lines: ``cents`` debited to ``debit`` and credited to ``credit``."""
    return JournalEntry(entry_id, kind, ((debit, cents), (credit, -cents)), account_id, reference)


def post(db: Session, entries: Sequence[JournalEntry], now_ns: int) -> None:
    """Write ``entries`` in the caller's transaction with two multi-row inserts."""
    if not entries:
        return
    db.execute(insert(ENTRIES), list(_entry_rows(entries, now_ns)))
    db.execute(insert(LINES), list(_line_rows(entries)))


def _entry_rows(entries: Iterable[JournalEntry], now_ns: int) -> Iterable[dict[str, object]]:
    for entry in entries:
        yield {
            "id": entry.id,
            "kind": entry.kind.value,
            "reference": entry.reference,
            "account_id": entry.account_id,
            "posted_at_ns": now_ns,
        }


def _line_rows(entries: Iterable[JournalEntry]) -> Iterable[dict[str, object]]:
    for entry in entries:
        for number, (ledger_account, amount) in enumerate(entry.lines):
            yield {
                "entry_id": entry.id,
                "line": number,
                "ledger_account": ledger_account,
                "amount_cents": amount,
            }


def opening_deposit(entry_id: str, account_id: str, cents: int) -> JournalEntry:
    """An account opened with ``cents`` of settled cash received into the firm's bank."""
    return transfer(
        entry_id,
        EntryKind.OPENING,
        FirmAccount.BANK.value,
        settled_cash(account_id),
        cents,
        account_id=account_id,
        reference=f"opening:{account_id}",
    )
