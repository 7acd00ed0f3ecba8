"""Stock-loan locates in the database: one row per account and symbol, and its remaining shares.

A grant replaces the account's locate in the symbol. Short sales use it up as they fill
(``AccountRisk`` counts that down in memory); ``sync_locate`` writes the remaining
quantity back in the same unit of work, so a restart does not hand the shares out again.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.core.clock import NS_PER_SECOND
from tradeguard.risk.account import AccountRisk
from tradeguard.risk.model import DAY_NS, Locate
from tradeguard.trading.models import LocateRow

MAX_LOCATE_DAYS = 5
LAST_SECOND_NS = DAY_NS - NS_PER_SECOND
"""23:59:59 into a UTC day."""


def end_of_day_ns(now_ns: int) -> int:
    """23:59:59 UTC of the day ``now_ns`` falls on (a locate's default expiry)."""
    return now_ns - now_ns % DAY_NS + LAST_SECOND_NS


def expiry_fits(expires_at_ns: int, now_ns: int) -> bool:
    """Whether a locate may expire then: in the future, at most five days ahead."""
    return now_ns < expires_at_ns <= now_ns + MAX_LOCATE_DAYS * DAY_NS


def write_locate(db: Session, account_id: str, locate: Locate, *, by: str, now_ns: int) -> None:
    """Store ``locate`` as the account's locate in its symbol, replacing any earlier one."""
    row = db.get(LocateRow, (account_id, locate.symbol))
    if row is None:
        row = LocateRow(account_id=account_id, symbol=locate.symbol)
        db.add(row)
    row.quantity, row.expires_at_ns = locate.quantity, locate.expires_at_ns
    row.granted_by, row.granted_at_ns = by, now_ns


def sync_locate(db: Session, account: AccountRisk, symbol: str) -> None:
    """Write the shares left on the account's locate in ``symbol`` (after short sales filled)."""
    locate = account.locates.get(symbol)
    if locate is None:
        return
    row = db.get(LocateRow, (account.account_id, symbol))
    if row is not None and row.quantity != locate.quantity:
        row.quantity = locate.quantity


def locate_rows(db: Session, account_id: str | None = None) -> list[LocateRow]:
    """Stored locates (of one account if given), by account and symbol."""
    query = select(LocateRow)
    if account_id is not None:
        query = query.where(LocateRow.account_id == account_id)
    return list(db.scalars(query.order_by(LocateRow.account_id, LocateRow.symbol)))
