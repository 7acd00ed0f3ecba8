"""NACHA files for the firm's bank: withdrawals go out as credits, ACH pulls as debits.

A pull is credited to the customer when requested but brings no money until the bank
has its entry: operations write the pulls waiting into a file (each pull once, under
their row locks), and a pull settles only once it was sent, no earlier than
``payments_ach_settlement_days`` business days after the file.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.config import Settings
from tradeguard.core.money import Money
from tradeguard.db.session import transaction
from tradeguard.payments.kit import PaymentsKit
from tradeguard.payments.models import BankLinkRow, DepositRow
from tradeguard.payments.nacha import AchEntry, Originator, nacha_file
from tradeguard.payments.problems import PaymentReason, conflict
from tradeguard.risk.pricing import business_day

MAX_ENTRIES = 10_000
FILE_EVENT = "payments.ach_file.created"


def firm_originator(settings: Settings) -> Originator:
    """The firm as its bank (the ODFI) knows it."""
    return Originator(
        settings.payments_ach_origin_routing,
        settings.payments_ach_company_id,
        settings.market_broker_name,
        "ODFI",
    )


def link_entry(db: Session, link_id: str, cents: int, *, credit: bool, ref: str) -> AchEntry:
    """One entry to (credit) or from (debit) a customer's linked account; ``ref`` the payment's."""
    link = db.get_one(BankLinkRow, link_id)
    return AchEntry(
        link.routing_number,
        link.account_number,
        link.account_type,
        cents,
        credit=credit,
        individual_id=ref[:15],
        individual_name=link.holder_name,
    )


def file_time(now_ns: int) -> datetime:
    """The file's creation and effective date."""
    return datetime.fromtimestamp(now_ns / 1e9, UTC)


class PullFiles:
    """Operations: the credited ACH pulls not yet sent, as one NACHA file of debits."""

    def __init__(self, kit: PaymentsKit) -> None:
        self.kit = kit

    def write(self, caller: Caller) -> str:
        """The file of every waiting pull (at most ``MAX_ENTRIES``); they are marked sent."""
        kit, now = self.kit, self.kit.clock.now_ns()
        settles = business_day(now) + kit.settings.payments_ach_settlement_days
        with transaction(kit.sessions) as db:
            rows = self._waiting(db)
            if not rows:
                raise conflict(PaymentReason.STATE, "no ACH pull is waiting to be sent")
            entries = [
                link_entry(db, str(row.bank_link_id), row.amount_cents, credit=False, ref=row.id)
                for row in rows
            ]
            when = file_time(now)
            text = nacha_file(
                firm_originator(kit.settings), entries, when, when, description="DEPOSIT"
            )
            for row in rows:
                row.sent_at_ns = now
                row.settles_on_day = max(row.settles_on_day or 0, settles)
            total = str(Money(sum(row.amount_cents for row in rows)))
            facts = {"deposits": len(rows), "total": total}
            kit.record(db, FILE_EVENT, caller.actor, rows[0].id, facts)
        return text

    @staticmethod
    def _waiting(db: Session) -> list[DepositRow]:
        """Credited pulls not in a file yet, locked (a second writer waits, then skips them)."""
        query = (
            select(DepositRow)
            .where(
                DepositRow.method == "ach",
                DepositRow.status == "pending",
                DepositRow.sent_at_ns.is_(None),
            )
            .order_by(DepositRow.created_at_ns)
            .limit(MAX_ENTRIES)
            .with_for_update()
        )
        return list(db.scalars(query))
