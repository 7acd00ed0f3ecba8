"""Request and response shapes of staff routes: customers as staff see them, and the search."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradeguard.access.account_search import (
    AccountMatch,
    AccountQuery,
    BrokerageAccount,
    SearchKey,
)
from tradeguard.access.support import CustomerRecord
from tradeguard.core.clock import ns_to_rfc3339


class MaskedPhoneView(BaseModel):
    """A phone number of an SMS factor, by its last four digits."""

    factor_id: str
    number: str


class CustomerView(BaseModel):
    """A customer's record with personal fields masked."""

    id: str
    username: str
    email: str = Field(description="Masked: a***@example.com")
    phones: list[MaskedPhoneView] = Field(description="SMS factors' numbers, last 4 digits")
    status: str
    role: str
    created_at: str
    factor_kinds: list[str]


def customer_view(record: CustomerRecord) -> CustomerView:
    """The response shape of a customer's masked record."""
    return CustomerView(
        id=record.user_id,
        username=record.username,
        email=record.email,
        phones=[MaskedPhoneView(factor_id=p.factor_id, number=p.number) for p in record.phones],
        status=record.status,
        role=record.role,
        created_at=ns_to_rfc3339(record.created_at_ns),
        factor_kinds=record.factor_kinds,
    )


class AccountSearchParams(BaseModel):
    """Exactly one of: an email address, a username, a brokerage account id (exact match)."""

    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, min_length=1, max_length=254)
    username: str | None = Field(default=None, min_length=1, max_length=64)
    account_id: str | None = Field(default=None, min_length=1, max_length=64)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if len(self.model_dump(exclude_none=True)) != 1:
            raise ValueError("give exactly one of email, username or account_id")
        return self

    def query(self) -> AccountQuery:
        """The search these parameters ask for."""
        ((key, value),) = self.model_dump(exclude_none=True).items()
        return AccountQuery(SearchKey(key), value)


class BrokerageAccountView(BaseModel):
    """The customer's brokerage account."""

    id: str
    kind: str = Field(description="cash or margin")
    status: str


class AccountMatchView(BaseModel):
    """A customer found, masked as the support view shows them, and their account."""

    customer: CustomerView
    account: BrokerageAccountView | None = Field(description="None until one is opened")


class AccountSearchResult(BaseModel):
    """The customers found (none or one: every key is an exact match)."""

    matched_by: SearchKey
    matches: list[AccountMatchView]


def search_result(query: AccountQuery, matches: list[AccountMatch]) -> AccountSearchResult:
    """The response shape of a search."""
    views = [
        AccountMatchView(customer=customer_view(m.record), account=_account_view(m.account))
        for m in matches
    ]
    return AccountSearchResult(matched_by=query.key, matches=views)


def _account_view(account: BrokerageAccount | None) -> BrokerageAccountView | None:
    if account is None:
        return None
    return BrokerageAccountView(id=account.account_id, kind=account.kind, status=account.status)
