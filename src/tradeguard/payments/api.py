"""Routes of money movement: bank links, deposits, withdrawals, review and operations.

Every money-moving POST needs an ``Idempotency-Key`` header: a replay with the same body
gets the first answer, with another body ``PAYMENT_IDEMPOTENCY_KEY_REUSED``. A customer
reaches only their own links, deposits and withdrawals (another's answer 404).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from tradeguard.access.caller import Caller
from tradeguard.core.money import Money
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.payments.amounts import parse_amount
from tradeguard.payments.idempotency import Answer, request_digest
from tradeguard.payments.schemas import (
    AchReturn,
    AddBankLink,
    ArrivalRecord,
    BankLinkView,
    ConfirmWithdrawal,
    DepositRequest,
    DepositView,
    LinkInReview,
    ReviewDecision,
    VerifyBankLink,
    Withdrawable,
    WithdrawalBatch,
    WithdrawalRequest,
    WithdrawalReturn,
    WithdrawalView,
    deposit_view,
    link_in_review,
    link_view,
    withdrawal_view,
)
from tradeguard.payments.service import Payments
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

Viewer = Annotated[Principal, require(Permission.ACCOUNT_VIEW)]
Mover = Annotated[Principal, require(Permission.ACCOUNT_WITHDRAW)]
Reviewer = Annotated[Principal, require(Permission.PAYMENTS_REVIEW)]
Operator = Annotated[Principal, require(Permission.PAYMENTS_OPERATE)]
PaymentsDep = Annotated[Payments, provided(Payments)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]
ObjectId = Annotated[str, Path(pattern=r"^[0-9a-f-]{36}$")]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid access token (AUTH_*)"},
    403: {"description": "Permission missing, step-up needed or self-review (ACCESS_DENIED, ...)"},
    404: {"description": "No such link, deposit or withdrawal of yours (NOT_FOUND)"},
    409: {"description": "Not possible in the present state (PAYMENT_STATE_CONFLICT, ...)"},
    422: {
        "description": "Invalid or refused (PAYMENT_AMOUNT_INVALID, WITHDRAWAL_LIMIT_DAILY, ...)"
    },
    503: {"description": "The desk or a decision point is not answering; nothing moved"},
}
router = APIRouter(prefix="/v1/payments", tags=["Payments"], responses=PROBLEMS)


def _once(
    payments: Payments,
    request: Request,
    response: Response,
    caller: Caller,
    key: str | None,
    body: BaseModel | None,
    work: Callable[[], Answer],
) -> dict[str, Any]:
    """Run ``work`` once per idempotency key; the answer's status on ``response``."""
    sent = None if body is None else body.model_dump(mode="json")
    digest = request_digest(request.url.path, sent)
    code, answer = payments.keys.run(caller.user_id, key, digest, work)
    response.status_code = code
    return answer


def _json(view: BaseModel) -> dict[str, Any]:
    dumped: dict[str, Any] = view.model_dump(mode="json")
    return dumped


# -- bank links ---------------------------------------------------------------------------


@router.get("/bank-links", summary="Your bank links")
def list_links(principal: Viewer, db: DbSession, payments: PaymentsDep) -> list[BankLinkView]:
    """Links not removed, oldest first; account numbers show only their last four digits."""
    return [link_view(row) for row in payments.links.listed(db, principal.user_id)]


@router.post("/bank-links", status_code=status.HTTP_201_CREATED, summary="Link a bank account")
def add_link(
    body: AddBankLink, principal: Mover, request: Request, db: DbSession, payments: PaymentsDep
) -> BankLinkView:
    """Checks the routing number, stores the account number encrypted, sends two micro-deposits."""
    row = payments.links.add(
        db,
        Caller.of(principal, request),
        routing_number=body.routing_number,
        account_number=body.account_number,
        account_type=body.account_type,
        holder_name=body.holder_name,
    )
    return link_view(row)


@router.post("/bank-links/{link_id}/verify", summary="Confirm the micro-deposit amounts")
def verify_link(
    link_id: ObjectId,
    body: VerifyBankLink,
    principal: Mover,
    request: Request,
    db: DbSession,
    payments: PaymentsDep,
) -> BankLinkView:
    """Both amounts right: verified (or in review if the holder name differs)."""
    first, second = (parse_amount(amount) for amount in body.amounts)
    caller = Caller.of(principal, request)
    return link_view(payments.links.verify(db, caller, link_id, first, second))


@router.delete("/bank-links/{link_id}", summary="Remove a bank link")
def remove_link(
    link_id: ObjectId, principal: Mover, request: Request, db: DbSession, payments: PaymentsDep
) -> BankLinkView:
    """The link can no longer be used; the customer is emailed."""
    return link_view(payments.links.remove(db, Caller.of(principal, request), link_id))


# -- deposits -----------------------------------------------------------------------------


