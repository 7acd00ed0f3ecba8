"""Who holds an account's restriction: each lifts only its own, the status follows all.

An account is ``restricted`` for one or more reasons, each held by whoever placed it: a
sanctions rescreen's potential match (``sanctions``), an ACH return (``ach_return``), a
risk manager (``staff``), or a restriction older than holders (``earlier``). Lifting a
holder's restriction makes the account active again only when no other restriction
stands; a risk manager setting the account active lifts every one of them. Suspended and
closed accounts keep their restrictions, and lifting one never changes those statuses.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tradeguard.trading.models import AccountRestrictionRow

SANCTIONS = "sanctions"
ACH_RETURN = "ach_return"
STAFF = "staff"


def holders(db: Session, account_id: str) -> list[str]:
    """Who holds a restriction of the account, by name."""
    query = select(AccountRestrictionRow.holder).where(
        AccountRestrictionRow.account_id == account_id
    )
    return sorted(db.scalars(query))


def place(  # noqa: PLR0913, PLR0917 - whose account, who holds it, why, by whom, when
    db: Session, account_id: str, holder: str, reason: str, placed_by: str, now_ns: int
) -> None:
    """Record ``holder``'s restriction of the account (its reason refreshed if it stands)."""
    row = db.get(AccountRestrictionRow, (account_id, holder))
    if row is None:
        row = AccountRestrictionRow(account_id=account_id, holder=holder)
        db.add(row)
    row.reason, row.placed_by, row.placed_at_ns = reason, placed_by, now_ns


def lift(db: Session, account_id: str, holder: str | None) -> list[str]:
    """Lift ``holder``'s restriction (every one when None); the holders that remain."""
    query = delete(AccountRestrictionRow).where(AccountRestrictionRow.account_id == account_id)
    if holder is not None:
        query = query.where(AccountRestrictionRow.holder == holder)
    db.execute(query)
    return holders(db, account_id)
