"""Deposits: ACH pulls and cards (credited at once, withdrawable once settled), wires, cash.

Each deposit is first recorded (``new``) in a transaction of its own; the desk then
credits the account and journals it in its transaction, once per deposit (the entry's
reference); then the deposit becomes ``pending`` (ACH, card) or ``settled``. A crash
between the two leaves a ``new`` deposit that the settle job credits (the credit cannot
happen twice); so does a card charge whose credit the desk could not make, since the
card was charged. An ACH pull settles after ``payments_ach_settlement_days`` business
days, a card deposit after ``payments_card_settlement_days``. An ACH return claims the
deposit under its row lock (``returning``, which the settle job does not settle), then
reverses the credit even below zero, restricts the account and opens a case.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import ScalarSelect, func, or_, select
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.audit.records import Actor
from tradeguard.cases.model import AlertDraft, Subject
from tradeguard.core.errors import ProblemError
from tradeguard.core.money import Money
from tradeguard.db.session import transaction
from tradeguard.ledger.journal import (
    EntryKind,
    FirmAccount,
    JournalEntry,
    post,
    settled_cash,
    transfer,
)
from tradeguard.ledger.models import LedgerEntryRow
from tradeguard.ledger.movements import CashMovement
from tradeguard.logs import get_logger
from tradeguard.payments.bank_links import BankLinks
from tradeguard.payments.kit import PaymentsKit, brokerage_account, lock_holder
from tradeguard.payments.models import DepositRow
from tradeguard.payments.problems import PaymentReason, conflict, invalid, not_found
from tradeguard.risk.model import AccountStatus
from tradeguard.risk.pricing import business_day
from tradeguard.trading.controls.restrictions import ACH_RETURN
from tradeguard.trading.models import TradingAccount

RETURN_CODE = re.compile(r"^R[0-9]{2}$")
T = TypeVar("T")
SOURCES = {
    "ach": FirmAccount.ACH_RECEIVABLE,
    "card": FirmAccount.CARD_RECEIVABLE,
    "wire": FirmAccount.BANK,
    "cash": FirmAccount.BRANCH_CASH,
}
HOLDS_UNTIL_SETTLED = ("ach", "card")
"""Methods credited at once but withdrawable only once settled (money that can come back)."""
HELD = ("new", "pending", "returning")
"""Deposits whose cash is not withdrawable: not yet credited, not settled, being returned."""
SETTLED_EVENT = "payments.deposit.settled"
log = get_logger("tradeguard.payments")


class Deposits:
    """Money in, from the customer's request or an operator's record to settlement."""

    def __init__(self, kit: PaymentsKit) -> None:
        self.kit = kit

    def ach_pull(self, caller: Caller, link_id: str, cents: int) -> DepositRow:
        """Pull ``cents`` from a verified link of the caller's: credited now, settled later."""
        kit = self.kit
        with transaction(kit.sessions) as db:
            account = brokerage_account(db, caller.user_id)
            link = BankLinks.own(db, caller.user_id, link_id)
            if link.status != "verified":
                raise conflict(PaymentReason.LINK_NOT_VERIFIED, "verify the bank link first")
            days = kit.settings.payments_ach_settlement_days
            settles = business_day(kit.clock.now_ns()) + days
            owner = (caller.user_id, account.id)
            row = self._recorded(db, caller, owner, "ach", cents, link_id=link.id, settles=settles)
        return self._credit(caller, row)

    def record_arrival(
        self, caller: Caller, account_id: str, method: str, cents: int, reference: str
    ) -> DepositRow:
        """An incoming wire (from the bank's advice) or branch cash: credited and settled."""
        with transaction(self.kit.sessions) as db:
            account = db.get(TradingAccount, account_id)
            if account is None:
                raise not_found("brokerage account")
            owner = (account.user_id, account.id)
            row = self._recorded(db, caller, owner, method, cents, reference=reference)
        return self._credit(caller, row)

    def card_charged(self, caller: Caller, charge_id: str, cents: int) -> DepositRow:
        """A card charge that succeeded: recorded once per charge, then credited and held.

        Like an ACH pull, the credit is buying power at once and withdrawable once it
        settles. The card was charged, so a credit the desk cannot make now is not
        abandoned: the deposit stays ``new`` and the settle job credits it.
        """
        kit = self.kit
        with transaction(kit.sessions) as db:
            now = kit.clock.now_ns()
            lock_holder(db, caller.user_id, now)  # one record per charge, however many ask
            row = self._of_charge(db, caller.user_id, charge_id)
            if row is None:
                account = brokerage_account(db, caller.user_id)
                days = kit.settings.payments_card_settlement_days
                settles = business_day(now) + days
                owner = (caller.user_id, account.id)
                row = self._recorded(
                    db, caller, owner, "card", cents, reference=charge_id, settles=settles
                )
        if row.status != "new":
            return row
        try:
            return self._credit(caller, row)
        except ProblemError as refusal:
            log.warning("payments.card_credit_deferred", deposit=row.id, reason=refusal.reason_code)
            return row

    @staticmethod
    def _of_charge(db: Session, user_id: str, charge_id: str) -> DepositRow | None:
        query = select(DepositRow).where(
            DepositRow.user_id == user_id,
            DepositRow.method == "card",
            DepositRow.reference == charge_id,
        )
        return db.scalars(query).first()

    def settle_due(self) -> int:
        """Credit deposits left ``new``, finish half-done returns, settle those due; how many.

        An ACH pull settles only once sent to the bank (``ach_files``); a card deposit on
        its day.
        """
        kit = self.kit
        with kit.sessions() as db:
            stranded = list(db.scalars(select(DepositRow).where(DepositRow.status == "new")))
            returning = list(
                db.scalars(select(DepositRow.id).where(DepositRow.status == "returning"))
            )
        for row in stranded:
            self._retried(self._credit, kit.system(), row)
        for deposit_id in returning:
            self._retried(self._finish_return, kit.system(), deposit_id)
        today = business_day(kit.clock.now_ns())
        with transaction(kit.sessions) as db:
            due = select(DepositRow).where(
                DepositRow.status == "pending",
                DepositRow.settles_on_day <= today,
                or_(DepositRow.method != "ach", DepositRow.sent_at_ns.is_not(None)),  # at the bank
            )
            rows = list(db.scalars(due.with_for_update()))
            entries = [self._settlement(row) for row in rows]
            post(db, entries, kit.clock.now_ns())
            for row in rows:
                self._settled(db, row, kit.system().actor)
        return len(rows)

    @staticmethod
    def _retried(step: Callable[[Caller, T], object], caller: Caller, item: T) -> None:
        """One deposit's step of the job; a refusal leaves it for the next run, not the rest."""
        try:
            step(caller, item)
        except ProblemError as refusal:
            log.warning("payments.deposit_retry_failed", reason=refusal.reason_code)

    def ach_return(self, caller: Caller, deposit_id: str, return_code: str) -> DepositRow:
        """The bank returned an ACH pull: reverse the credit, restrict the account, open a case.

        The return is claimed first, under the deposit's row lock, with the state checked:
        the settle job, which settles only ``pending`` deposits under the same lock, then
        cannot settle it, and the reversal takes the cash from where the deposit is now
        (the receivable before settlement, the bank after). A return that stops half way
        is finished by the settle job.
        """
        if RETURN_CODE.fullmatch(return_code) is None:
            raise invalid(
                PaymentReason.RETURN_CODE_INVALID, "an ACH return code is R and two digits"
            )
        with transaction(self.kit.sessions) as db:
            row = db.get(DepositRow, deposit_id, with_for_update=True)
            if row is None or row.method != "ach" or row.status not in ("pending", "settled"):
                raise not_found("ACH deposit that can be returned")
            row.status, row.return_code = "returning", return_code
        return self._finish_return(caller, deposit_id)

    def _finish_return(self, caller: Caller, deposit_id: str) -> DepositRow:
        """Reverse a claimed return's credit (once), restrict the account, then ``returned``."""
        kit = self.kit
        with kit.sessions() as db:
            row = db.get_one(DepositRow, deposit_id)
            settled = _posted(db, f"deposit:{row.id}:settled")
        source = FirmAccount.BANK if settled else FirmAccount.ACH_RECEIVABLE
        reversal = transfer(
            kit.new_id(),
            EntryKind.DEPOSIT_RETURNED,
            settled_cash(row.account_id),
            source.value,
            row.amount_cents,
            account_id=row.account_id,
            reference=f"deposit:{row.id}:return",
        )
        kit.desk.post_cash(caller, CashMovement(reversal, may_overdraw=True))
        return_code = str(row.return_code)
        reason = f"ACH return {return_code} of deposit {row.id}"
        kit.controls.change_standing(
            caller, row.account_id, reason, status=AccountStatus.RESTRICTED, restriction=ACH_RETURN
        )
        with transaction(kit.sessions) as db:
            row = db.get_one(DepositRow, deposit_id, with_for_update=True)
            if row.status == "returning":
                row.status = "returned"
                self._returned(db, caller.actor, row, return_code)
        return row

    def _returned(self, db: Session, actor: Actor, row: DepositRow, return_code: str) -> None:
        facts = {
            "account": row.account_id,
            "amount": str(Money(row.amount_cents)),
            "return_code": return_code,
        }
        self.kit.record(db, "payments.deposit.returned", actor, row.id, facts)
        self._open_case(db, actor, row, return_code)
        self.kit.email(
            db,
            row.user_id,
            "deposit.returned",
            "A deposit was returned by your bank",
            f"Your bank returned the deposit of {Money(row.amount_cents)} ({return_code}).\n"
            "The amount was taken back and your account is restricted until we review it.",
        )

    def own(self, db: Session, user_id: str, deposit_id: str) -> DepositRow:
        """One of the customer's deposits; another customer's answers 404."""
        row = db.get(DepositRow, deposit_id)
        if row is None or row.user_id != user_id:
            raise not_found("deposit")
        return row

    def history(self, db: Session, user_id: str) -> list[DepositRow]:
        """The customer's deposits, newest first."""
        query = select(DepositRow).where(DepositRow.user_id == user_id)
        return list(db.scalars(query.order_by(DepositRow.created_at_ns.desc()).limit(200)))

    # -- steps ---------------------------------------------------------------------------

    def _recorded(  # noqa: PLR0913 - the deposit's fields
        self,
        db: Session,
        caller: Caller,
        owner: tuple[str, str],
        method: str,
        cents: int,
        *,
        link_id: str | None = None,
        settles: int | None = None,
        reference: str | None = None,
    ) -> DepositRow:
        kit, now = self.kit, self.kit.clock.now_ns()
        user_id, account_id = owner
        row = DepositRow(
            id=kit.new_id(),
            user_id=user_id,
            account_id=account_id,
            method=method,
            amount_cents=cents,
            status="new",
            bank_link_id=link_id,
            reference=reference,
            settles_on_day=settles,
            recorded_by=caller.actor.id,
            created_at_ns=now,
        )
        db.add(row)
        db.flush()
        facts = {"account": account_id, "amount": str(Money(cents)), "method": method}
        kit.record(db, "payments.deposit.recorded", caller.actor, row.id, facts)
        return row

    def _credit(self, caller: Caller, row: DepositRow) -> DepositRow:
        """The desk credits the account (once), then the deposit moves on."""
        kit = self.kit
        credit = transfer(
            kit.new_id(),
            EntryKind.DEPOSIT,
            SOURCES[row.method].value,
            settled_cash(row.account_id),
            row.amount_cents,
            account_id=row.account_id,
            reference=f"deposit:{row.id}:credit",
        )
        try:
            kit.desk.post_cash(caller, CashMovement(credit))
        except ProblemError:
            if row.method != "card":  # a charged card is credited by the settle job
                self._abandon_if_not_credited(row.id, credit.reference)
            raise
        with transaction(kit.sessions) as db:
            row = db.get_one(DepositRow, row.id, with_for_update=True)
            if row.status != "new":
                return row
            if row.method in HOLDS_UNTIL_SETTLED:
                row.status = "pending"
                kit.record(
                    db,
                    "payments.deposit.credited",
                    caller.actor,
                    row.id,
                    {"account": row.account_id},
                )
            else:
                self._settled(db, row, caller.actor)
            self._tell(db, row)
        return row

    def _abandon_if_not_credited(self, deposit_id: str, reference: str | None) -> None:
        """The desk refused or did not answer: a deposit it did not credit is ``failed``.

        One it did credit (the answer was lost) stays ``new`` for the settle job, which
        finds the entry posted and moves it on without a second credit.
        """
        with transaction(self.kit.sessions) as db:
            posted = _posted(db, reference)
            row = db.get_one(DepositRow, deposit_id, with_for_update=True)
            if not posted and row.status == "new":
                row.status = "failed"
                self.kit.record(db, "payments.deposit.failed", self.kit.system().actor, row.id, {})

    def _settlement(self, row: DepositRow) -> JournalEntry:
        """What the deposit's payer owed (an ACH pull's bank, the processor) is in the bank."""
        return transfer(
            self.kit.new_id(),
            EntryKind.DEPOSIT_SETTLED,
            FirmAccount.BANK.value,
            SOURCES[row.method].value,
            row.amount_cents,
            account_id=row.account_id,
            reference=f"deposit:{row.id}:settled",
        )

    def _settled(self, db: Session, row: DepositRow, actor: Actor) -> None:
        """Mark settled and tell the AML watcher (the fields it reads)."""
        now = self.kit.clock.now_ns()
        row.status, row.settled_at_ns = "settled", now
        facts = {
            "account": row.account_id,
            "amount": str(Money(row.amount_cents)),
            "method": row.method,
        }
        self.kit.record(db, SETTLED_EVENT, actor, row.id, facts)
        if row.method in HOLDS_UNTIL_SETTLED:
            self._tell(db, row)

    def _tell(self, db: Session, row: DepositRow) -> None:
        words = {
            "pending": "is on its way (withdrawable once it settles)",
            "settled": "has settled",
        }
        self.kit.email(
            db,
            row.user_id,
            f"deposit.{row.status}",
            f"Deposit {row.status}",
            f"Your {row.method} deposit of {Money(row.amount_cents)}"
            f" {words.get(row.status, row.status)}.",
        )

    def _open_case(self, db: Session, actor: Actor, row: DepositRow, return_code: str) -> None:
        now = self.kit.clock.now_ns()
        draft = AlertDraft(
            typology="ach_return",
            score=0.8,
            subject=Subject(customer=row.user_id, accounts=(row.account_id,)),
            start_ns=row.created_at_ns,
            end_ns=now,
            rule="payments.ach_return",
            episode=row.id,
            evidence={
                "deposit": row.id,
                "amount": str(Money(row.amount_cents)),
                "return_code": return_code,
            },
        )
        alert = self.kit.alerts.raise_alert(db, draft, "payments")
        if alert is not None:
            db.flush()
            self.kit.cases.open_case(db, actor, [alert.id], f"ACH return {return_code}")


def pending_deposit_cents(db: Session, account_id: str) -> int:
    """Deposits credited but not settled (or being returned): kept out of withdrawable cash."""
    return int(db.scalar(select(held_deposits(account_id))) or 0)


def held_deposits(account_id: str) -> ScalarSelect[int]:
    """The sum of the account's held deposits, as a subquery."""
    total = func.coalesce(func.sum(DepositRow.amount_cents), 0)
    query = select(total).where(DepositRow.account_id == account_id, DepositRow.status.in_(HELD))
    return query.scalar_subquery()


def _posted(db: Session, reference: str | None) -> bool:
    """Whether the journal holds the entry of ``reference``."""
    found = db.scalar(select(LedgerEntryRow.id).where(LedgerEntryRow.reference == reference))
    return found is not None
