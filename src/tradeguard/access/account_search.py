"""Finding a customer without their internal id: by email, username or brokerage account id.

Each key is an exact match found without decrypting anything: the email address through
its blind index (``Identity.email_index``), the username as stored (normalised), the
account id as the brokerage account's primary key. A match is shown as the support view
shows a customer, masked, and counts as a look at their record: it is stored, audited
(``support.user.searched``, the customer as subject) and watched for mass access. A
search that finds nobody is audited too, with the key it used (the value only when it is
an account id: an email address or a username never enters the trail in clear). Staff
accounts are not found, as the support view does not show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.access.support import CustomerRecord, SupportDesk, is_customer
from tradeguard.audit.recorder import AuditTrail
from tradeguard.identity.accounts import Accounts, normalize_email, normalize_username
from tradeguard.identity.models import User

SEARCHED = "support.user.searched"


class SearchKey(StrEnum):
    """What a customer is looked up by."""

    EMAIL = "email"
    USERNAME = "username"
    ACCOUNT_ID = "account_id"


@dataclass(frozen=True, slots=True)
class AccountQuery:
    """One exact-match search: the key and the value sought."""

    key: SearchKey
    value: str


@dataclass(frozen=True, slots=True)
class BrokerageAccount:
    """A customer's brokerage account, as a search result names it."""

    account_id: str
    kind: str
    status: str


class BrokerageAccounts(Protocol):
    """Where brokerage accounts are looked up: ``trading.orders.account_lookup``, given at wiring.

    Access cannot import trading, which imports access.
    """

    def owner_of(self, db: Session, account_id: str) -> str | None:
        """The user id owning the account ``account_id``, if there is one."""
        ...

    def of_user(self, db: Session, user_id: str) -> BrokerageAccount | None:
        """The user's brokerage account, if one was opened."""
        ...


@dataclass(frozen=True, slots=True)
class AccountMatch:
    """A customer found: their masked record and their brokerage account, if opened."""

    record: CustomerRecord
    account: BrokerageAccount | None


class AccountSearch:
    """Finds customers for staff, shows them masked, and audits every search."""

    def __init__(
        self,
        accounts: Accounts,
        desk: SupportDesk,
        audit: AuditTrail,
        brokerage: BrokerageAccounts,
    ) -> None:
        self._accounts = accounts
        self._desk = desk
        self._audit = audit
        self._brokerage = brokerage

    def search(self, db: Session, caller: Caller, query: AccountQuery) -> list[AccountMatch]:
        """The customer ``query`` names (none or one), masked; the search is audited."""
        user = self.find_customer(db, query)
        if user is None:
            data = _audit_data(query, found=False)
            self._audit.record(db, SEARCHED, caller.actor, data=data, request_id=caller.request_id)
            return []
        record = self._desk.show(db, caller, user, SEARCHED, _audit_data(query, found=True))
        return [AccountMatch(record, self._brokerage.of_user(db, user.id))]

    def find_customer(self, db: Session, query: AccountQuery) -> User | None:
        """The customer with exactly this email, username or account id (422 if malformed)."""
        match query.key:
            case SearchKey.EMAIL:
                user = self._accounts.find_by_email(db, normalize_email(query.value))
            case SearchKey.USERNAME:
                user = self._accounts.find_by_login(db, normalize_username(query.value))
            case SearchKey.ACCOUNT_ID:
                owner = self._brokerage.owner_of(db, query.value)
                user = db.get(User, owner) if owner is not None else None
        return user if is_customer(user) else None


def _audit_data(query: AccountQuery, *, found: bool) -> dict[str, Any]:
    """What the trail keeps of a search: the key, whether it found someone, the id sought.

    An email address or a username sought is personal and never enters the trail in clear.
    """
    data: dict[str, Any] = {"by": query.key.value, "found": found}
    if query.key is SearchKey.ACCOUNT_ID:
        data["account_id"] = query.value
    return data