@router.post("/deposits", status_code=status.HTTP_201_CREATED, summary="Deposit by ACH")
def deposit(
    body: DepositRequest,
    principal: Mover,
    request: Request,
    response: Response,
    payments: PaymentsDep,
    key: IdempotencyKey = None,
) -> DepositView:
    """Credited at once; withdrawable once settled after the configured business days."""
    caller = Caller.of(principal, request)

    def work() -> Answer:
        row = payments.deposits.ach_pull(caller, body.bank_link_id, parse_amount(body.amount))
        return status.HTTP_201_CREATED, _json(deposit_view(row))

    return DepositView(**_once(payments, request, response, caller, key, body, work))


@router.get("/deposits", summary="Your deposits")
def list_deposits(principal: Viewer, db: DbSession, payments: PaymentsDep) -> list[DepositView]:
    """Newest first."""
    return [deposit_view(row) for row in payments.deposits.history(db, principal.user_id)]


# -- withdrawals --------------------------------------------------------------------------


@router.get("/withdrawable", summary="Cash you may withdraw now")
def withdrawable(
    principal: Viewer, request: Request, db: DbSession, payments: PaymentsDep
) -> Withdrawable:
    """Settled cash less open-order reservations and deposits not yet settled."""
    cents = payments.withdrawable_cents(db, Caller.of(principal, request))
    return Withdrawable(withdrawable=str(Money(cents)))


@router.post("/withdrawals", status_code=status.HTTP_201_CREATED, summary="Request a withdrawal")
def request_withdrawal(
    body: WithdrawalRequest,
    principal: Mover,
    request: Request,
    response: Response,
    payments: PaymentsDep,
    key: IdempotencyKey = None,
) -> WithdrawalView:
    """Needs a recent step-up; sends an email code and an SMS code to confirm it with."""
    caller = Caller.of(principal, request)

    def work() -> Answer:
        cents = parse_amount(body.amount)
        row = payments.withdrawals.request(caller, body.bank_link_id, cents)
        return status.HTTP_201_CREATED, _json(withdrawal_view(row))

    return WithdrawalView(**_once(payments, request, response, caller, key, body, work))


@router.post("/withdrawals/{withdrawal_id}/confirm", summary="Confirm with both codes")
def confirm_withdrawal(
    withdrawal_id: ObjectId,
    body: ConfirmWithdrawal,
    principal: Mover,
    request: Request,
    response: Response,
    payments: PaymentsDep,
    key: IdempotencyKey = None,
) -> WithdrawalView:
    """The cash leaves the account; then review (large amounts) or approval."""
    caller = Caller.of(principal, request)

    def work() -> Answer:
        row = payments.withdrawals.confirm(caller, withdrawal_id, body.email_code, body.sms_code)
        return status.HTTP_200_OK, _json(withdrawal_view(row))

    return WithdrawalView(**_once(payments, request, response, caller, key, body, work))


@router.post("/withdrawals/{withdrawal_id}/codes", summary="Send new confirmation codes")
def resend_codes(
    withdrawal_id: ObjectId, principal: Mover, request: Request, payments: PaymentsDep
) -> WithdrawalView:
    """A new email code and SMS code; the earlier ones no longer work."""
    row = payments.withdrawals.resend_codes(Caller.of(principal, request), withdrawal_id)
    return withdrawal_view(row)


@router.post("/withdrawals/{withdrawal_id}/cancel", summary="Cancel a withdrawal")
def cancel_withdrawal(
    withdrawal_id: ObjectId,
    principal: Mover,
    request: Request,
    response: Response,
    payments: PaymentsDep,
    key: IdempotencyKey = None,
) -> WithdrawalView:
    """Before it is sent; the cash comes back."""
    caller = Caller.of(principal, request)

    def work() -> Answer:
        row = payments.withdrawals.cancel(caller, withdrawal_id)
        return status.HTTP_200_OK, _json(withdrawal_view(row))

    return WithdrawalView(**_once(payments, request, response, caller, key, None, work))


@router.get("/withdrawals", summary="Your withdrawals")
def list_withdrawals(
    principal: Viewer, db: DbSession, payments: PaymentsDep
) -> list[WithdrawalView]:
    """Newest first."""
    return [withdrawal_view(row) for row in payments.withdrawals.history(db, principal.user_id)]


# -- staff --------------------------------------------------------------------------------


@router.get("/review", summary="Withdrawals waiting for review")
def review_queue(_reviewer: Reviewer, db: DbSession, payments: PaymentsDep) -> list[WithdrawalView]:
    """Oldest first."""
    return [withdrawal_view(row) for row in payments.withdrawals.in_review(db)]


