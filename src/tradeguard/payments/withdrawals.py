"""Withdrawals: step-up, an email and an SMS code, review above a threshold, settlement.

The request is checked against every rule under a lock on the customer's holder row
(so simultaneous requests count each other against the limits). Once both codes are
right, the desk takes the cash out of the account in its own transaction, never below
the open orders' reservations and the deposits not yet settled (so simultaneous
withdrawals never take more than the balance). A withdrawal rejected, cancelled or
returned gets its cash back through the desk, once.
"""

from __future__ import annotations

import json

from sqlalchemy import exists, literal, select
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.core.errors import ProblemError
from tradeguard.core.money import Money
from tradeguard.db.session import transaction
from tradeguard.fraud import reverification
from tradeguard.identity.code_store import Channel, CodePurpose
from tradeguard.identity.mfa.codes import CodeCheck
from tradeguard.identity.models import Factor, User
from tradeguard.identity.notices import VerifiedAddress, address_of
from tradeguard.ledger.journal import (
    EntryKind,
    FirmAccount,
    JournalEntry,
    post,
    settled_cash,
    transfer,
)
from tradeguard.ledger.models import LedgerEntryRow
from tradeguard.ledger.movements import CashMovement, insufficient_funds
from tradeguard.payments.ach_files import FILE_EVENT, file_time, firm_originator, link_entry
from tradeguard.payments.decision_points import WithdrawalFacts
from tradeguard.payments.deposits import pending_deposit_cents
from tradeguard.payments.kit import PaymentsKit, lock_holder
from tradeguard.payments.models import WithdrawalRow
from tradeguard.payments.nacha import nacha_file
from tradeguard.payments.problems import (
    PaymentReason,
    conflict,
    denied,
    forbidden,
    not_found,
    unavailable,
)
from tradeguard.payments.withdrawal_facts import DecisionFacts, decision_facts
from tradeguard.payments.withdrawal_rules import (
    Limits,
    Refusal,
    cooling_refusal,
    reviews_needed,
    standing_refusal,
    used_refusal,
)
from tradeguard.trading.models import TradingAccount

PAYABLE = FirmAccount.WITHDRAWALS_PAYABLE.value
DEBITED = ("verified", "in_review", "approved", "sent")
SETTLED_EVENT = "payments.withdrawal.settled"
REFUSED_EVENT = "payments.withdrawal.refused"


def refused(refusal: Refusal) -> ProblemError:
    """The 422 of a rule's refusal."""
    return denied(refusal.reason, refusal.detail, **refusal.facts)


