"""Brokerage accounts as the staff account search looks them up (by id, or by owner)."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from tradeguard.access.account_search import BrokerageAccount
from tradeguard.trading.models import TradingAccount
from tradeguard.trading.orders.accounts import account_of_user

ACCOUNT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class BrokerageAccountLookup:
    """Finds an account's owner and a user's account; nothing is looked up for a non-id."""

    def owner_of(self, db: Session, account_id: str) -> str | None:
        """The user id owning the account ``account_id``, if there is one."""
        account = db.get(TradingAccount, account_id) if ACCOUNT_ID.fullmatch(account_id) else None
        return account.user_id if account is not None else None

    def of_user(self, db: Session, user_id: str) -> BrokerageAccount | None:
        """The user's brokerage account, if one was opened."""
        account = account_of_user(db, user_id)
        if account is None:
            return None
        return BrokerageAccount(account.id, account.kind, account.status)
