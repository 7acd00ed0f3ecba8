"""Bank links: an ACH account added, proved by two micro-deposits, removed.

The routing number must pass the ABA check digit; the account number is stored only
encrypted with a blind index. Two micro-deposits (1-99 cents each) go to the account;
the customer proves ownership by telling both amounts within a limited number of tries.
A holder name that is not the customer's legal name sends the link to review instead
of verifying it. Adding and removing a link emails the customer and is audited.
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from stdnum.us import rtn

from tradeguard.access.caller import Caller
from tradeguard.crypto.keyring import DataClass
from tradeguard.ledger.journal import EntryKind, FirmAccount, post, transfer
from tradeguard.payments.holder_names import holder_is_customer
from tradeguard.payments.kit import PaymentsKit
from tradeguard.payments.models import BankLinkRow, digits_only
from tradeguard.payments.problems import PaymentReason, conflict, forbidden, invalid, not_found

ACCOUNT_NUMBER = re.compile(r"^[0-9]{4,17}$")
ACTIVE = ("pending", "verified", "review")
MICRO_DEPOSIT_EXPENSE = "firm:micro_deposit_expense"


def check_routing_number(text: str) -> str:
    """A nine-digit ABA routing number with a valid check digit; 422 else."""
    if not (len(text) == 9 and text.isdigit() and rtn.is_valid(text)):  # noqa: PLR2004 - ABA length
        raise invalid(PaymentReason.ROUTING_INVALID, "not a valid ABA routing number")
    return text


def check_account_number(text: str) -> str:
    """4 to 17 digits (the NACHA field's width); 422 else."""
    if ACCOUNT_NUMBER.fullmatch(text) is None:
        raise invalid(PaymentReason.ACCOUNT_NUMBER_INVALID, "an account number is 4-17 digits")
    return text


class BankLinks:
    """Adds, verifies, lists and removes a customer's bank links."""

    def __init__(self, kit: PaymentsKit) -> None:
        self.kit = kit

    def add(  # noqa: PLR0913 - the fields of a bank account
        self,
        db: Session,
        caller: Caller,
        *,
        routing_number: str,
        account_number: str,
        account_type: str,
        holder_name: str,
    ) -> BankLinkRow:
        """Record a link, send its micro-deposits (journaled), email and audit."""
        user_id, kit = caller.user_id, self.kit
        check_routing_number(routing_number)
        check_account_number(account_number)
        self._check_room(db, user_id, account_number)
        amounts = (secrets.randbelow(99) + 1, secrets.randbelow(99) + 1)
        now = kit.clock.now_ns()
        link = BankLinkRow(
            id=kit.new_id(),
            user_id=user_id,
            status="pending",
            routing_number=routing_number,
            account_type=account_type,
            account_number=account_number,
            last4=account_number[-4:],
            holder_name=holder_name,
            name_matches=holder_is_customer(db, user_id, holder_name),
            micro_amounts=f"{amounts[0]},{amounts[1]}",
            attempts=0,
            created_at_ns=now,
        )
        db.add(link)
        db.flush()
        self._journal_micro_deposits(db, link, amounts, now)
        facts = {
            "routing_number": routing_number,
            "last4": link.last4,
            "name_matches": link.name_matches,
        }
        kit.record(db, "payments.bank_link.added", caller.actor, link.id, facts)
        kit.email(
            db,
            user_id,
            "bank_link.added",
            "A bank account was linked",
            f"A bank account ending {link.last4} was linked to your TradeGuard account.\n"
            "Two small deposits are on their way to it; confirm their amounts to verify it.\n"
            "If this was not you, contact us at once.",
        )
        return link

    def verify(
        self, db: Session, caller: Caller, link_id: str, first: int, second: int
    ) -> BankLinkRow:
        """Check the two micro-deposit amounts (either order); limited tries."""
        link = self.own(db, caller.user_id, link_id, lock=True)
        if link.status != "pending":
            raise conflict(PaymentReason.STATE, f"the link is {link.status}, not awaiting amounts")
        expected = sorted(int(part) for part in link.micro_amounts.split(","))
        link.attempts += 1
        if sorted((first, second)) != expected:
            return self._wrong_amounts(db, caller, link)
        now = self.kit.clock.now_ns()
        link.status = "verified" if link.name_matches else "review"
        link.verified_at_ns = now if link.name_matches else None
        facts = {"status": link.status, "attempts": link.attempts}
        self.kit.record(db, "payments.bank_link.verified", caller.actor, link.id, facts)
        return link

    def remove(self, db: Session, caller: Caller, link_id: str) -> BankLinkRow:
        """Remove a link (its record stays, marked removed); email and audit."""
        link = self.own(db, caller.user_id, link_id, lock=True)
        if link.status == "removed":
            raise not_found("bank link")
        link.status, link.removed_at_ns = "removed", self.kit.clock.now_ns()
        self.kit.record(
            db, "payments.bank_link.removed", caller.actor, link.id, {"last4": link.last4}
        )
        self.kit.email(
            db,
            caller.user_id,
            "bank_link.removed",
            "A bank account was removed",
            f"The bank account ending {link.last4} was removed from your TradeGuard account.\n"
            "If this was not you, contact us at once.",
        )
        return link

    def review_name(
        self, db: Session, caller: Caller, link_id: str, *, approve: bool, reason: str
    ) -> BankLinkRow:
        """Staff: accept a link whose holder name differed (checked by hand), or reject it."""
        link = db.get(BankLinkRow, link_id, with_for_update=True)
        if link is None or link.status != "review":
            raise not_found("bank link in review")
        if link.user_id == caller.user_id:
            raise forbidden(PaymentReason.LINK_SELF_APPROVAL, "no one approves their own bank link")
        if approve:
            link.status, link.verified_at_ns = "verified", self.kit.clock.now_ns()
        else:
            link.status = "rejected"
        event = "approved" if approve else "rejected"
        facts = {"reason": reason}
        self.kit.record(db, f"payments.bank_link.{event}", caller.actor, link.id, facts)
        if not approve:
            self._email_rejected(db, link)
        return link

    def _email_rejected(self, db: Session, link: BankLinkRow) -> None:
        self.kit.email(
            db,
            link.user_id,
            "bank_link.rejected",
            "A bank account could not be linked",
            f"The bank account ending {link.last4} is not in your legal name and was not "
            "linked.\nLink an account held in your own name, or contact us.",
        )

    def in_review(self, db: Session) -> list[BankLinkRow]:
        """Links held because the holder name differed, oldest first."""
        query = select(BankLinkRow).where(BankLinkRow.status == "review")
        return list(db.scalars(query.order_by(BankLinkRow.created_at_ns).limit(500)))

    def listed(self, db: Session, user_id: str) -> list[BankLinkRow]:
        """The customer's links that are not removed, oldest first."""
        query = (
            select(BankLinkRow)
            .where(BankLinkRow.user_id == user_id, BankLinkRow.status != "removed")
            .order_by(BankLinkRow.created_at_ns)
        )
        return list(db.scalars(query))

    @staticmethod
    def own(db: Session, user_id: str, link_id: str, *, lock: bool = False) -> BankLinkRow:
        """One of the customer's links; another customer's answers 404."""
        link = db.get(BankLinkRow, link_id, with_for_update=lock)
        if link is None or link.user_id != user_id:
            raise not_found("bank link")
        return link

    def _check_room(self, db: Session, user_id: str, account_number: str) -> None:
        active = (BankLinkRow.user_id == user_id, BankLinkRow.status.in_(ACTIVE))
        count = db.scalar(select(func.count()).select_from(BankLinkRow).where(*active)) or 0
        if count >= self.kit.settings.payments_max_bank_links:
            raise invalid(
                PaymentReason.LINK_LIMIT,
                f"at most {self.kit.settings.payments_max_bank_links} bank links",
            )
        index = self.account_index(account_number)
        same = select(BankLinkRow.id).where(*active, BankLinkRow.account_number_index == index)
        if db.scalar(same) is not None:
            raise conflict(PaymentReason.LINK_EXISTS, "that bank account is already linked")

    def account_index(self, account_number: str) -> bytes:
        """The blind index the account number is found by."""
        keyring = self.kit.crypto.keyring
        return keyring.blind_index(DataClass.BANK_DETAILS, digits_only(account_number))

    def _wrong_amounts(self, db: Session, caller: Caller, link: BankLinkRow) -> BankLinkRow:
        allowed = self.kit.settings.payments_micro_deposit_attempts
        if link.attempts >= allowed:
            link.status = "failed"
        facts = {"attempts": link.attempts, "status": link.status}
        self.kit.record(db, "payments.bank_link.verify_failed", caller.actor, link.id, facts)
        if link.status == "failed":
            raise invalid(
                PaymentReason.MICRO_DEPOSITS_EXHAUSTED, "no tries left; link the account again"
            ).kept()
        raise invalid(
            PaymentReason.MICRO_DEPOSITS_WRONG,
            "the amounts do not match",
            tries_left=allowed - link.attempts,
        ).kept()

    def _journal_micro_deposits(
        self, db: Session, link: BankLinkRow, amounts: tuple[int, int], now: int
    ) -> None:
        entry = transfer(
            self.kit.new_id(),
            EntryKind.FEE,
            MICRO_DEPOSIT_EXPENSE,
            FirmAccount.BANK.value,
            sum(amounts),
            reference=f"micro:{link.id}",
        )
        post(db, [entry], now)