class Withdrawals:
    """Money out, from request to settlement."""

    def __init__(self, kit: PaymentsKit) -> None:
        self.kit = kit

    # -- the customer ----------------------------------------------------------------------

    def request(self, caller: Caller, link_id: str, cents: int) -> WithdrawalRow:
        """Check every rule, record the request and send the two codes; a refusal is audited."""
        try:
            return self._request(caller, link_id, cents)
        except ProblemError as refusal:
            inputs = {"stage": "request", "link": link_id, "amount": str(Money(cents))}
            self._record_refusal(caller, caller.user_id, refusal, inputs)
            raise

    def _request(self, caller: Caller, link_id: str, cents: int) -> WithdrawalRow:
        kit = self.kit
        self._require_step_up(caller)
        with transaction(kit.sessions) as db:
            reverification.enforce(db, caller.user_id, "withdrawal")
            now = kit.clock.now_ns()
            account_id, link = self.decide(db, caller, link_id, cents, now)
            row = WithdrawalRow(
                id=kit.new_id(),
                user_id=caller.user_id,
                account_id=account_id,
                bank_link_id=link,
                amount_cents=cents,
                status="requested",
                reviews_needed=0,
                reviewers="[]",
                created_at_ns=now,
                updated_at_ns=now,
            )
            db.add(row)
            db.flush()
            self._send_codes(db, caller.user_id, row)
            facts = {"account": account_id, "amount": str(Money(cents)), "link": link}
            kit.record(db, "payments.withdrawal.requested", caller.actor, row.id, facts)
            self._tell(db, row, "was requested; confirm it with the codes we sent by email and SMS")
        return row

    def confirm(
        self, caller: Caller, withdrawal_id: str, email_code: str, sms_code: str
    ) -> WithdrawalRow:
        """Both codes right: the cash leaves the account, then review or approval.

        A refusal (wrong codes, not enough cash, a decision point's denial, ...) is audited.
        """
        try:
            return self._confirm(caller, withdrawal_id, email_code, sms_code)
        except ProblemError as refusal:
            inputs = {"stage": "confirm", "withdrawal": withdrawal_id}
            self._record_refusal(caller, withdrawal_id, refusal, inputs)
            raise

    def _confirm(
        self, caller: Caller, withdrawal_id: str, email_code: str, sms_code: str
    ) -> WithdrawalRow:
        kit = self.kit
        with transaction(kit.sessions) as db:
            row = self.own(db, caller.user_id, withdrawal_id, lock=True)
            if row.status != "requested":
                raise conflict(PaymentReason.STATE, f"the withdrawal is {row.status}")
            reverification.enforce(db, caller.user_id, "withdrawal")
            self._check_codes(db, caller.user_id, row.id, email_code, sms_code)
            _check_standing(db.get_one(TradingAccount, row.account_id).status)
            keep = pending_deposit_cents(db, row.account_id)
        self._debit(caller, row, keep)
        needed = reviews_needed(
            row.amount_cents,
            kit.settings.payments_review_threshold_cents,
            kit.settings.payments_second_review_threshold_cents,
        )
        with transaction(kit.sessions) as db:
            row = db.get_one(WithdrawalRow, withdrawal_id, with_for_update=True)
            ended = row.status != "requested"  # cancelled while the cash was being taken
            if not ended:
                row.reviews_needed = needed
                self._move(db, caller, row, "verified", "was confirmed")
                if needed:
                    self._move(db, caller, row, "in_review", "is waiting for review")
        if ended:
            self._give_back(caller, row)
            raise conflict(PaymentReason.STATE, f"the withdrawal is {row.status}")
        if not needed:
            return self._approve(caller, withdrawal_id)
        return row

    def decide(
        self, db: Session, caller: Caller, link_id: str, cents: int, now: int
    ) -> tuple[str, str]:
        """Every rule of a new withdrawal, under the customer's lock; the account and link ids.

        Two statements: the lock, then every stored fact at once; the rules are pure.
        """
        lock_holder(db, caller.user_id, now)
        facts = decision_facts(db, caller.user_id, link_id, now)
        if facts.account_id is None or facts.opened_ns is None:
            raise forbidden(
                PaymentReason.NO_ACCOUNT, "open a brokerage account before moving money"
            )
        _check_standing(str(facts.account_status))
        self._check_link(facts.link_status)
        self._check_rules(facts, cents, now)
        view = self.kit.desk.account_view(db, caller)
        available = _withdrawable(
            view.settled_cash.cents, view.reserved_cash.cents, facts.held_cents
        )
        if cents > available:
            raise insufficient_funds(available, cents)
        return facts.account_id, link_id

    def withdrawable_cents(self, db: Session, caller: Caller, account_id: str) -> int:
        """Settled cash less open-order reservations and deposits not yet settled."""
        view = self.kit.desk.account_view(db, caller)
        held = pending_deposit_cents(db, account_id)
        return _withdrawable(view.settled_cash.cents, view.reserved_cash.cents, held)

    def resend_codes(self, caller: Caller, withdrawal_id: str) -> WithdrawalRow:
        """New email and SMS codes (the earlier ones die); after a wrong pair spent them."""
        with transaction(self.kit.sessions) as db:
            row = self.own(db, caller.user_id, withdrawal_id, lock=True)
            if row.status != "requested":
                raise conflict(PaymentReason.STATE, f"the withdrawal is {row.status}")
            self._send_codes(db, caller.user_id, row)
        return row

    def cancel(self, caller: Caller, withdrawal_id: str) -> WithdrawalRow:
        """The customer withdraws the request before it is sent; the cash comes back."""
        with self.kit.sessions() as db:
            row = self.own(db, caller.user_id, withdrawal_id)
        if row.status not in ("requested", *DEBITED) or row.status == "sent":
            raise conflict(PaymentReason.STATE, f"a {row.status} withdrawal cannot be cancelled")
        return self._undo(caller, row, "cancelled", "was cancelled")

    def own(
        self, db: Session, user_id: str, withdrawal_id: str, *, lock: bool = False
    ) -> WithdrawalRow:
        """One of the customer's withdrawals; another customer's answers 404."""
        row = db.get(WithdrawalRow, withdrawal_id, with_for_update=lock)
        if row is None or row.user_id != user_id:
            raise not_found("withdrawal")
        return row

    def history(self, db: Session, user_id: str) -> list[WithdrawalRow]:
        """The customer's withdrawals, newest first."""
        query = select(WithdrawalRow).where(WithdrawalRow.user_id == user_id)
        return list(db.scalars(query.order_by(WithdrawalRow.created_at_ns.desc()).limit(200)))

    # -- staff -----------------------------------------------------------------------------

    def review(
        self, caller: Caller, withdrawal_id: str, *, approve: bool, reason: str
    ) -> WithdrawalRow:
        """A reviewer's decision: never on one's own withdrawal, one vote each."""
        with transaction(self.kit.sessions) as db:
            row = db.get(WithdrawalRow, withdrawal_id, with_for_update=True)
            if row is None or row.status != "in_review":
                raise not_found("withdrawal in review")
            if row.user_id == caller.user_id:
                raise forbidden(PaymentReason.SELF_REVIEW, "no one reviews their own withdrawal")
            reviewers = json.loads(row.reviewers)
            if caller.user_id in reviewers:
                raise conflict(PaymentReason.ALREADY_REVIEWED, "a second reviewer must decide")
            reviewers.append(caller.user_id)
            row.reviewers = json.dumps(reviewers)
            facts = {
                "approve": approve,
                "reviews": len(reviewers),
                "needed": row.reviews_needed,
                "reason": reason,
            }
            self.kit.record(db, "payments.withdrawal.reviewed", caller.actor, row.id, facts)
            complete = len(reviewers) >= row.reviews_needed
        if not approve:
            return self._undo(caller, row, "rejected", "was rejected on review")
        return self._approve(caller, withdrawal_id) if complete else row

    def in_review(self, db: Session) -> list[WithdrawalRow]:
        """The review queue, oldest first."""
        query = select(WithdrawalRow).where(WithdrawalRow.status == "in_review")
        return list(db.scalars(query.order_by(WithdrawalRow.created_at_ns).limit(500)))

    def mark_sent(self, caller: Caller, withdrawal_ids: list[str]) -> list[WithdrawalRow]:
        """Operations: approved withdrawals went to the bank (in an ACH batch)."""
        with transaction(self.kit.sessions) as db:
            rows = self._in_status(db, withdrawal_ids, "approved")
            for row in rows:
                self._move(db, caller, row, "sent", "was sent to your bank")
        return rows

    def send_file(self, caller: Caller, withdrawal_ids: list[str]) -> str:
        """Operations: approved withdrawals as one NACHA file of credits, marked sent."""
        kit, now = self.kit, self.kit.clock.now_ns()
        with transaction(kit.sessions) as db:
            rows = self._in_status(db, withdrawal_ids, "approved")
            entries = [
                link_entry(db, row.bank_link_id, row.amount_cents, credit=True, ref=row.id)
                for row in rows
            ]
            when = file_time(now)
            text = nacha_file(firm_originator(kit.settings), entries, when, when)
            for row in rows:
                self._move(db, caller, row, "sent", "was sent to your bank")
            total = str(Money(sum(row.amount_cents for row in rows)))
            facts = {"withdrawals": len(rows), "total": total}
            kit.record(db, FILE_EVENT, caller.actor, rows[0].id, facts)
        return text

    def settle(self, caller: Caller, withdrawal_ids: list[str]) -> list[WithdrawalRow]:
        """Operations: the bank confirmed; the cash leaves the firm's bank account."""
        kit = self.kit
        with transaction(kit.sessions) as db:
            rows = self._in_status(db, withdrawal_ids, "sent")
            entries = [
                self._entry(
                    row, EntryKind.WITHDRAWAL_SETTLED, PAYABLE, FirmAccount.BANK.value, "settled"
                )
                for row in rows
            ]
            post(db, entries, kit.clock.now_ns())
            for row in rows:
                self._move(db, caller, row, "settled", "has settled")
                facts = {
                    "account": row.account_id,
                    "amount": str(Money(row.amount_cents)),
                    "method": "ach",
                }
                kit.record(db, SETTLED_EVENT, caller.actor, row.id, facts)
        return rows

    def returned(self, caller: Caller, withdrawal_id: str, return_code: str) -> WithdrawalRow:
        """Operations: the customer's bank returned a sent or settled withdrawal; cash back."""
        with self.kit.sessions() as db:
            row = db.get(WithdrawalRow, withdrawal_id)
            if row is None or row.status not in ("sent", "settled"):
                raise not_found("sent or settled withdrawal")
        source = PAYABLE if row.status == "sent" else FirmAccount.BANK.value
        entry = self._entry(
            row, EntryKind.WITHDRAWAL_REVERSED, source, settled_cash(row.account_id), "return"
        )
        self.kit.desk.post_cash(caller, CashMovement(entry))
        with transaction(self.kit.sessions) as db:
            locked = db.get_one(WithdrawalRow, row.id, with_for_update=True)
            locked.reason = return_code
            self._move(db, caller, locked, "returned", "was returned by your bank")
        return locked

    # -- steps -----------------------------------------------------------------------------

    def _record_refusal(
        self, caller: Caller, subject: str, refusal: ProblemError, inputs: dict[str, str]
    ) -> None:
        """``payments.withdrawal.refused``: the reason code, the inputs and the rule's facts.

        Amounts, windows, limits and ids: never a name or an account number.
        """
        facts = {key: str(value) for key, value in refusal.extensions.items()}
        data = facts | inputs | {"reason_code": refusal.reason_code}
        with transaction(self.kit.sessions) as db:
            self.kit.record(db, REFUSED_EVENT, caller.actor, subject, data)

    def _require_step_up(self, caller: Caller) -> None:
        state = caller.principal.state
        window = self.kit.settings.step_up_seconds
        if state is None or not state.stepped_up_within(self.kit.clock.now_ns(), window):
            raise forbidden(
                PaymentReason.STEP_UP, "verify a strong factor again (POST /v1/auth/step-up)"
            )

    @staticmethod
    def _check_link(status: str | None) -> None:
        """The link must be the customer's (else 404) and verified."""
        if status is None or status == "removed":
            raise not_found("bank link")
        if status != "verified":
            raise denied(
                PaymentReason.LINK_NOT_VERIFIED, "withdrawals go only to a verified bank link"
            )

    def _check_rules(self, facts: DecisionFacts, cents: int, now: int) -> None:
        settings = self.kit.settings
        changes = [facts.opened_ns, *facts.changes_ns]
        cooling = cooling_refusal(changes, now, settings.payments_cooling_hours)
        if cooling is not None:
            raise refused(cooling)
        limits = Limits(
            settings.payments_withdrawal_daily_limit_cents,
            settings.payments_withdrawal_weekly_limit_cents,
        )
        limit = used_refusal(cents, facts.day_used_cents, facts.week_used_cents, limits)
        if limit is not None:
            raise refused(limit)

    def _send_codes(self, db: Session, user_id: str, row: WithdrawalRow) -> None:
        codes, notices = self.kit.codes, self.kit.notices
        factor = db.scalars(
            select(Factor).where(
                Factor.user_id == user_id, Factor.kind == "sms", Factor.confirmed_at_ns.is_not(None)
            )
        ).first()
        phone = None if factor is None else factor.phone
        if not phone:
            raise denied(PaymentReason.CODES_WRONG, "withdrawals need a confirmed SMS number")
        user = db.get_one(User, user_id)
        amount = Money(row.amount_cents)
        ttl = self.kit.settings.payments_withdrawal_code_seconds
        email_code = codes.issue(
            db, user_id, CodePurpose.WITHDRAWAL_EMAIL, Channel.EMAIL, ref_id=row.id, ttl_seconds=ttl
        )
        sms_code = codes.issue(
            db, user_id, CodePurpose.WITHDRAWAL_SMS, Channel.SMS, ref_id=row.id, ttl_seconds=ttl
        )
        notices.email(
            db,
            address_of(user),
            "payments.withdrawal.code",
            "Confirm your withdrawal",
            f"Your code to confirm the withdrawal of {amount} is {email_code}.\n"
            "We also sent a code by SMS: you need both. If this was not you, do not share them.",
        )
        notices.sms(
            db,
            VerifiedAddress(phone),
            "payments.withdrawal.code",
            f"TradeGuard withdrawal of {amount}: code {sms_code}",
        )

    def _check_codes(
        self, db: Session, user_id: str, ref_id: str, email_code: str, sms_code: str
    ) -> None:
        codes = self.kit.codes
        by_email = codes.check(db, user_id, CodePurpose.WITHDRAWAL_EMAIL, email_code, ref_id=ref_id)
        by_sms = codes.check(db, user_id, CodePurpose.WITHDRAWAL_SMS, sms_code, ref_id=ref_id)
        if by_email is not CodeCheck.ACCEPTED or by_sms is not CodeCheck.ACCEPTED:
            raise denied(
                PaymentReason.CODES_WRONG,
                "both codes must be right; a right one is spent too: ask for new codes",
                email=by_email.value,
                sms=by_sms.value,
            ).kept()

    def _debit(self, caller: Caller, row: WithdrawalRow, keep: int) -> None:
        """The desk takes the cash (once); refused: the withdrawal is rejected, nothing taken."""
        entry = self._entry(
            row, EntryKind.WITHDRAWAL, settled_cash(row.account_id), PAYABLE, "debit"
        )
        try:
            self.kit.desk.post_cash(caller, CashMovement(entry, keep_cents=keep))
        except ProblemError as refusal:
            if refusal.reason_code == PaymentReason.INSUFFICIENT_FUNDS.value:
                with transaction(self.kit.sessions) as db:
                    locked = db.get_one(WithdrawalRow, row.id, with_for_update=True)
                    locked.reason = refusal.reason_code
                    self._move(
                        db, caller, locked, "rejected", "was refused: not enough withdrawable cash"
                    )
            raise

    def _approve(self, caller: Caller, withdrawal_id: str) -> WithdrawalRow:
        """Ask the decision points; allowed: approved, denied or unavailable: rejected."""
        with self.kit.sessions() as db:
            row = db.get_one(WithdrawalRow, withdrawal_id)
        facts = WithdrawalFacts(
            row.id,
            row.user_id,
            row.account_id,
            row.bank_link_id,
            row.amount_cents,
            row.created_at_ns,
        )
        for name, point in self.kit.decisions.asked():
            try:
                decision = None if point is None else point.decide_withdrawal(facts)
            except Exception:  # noqa: BLE001 - an unavailable point denies (fail closed)
                decision = None
            if decision is None or not decision.allowed:
                reason = (
                    PaymentReason.DECISION_UNAVAILABLE
                    if decision is None
                    else PaymentReason.DECISION_DENIED
                )
                self._undo(
                    caller, row, "rejected", f"was refused ({name} check)", reason=reason.value
                )
                if decision is None:
                    raise unavailable(
                        reason, f"the {name} decision point did not answer; nothing was sent"
                    )
                raise denied(reason, f"the {name} check refused the withdrawal", point=name)
        with transaction(self.kit.sessions) as db:
            locked = db.get_one(WithdrawalRow, withdrawal_id, with_for_update=True)
            if locked.status != row.status:  # ended meanwhile (its cash went back then)
                raise conflict(PaymentReason.STATE, f"the withdrawal is {locked.status}")
            self._move(db, caller, locked, "approved", "was approved")
        return locked

    def _undo(
        self, caller: Caller, row: WithdrawalRow, status: str, words: str, reason: str | None = None
    ) -> WithdrawalRow:
        """End the withdrawal in ``status`` if it is still as the caller found it; cash back.

        The end is claimed first, under the row's lock, so a confirmation, approval or file
        racing it finds the withdrawal ended and sends nothing. The cash goes back after;
        if that cannot be posted now, ``give_back_abandoned`` (the periodic job) posts it.
        """
        with transaction(self.kit.sessions) as db:
            locked = db.get_one(WithdrawalRow, row.id, with_for_update=True)
            if locked.status != row.status:
                raise conflict(PaymentReason.STATE, f"the withdrawal is {locked.status}")
            locked.reason = reason or locked.reason
            self._move(db, caller, locked, status, words)
        self._give_back(caller, locked)
        return locked

    def _give_back(self, caller: Caller, row: WithdrawalRow) -> None:
        """Reverse an ended withdrawal's debit, if the journal has one (once per withdrawal).

        Taken means its debit is in the journal: also when the desk took the cash but its
        answer was lost, which left the withdrawal ``requested``.
        """
        if not self._debited(row.id):
            return
        entry = self._entry(
            row, EntryKind.WITHDRAWAL_REVERSED, PAYABLE, settled_cash(row.account_id), "reversal"
        )
        self.kit.desk.post_cash(caller, CashMovement(entry))

    def give_back_abandoned(self) -> int:
        """The periodic job: cancelled or rejected withdrawals whose cash did not go back."""
        reference = LedgerEntryRow.reference
        debit = literal("withdrawal:") + WithdrawalRow.id + literal(":debit")
        reversal = literal("withdrawal:") + WithdrawalRow.id + literal(":reversal")
        query = select(WithdrawalRow).where(
            WithdrawalRow.status.in_(("cancelled", "rejected")),
            exists().where(reference == debit),
            ~exists().where(reference == reversal),
        )
        with self.kit.sessions() as db:
            abandoned = list(db.scalars(query.limit(500)))
        for row in abandoned:
            self._give_back(self.kit.system(), row)
        return len(abandoned)

    def _entry(
        self, row: WithdrawalRow, kind: EntryKind, debit: str, credit: str, step: str
    ) -> JournalEntry:
        """The withdrawal's whole amount from ``debit`` to ``credit``, once per ``step``."""
        return transfer(
            self.kit.new_id(),
            kind,
            debit,
            credit,
            row.amount_cents,
            account_id=row.account_id,
            reference=f"withdrawal:{row.id}:{step}",
        )

    def _debited(self, withdrawal_id: str) -> bool:
        reference = f"withdrawal:{withdrawal_id}:debit"
        with self.kit.sessions() as db:
            query = select(LedgerEntryRow.id).where(LedgerEntryRow.reference == reference)
            return db.scalar(query) is not None

    def _in_status(self, db: Session, ids: list[str], status: str) -> list[WithdrawalRow]:
        query = select(WithdrawalRow).where(WithdrawalRow.id.in_(ids)).with_for_update()
        rows = list(db.scalars(query))
        if len(rows) != len(set(ids)) or any(row.status != status for row in rows):
            raise conflict(PaymentReason.STATE, f"every withdrawal must be {status}")
        return rows

    def _move(
        self, db: Session, caller: Caller, row: WithdrawalRow, status: str, words: str
    ) -> None:
        """One step of the lifecycle: audited, and the customer told."""
        before, row.status, row.updated_at_ns = row.status, status, self.kit.clock.now_ns()
        facts = {"account": row.account_id, "amount": str(Money(row.amount_cents)), "from": before}
        self.kit.record(db, f"payments.withdrawal.{status}", caller.actor, row.id, facts)
        self._tell(db, row, words)

    def _tell(self, db: Session, row: WithdrawalRow, words: str) -> None:
        self.kit.email(
            db,
            row.user_id,
            f"withdrawal.{row.status}",
            f"Withdrawal {row.status.replace('_', ' ')}",
            f"Your withdrawal of {Money(row.amount_cents)} {words}.",
        )


def _check_standing(status: str) -> None:
    refusal = standing_refusal(status)
    if refusal is not None:
        raise refused(refusal)


def _withdrawable(settled: int, reserved: int, held: int) -> int:
    """Settled cash less open-order reservations and held deposits, never below zero."""
    return max(settled - reserved - held, 0)
