"""What ``ledger verify`` checks of money in flight: the firm's accounts for it agree.

``firm:ach_receivable`` holds exactly the ACH pulls credited and not yet settled (or
returned), ``firm:card_receivable`` the card deposits credited and not yet settled;
``firm:withdrawals_payable`` exactly the withdrawals taken from customers and not yet
settled (or given back).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Exists, and_, exists, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from tradeguard.core.money import Money
from tradeguard.ledger.journal import FirmAccount
from tradeguard.ledger.models import LedgerEntryRow
from tradeguard.ledger.verify import BalanceCheck
from tradeguard.payments.models import DepositRow, WithdrawalRow
from tradeguard.payments.withdrawals import DEBITED


def receivable_differences(db: Session, balances: dict[str, int]) -> Iterable[str]:
    """Credited, unsettled ACH pulls against ``firm:ach_receivable`` (a debit balance).

    A return claimed but not yet reversed still owes the receivable what it held.
    """
    unsettled = DepositRow.status == "pending"
    reversing = and_(
        DepositRow.status == "returning",
        ~_has_entry(DepositRow.id, "settled"),
        ~_has_entry(DepositRow.id, "return"),
    )
    query = select(func.coalesce(func.sum(DepositRow.amount_cents), 0)).where(
        DepositRow.method == "ach", or_(unsettled, reversing)
    )
    return _compare(
        "ACH pulls in flight", int(db.scalar(query) or 0), balances, FirmAccount.ACH_RECEIVABLE, 1
    )


def card_receivable_differences(db: Session, balances: dict[str, int]) -> Iterable[str]:
    """Credited, unsettled card deposits against ``firm:card_receivable`` (a debit balance)."""
    query = select(func.coalesce(func.sum(DepositRow.amount_cents), 0)).where(
        DepositRow.method == "card", DepositRow.status == "pending"
    )
    stored = int(db.scalar(query) or 0)
    return _compare("card deposits in flight", stored, balances, FirmAccount.CARD_RECEIVABLE, 1)


def _has_entry(deposit_id: InstrumentedAttribute[str], step: str) -> Exists:
    reference = literal("deposit:") + deposit_id + literal(f":{step}")
    return exists().where(LedgerEntryRow.reference == reference)


def payable_differences(db: Session, balances: dict[str, int]) -> Iterable[str]:
    """Withdrawals taken and not settled against ``firm:withdrawals_payable`` (a credit)."""
    query = select(func.coalesce(func.sum(WithdrawalRow.amount_cents), 0)).where(
        WithdrawalRow.status.in_(DEBITED)
    )
    return _compare(
        "withdrawals in flight",
        int(db.scalar(query) or 0),
        balances,
        FirmAccount.WITHDRAWALS_PAYABLE,
        -1,
    )


def _compare(
    what: str, stored: int, balances: dict[str, int], account: FirmAccount, sign: int
) -> list[str]:
    journal = sign * balances.get(account.value, 0)
    if journal == stored:
        return []
    return [f"{what}: records {Money(stored)}, journal {account.value} {Money(journal)}"]


PAYMENT_CHECKS: tuple[BalanceCheck, ...] = (
    receivable_differences,
    card_receivable_differences,
    payable_differences,
)
