"""The cash a desk batch moves, journaled in the batch's own transaction.

When the desk writes an account row, the change of its settled and unsettled cash is
known exactly (memory against the stored row). Movements a unit of work posts itself
(a deposit, a withdrawal) carry their own entry; what is left is the cash of the
batch's executions (against the clearing account) and of settlements (unsettled to
settled), journaled as one entry per account per batch. Nothing here runs per fill:
the cost is a comparison per written account and two multi-row inserts per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tradeguard.ledger.journal import (
    EntryKind,
    FirmAccount,
    JournalEntry,
    post,
    settled_cash,
    unsettled_cash,
)

Cash = tuple[int, int]
"""Settled and unsettled cents."""


@dataclass(slots=True)
class DeskCash:
    """Entries posted by the batch's units of work, and the cash changes it wrote."""

    posted: list[JournalEntry] = field(default_factory=list)
    explained: dict[str, list[int]] = field(default_factory=dict)
    changes: list[tuple[str, int, int]] = field(default_factory=list)

    def add(self, entry: JournalEntry) -> None:
        """An entry a unit of work posts; its customer lines explain that much of the change."""
        self.posted.append(entry)
        account_id = entry.account_id
        if account_id is None:
            return
        explained = self.explained.setdefault(account_id, [0, 0])
        for ledger_account, amount in entry.lines:
            if ledger_account == settled_cash(account_id):
                explained[0] -= amount
            elif ledger_account == unsettled_cash(account_id):
                explained[1] -= amount

    def observe(self, account_id: str, before: Cash, after: Cash) -> None:
        """An account row about to be written with ``after`` over ``before``."""
        settled, unsettled = after[0] - before[0], after[1] - before[1]
        if settled or unsettled or account_id in self.explained:
            self.changes.append((account_id, settled, unsettled))

    def write(
        self, db: Session, traded: Collection[str], new_id: Callable[[], str], now_ns: int
    ) -> None:
        """Post the units of work's entries and one entry per account for the rest."""
        entries = list(self.posted)
        for account_id, settled, unsettled in self.changes:
            explained = self.explained.get(account_id, (0, 0))
            rest = (settled - explained[0], unsettled - explained[1])
            if rest != (0, 0):
                kind = EntryKind.TRADE if account_id in traded else EntryKind.SETTLEMENT
                entries.append(desk_entry(new_id(), kind, account_id, rest))
        post(db, entries, now_ns)


def desk_entry(entry_id: str, kind: EntryKind, account_id: str, change: Cash) -> JournalEntry:
    """Customer cash changed by ``change``; executions' net cash against the clearing account."""
    settled, unsettled = change
    lines = (
        (settled_cash(account_id), -settled),
        (unsettled_cash(account_id), -unsettled),
        (FirmAccount.CLEARING.value, settled + unsettled),
    )
    kept = tuple(line for line in lines if line[1] != 0)
    return JournalEntry(entry_id, kind, kept, account_id)
