"""Requests and responses of the payments API; amounts are decimal strings of dollars."""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.money import Money
from tradeguard.core.reasons import Reason
from tradeguard.payments.models import BankLinkRow, DepositRow, WithdrawalRow

AmountIn = str | int | float
"""Taken as sent and checked by ``parse_amount`` (so a number gets PAYMENT_AMOUNT_INVALID)."""
Id = Field(pattern=r"^[0-9a-f-]{36}$")


class Strict(BaseModel):
    """Unknown members are refused."""

    model_config = ConfigDict(extra="forbid")


class AddBankLink(Strict):
    """An ACH account to link."""

    routing_number: str = Field(max_length=16)
    account_number: str = Field(max_length=32)
    account_type: Literal["checking", "savings"]
    holder_name: str = Field(min_length=1, max_length=120)


class VerifyBankLink(Strict):
    """The two micro-deposit amounts seen on the bank statement."""

    amounts: tuple[AmountIn, AmountIn]


class DepositRequest(Strict):
    """An ACH pull from a verified link."""

    bank_link_id: str = Id
    amount: AmountIn


class WithdrawalRequest(Strict):
    """Money out to a verified link in the customer's own name."""

    bank_link_id: str = Id
    amount: AmountIn


class ConfirmWithdrawal(Strict):
    """The codes sent by email and by SMS."""

    email_code: str = Field(min_length=4, max_length=12)
    sms_code: str = Field(min_length=4, max_length=12)


class ReviewDecision(Strict):
    """A reviewer's decision and why (kept in the audit trail)."""

    decision: Literal["approve", "reject"]
    reason: Reason


class ArrivalRecord(Strict):
    """Operations: an incoming wire from the bank's advice, or cash taken at a branch."""

    account_id: str = Id
    method: Literal["wire", "cash"]
    amount: AmountIn
    reference: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 ._/-]+$")


class AchReturn(Strict):
    """Operations: the bank returned an ACH pull."""

    deposit_id: str = Id
    return_code: str = Field(max_length=3)


class WithdrawalReturn(Strict):
    """Operations: the customer's bank returned a withdrawal."""

    withdrawal_id: str = Id
    return_code: str = Field(pattern=r"^R[0-9]{2}$")


class WithdrawalBatch(Strict):
    """Operations: withdrawals sent to, or settled by, the bank."""

    withdrawal_ids: list[str] = Field(min_length=1, max_length=500)


class BankLinkView(BaseModel):
    """A link as its owner sees it: never the full account number."""

    id: str
    status: str
    routing_number: str
    account_type: str
    last4: str
    created_at: str


class LinkInReview(BankLinkView):
    """A link held because its holder name differed, as a reviewer sees it."""

    user_id: str


class DepositView(BaseModel):
    """A deposit and where it stands."""

    id: str
    method: str
    amount: str
    status: str
    created_at: str


class WithdrawalView(BaseModel):
    """A withdrawal and where it stands."""

    id: str
    bank_link_id: str
    amount: str
    status: str
    reviews_needed: int
    reviews_done: int = 0
    """Approvals so far (0 in answers stored before it was counted)."""
    created_at: str


class Withdrawable(BaseModel):
    """Cash that may leave now."""

    withdrawable: str


def link_view(row: BankLinkRow) -> BankLinkView:
    """A link's public fields."""
    return BankLinkView(
        id=row.id,
        status=row.status,
        routing_number=row.routing_number,
        account_type=row.account_type,
        last4=row.last4,
        created_at=ns_to_rfc3339(row.created_at_ns),
    )


def link_in_review(row: BankLinkRow) -> LinkInReview:
    """A held link's public fields and whose it is."""
    return LinkInReview(**link_view(row).model_dump(), user_id=row.user_id)


def deposit_view(row: DepositRow) -> DepositView:
    """A deposit's public fields."""
    return DepositView(
        id=row.id,
        method=row.method,
        amount=str(Money(row.amount_cents)),
        status=row.status,
        created_at=ns_to_rfc3339(row.created_at_ns),
    )


def withdrawal_view(row: WithdrawalRow) -> WithdrawalView:
    """A withdrawal's public fields."""
    return WithdrawalView(
        id=row.id,
        bank_link_id=row.bank_link_id,
        amount=str(Money(row.amount_cents)),
        status=row.status,
        reviews_needed=row.reviews_needed,
        reviews_done=len(json.loads(row.reviewers)),
        created_at=ns_to_rfc3339(row.created_at_ns),
    )
