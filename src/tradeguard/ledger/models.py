"""The journal's tables: entries and their lines.

An entry is one movement (a deposit, a withdrawal, a fee, a reversal, the cash of a
batch's executions or a settlement); its lines move signed cents between ledger
accounts (positive is a debit, negative a credit) and always sum to zero. ``reference``
names what the entry records once (a deposit's credit, a withdrawal's debit), so
posting the same movement twice is refused by the database.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.db.base import Base

ID_LENGTH = 36
LEDGER_ACCOUNT_LENGTH = 64


class LedgerEntryRow(Base):
    """One balanced journal entry."""

    __tablename__ = "ledger_entries"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    reference: Mapped[str | None] = mapped_column(String(96), unique=True)
    account_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    """The brokerage account the entry concerns, if one."""
    posted_at_ns: Mapped[int] = mapped_column(BigInteger)


class LedgerLineRow(Base):
    """One leg of an entry: signed cents on one ledger account (debit positive)."""

    __tablename__ = "ledger_lines"

    entry_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("ledger_entries.id"), primary_key=True
    )
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    ledger_account: Mapped[str] = mapped_column(String(LEDGER_ACCOUNT_LENGTH), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
