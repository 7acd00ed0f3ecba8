"""The payments service as routes and jobs reach it: its parts, built from one kit."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.payments.ach_files import PullFiles
from tradeguard.payments.bank_links import BankLinks
from tradeguard.payments.deposits import Deposits
from tradeguard.payments.idempotency import IdempotencyKeys
from tradeguard.payments.kit import PaymentsKit, brokerage_account
from tradeguard.payments.withdrawals import Withdrawals


@dataclass(frozen=True, slots=True)
class Payments:
    """Bank links, deposits, withdrawals, the ACH pulls' files and the idempotency of requests."""

    kit: PaymentsKit
    links: BankLinks
    deposits: Deposits
    withdrawals: Withdrawals
    keys: IdempotencyKeys
    pull_files: PullFiles

    @classmethod
    def of(cls, kit: PaymentsKit) -> Payments:
        """Every part over one kit."""
        return cls(
            kit,
            BankLinks(kit),
            Deposits(kit),
            Withdrawals(kit),
            IdempotencyKeys(kit.sessions, kit.clock),
            PullFiles(kit),
        )

    def withdrawable_cents(self, db: Session, caller: Caller) -> int:
        """Settled cash less open-order reservations and deposits not yet settled."""
        account = brokerage_account(db, caller.user_id)
        return self.withdrawals.withdrawable_cents(db, caller, account.id)

    def settle_due(self) -> int:
        """The periodic job: deposits and returns left half done, settlements, cash owed back."""
        return self.deposits.settle_due() + self.withdrawals.give_back_abandoned()