@router.post("/review/{withdrawal_id}", summary="Approve or reject a withdrawal")
def review_withdrawal(
    withdrawal_id: ObjectId,
    body: ReviewDecision,
    principal: Reviewer,
    request: Request,
    payments: PaymentsDep,
) -> WithdrawalView:
    """Never one's own; above the second threshold two different reviewers approve."""
    caller = Caller.of(principal, request)
    approve = body.decision == "approve"
    row = payments.withdrawals.review(caller, withdrawal_id, approve=approve, reason=body.reason)
    return withdrawal_view(row)


@router.get("/review/bank-links", summary="Bank links held because the holder name differed")
def links_in_review(
    _reviewer: Reviewer, db: DbSession, payments: PaymentsDep
) -> list[LinkInReview]:
    """Oldest first; account numbers show only their last four digits."""
    return [link_in_review(row) for row in payments.links.in_review(db)]


@router.post("/review/bank-links/{link_id}", summary="Accept or reject a held bank link")
def review_link(
    link_id: ObjectId,
    body: ReviewDecision,
    principal: Reviewer,
    request: Request,
    db: DbSession,
    payments: PaymentsDep,
) -> BankLinkView:
    """The holder name was checked by hand; never one's own link; a rejection emails the owner."""
    caller, approve = Caller.of(principal, request), body.decision == "approve"
    row = payments.links.review_name(db, caller, link_id, approve=approve, reason=body.reason)
    return link_view(row)


@router.post(
    "/operations/arrivals", status_code=status.HTTP_201_CREATED, summary="Record a wire or cash"
)
def record_arrival(
    body: ArrivalRecord,
    principal: Operator,
    request: Request,
    response: Response,
    payments: PaymentsDep,
    key: IdempotencyKey = None,
) -> DepositView:
    """A wire credited from the bank's advice, or currency taken at a branch (CTR material)."""
    caller = Caller.of(principal, request)

    def work() -> Answer:
        cents = parse_amount(body.amount)
        row = payments.deposits.record_arrival(
            caller, body.account_id, body.method, cents, body.reference
        )
        return status.HTTP_201_CREATED, _json(deposit_view(row))

    return DepositView(**_once(payments, request, response, caller, key, body, work))


@router.post("/operations/ach-returns", summary="Record an ACH return")
def ach_return(
    body: AchReturn, principal: Operator, request: Request, payments: PaymentsDep
) -> DepositView:
    """The credit is reversed, the account restricted and a case opened."""
    caller = Caller.of(principal, request)
    return deposit_view(payments.deposits.ach_return(caller, body.deposit_id, body.return_code))


@router.post("/operations/withdrawals/sent", summary="Approved withdrawals sent to the bank")
def withdrawals_sent(
    body: WithdrawalBatch, principal: Operator, request: Request, payments: PaymentsDep
) -> list[WithdrawalView]:
    """Each must be approved."""
    rows = payments.withdrawals.mark_sent(Caller.of(principal, request), body.withdrawal_ids)
    return [withdrawal_view(row) for row in rows]


@router.post(
    "/operations/withdrawals/ach-file",
    summary="Approved withdrawals as a NACHA file for the bank",
    response_class=PlainTextResponse,
)
def withdrawals_ach_file(
    body: WithdrawalBatch, principal: Operator, request: Request, payments: PaymentsDep
) -> PlainTextResponse:
    """Each must be approved; they are marked sent. The file goes to the bank only."""
    text = payments.withdrawals.send_file(Caller.of(principal, request), body.withdrawal_ids)
    return PlainTextResponse(text, headers={"Cache-Control": "no-store"})


@router.post(
    "/operations/deposits/ach-file",
    summary="Credited ACH pulls as a NACHA file of debits for the bank",
    response_class=PlainTextResponse,
)
def deposits_ach_file(
    principal: Operator, request: Request, payments: PaymentsDep
) -> PlainTextResponse:
    """Every credited pull not yet sent (409 when none); they settle only once sent."""
    text = payments.pull_files.write(Caller.of(principal, request))
    return PlainTextResponse(text, headers={"Cache-Control": "no-store"})


@router.post("/operations/withdrawals/settled", summary="Sent withdrawals settled by the bank")
def withdrawals_settled(
    body: WithdrawalBatch, principal: Operator, request: Request, payments: PaymentsDep
) -> list[WithdrawalView]:
    """Each must be sent; the AML watcher reads the settlement events."""
    rows = payments.withdrawals.settle(Caller.of(principal, request), body.withdrawal_ids)
    return [withdrawal_view(row) for row in rows]


@router.post("/operations/withdrawals/returned", summary="A withdrawal returned by the bank")
def withdrawal_returned(
    body: WithdrawalReturn, principal: Operator, request: Request, payments: PaymentsDep
) -> WithdrawalView:
    """Sent or settled; the cash goes back to the account."""
    caller = Caller.of(principal, request)
    row = payments.withdrawals.returned(caller, body.withdrawal_id, body.return_code)
    return withdrawal_view(row)
