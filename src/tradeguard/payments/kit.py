"""What money movement is built from, and the few things every part of it does."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.expression import Executable

from tradeguard.access.caller import Caller
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.cases.service import Cases
from tradeguard.cases.store import AlertStore
from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.core.ids import new_id
from tradeguard.crypto.runtime import Crypto
from tradeguard.identity.code_store import CodeStore
from tradeguard.identity.models import User
from tradeguard.identity.notices import Notices, address_of
from tradeguard.payments.decision_points import DecisionPoints
from tradeguard.payments.models import PaymentHolderRow
from tradeguard.payments.problems import PaymentReason, forbidden
from tradeguard.trading.desk_port import DeskPort, TradingControlsPort
from tradeguard.trading.models import TradingAccount
from tradeguard.trading.orders.accounts import account_of_user

PAYMENTS = "payments"


@dataclass(frozen=True, slots=True)
class PaymentsKit:
    """Collaborators of bank links, deposits and withdrawals."""

    settings: Settings
    clock: Clock
    sessions: sessionmaker[Session]
    audit: AuditTrail
    crypto: Crypto
    notices: Notices
    codes: CodeStore
    desk: DeskPort
    controls: TradingControlsPort
    alerts: AlertStore
    cases: Cases
    decisions: DecisionPoints

    def new_id(self) -> str:
        """A new time-ordered id."""
        return str(new_id(self.clock))

    def record(
        self, db: Session, event: str, actor: Actor, subject: str, data: Mapping[str, Any]
    ) -> None:
        """One audit event in the caller's transaction."""
        self.audit.record(db, event, actor, subject=subject, data=data)

    def email(self, db: Session, user_id: str, kind: str, subject: str, text: str) -> None:
        """Queue an email to the customer (sent after commit); never a bank account number."""
        user = db.get_one(User, user_id)
        self.notices.email(db, address_of(user), f"payments.{kind}", subject, text)

    def system(self) -> Caller:
        """Payments acting on their own (the settle job)."""
        return Caller.automatic(PAYMENTS)


def brokerage_account(db: Session, user_id: str) -> TradingAccount:
    """The customer's brokerage account; 403 if none is open."""
    account = account_of_user(db, user_id)
    if account is None:
        raise forbidden(PaymentReason.NO_ACCOUNT, "open a brokerage account before moving money")
    return account


def lock_holder(db: Session, user_id: str, now_ns: int) -> None:
    """Serialise the customer's money requests: their holder row is written first.

    One statement, ``INSERT ... ON CONFLICT DO UPDATE``: the row is created on first use
    and written otherwise; on PostgreSQL the write holds the row's lock, on SQLite the
    database's write lock, until the transaction ends.
    """
    connection = db.connection()
    statement = _HOLDER_WRITES[connection.dialect.name == "postgresql"]
    connection.execute(statement, {"user_id": user_id, "updated_at_ns": now_ns})


def _holder_write(dialect: ModuleType) -> Executable:
    insert = dialect.insert(PaymentHolderRow.__table__)
    write: Executable = insert.on_conflict_do_update(
        index_elements=["user_id"], set_={"updated_at_ns": insert.excluded.updated_at_ns}
    )
    return write


_HOLDER_WRITES = {True: _holder_write(postgresql), False: _holder_write(sqlite)}
"""The holder row's write, built once per backend (PostgreSQL, else SQLite)."""
