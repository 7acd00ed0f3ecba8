"""Opening a user's brokerage account (one per user), audited in the caller's transaction."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.core.clock import Clock
from tradeguard.core.errors import TradeGuardError
from tradeguard.core.ids import new_id
from tradeguard.core.money import Money
from tradeguard.ledger.journal import opening_deposit, post
from tradeguard.risk.model import AccountKind, AccountStatus
from tradeguard.trading.models import TradingAccount


class AccountExistsError(TradeGuardError):
    """The user already has a brokerage account."""


def account_of_user(db: Session, user_id: str) -> TradingAccount | None:
    """The user's brokerage account, if one was opened."""
    return db.scalars(select(TradingAccount).where(TradingAccount.user_id == user_id)).one_or_none()


def open_account(  # noqa: PLR0913 - what an opening is made of
    db: Session,
    audit: AuditTrail,
    clock: Clock,
    actor: Actor,
    *,
    user_id: str,
    kind: AccountKind,
    deposit_cents: int = 0,
) -> TradingAccount:
    """Open an active account for ``user_id`` with an initial settled deposit."""
    if deposit_cents < 0:
        raise ValueError("an opening deposit cannot be negative")
    if account_of_user(db, user_id) is not None:
        raise AccountExistsError(f"user {user_id} already has a brokerage account")
    now = clock.now_ns()
    account = TradingAccount(
        id=str(new_id(clock)),
        user_id=user_id,
        kind=kind.value,
        status=AccountStatus.ACTIVE.value,
        trading_permission=True,
        settled_cash_cents=deposit_cents,
        unsettled_cash_cents=0,
        reserved_cents=0,
        equity_cents=deposit_cents,
        risk_state="{}",
        created_at_ns=now,
        updated_at_ns=now,
    )
    db.add(account)
    db.flush()
    if deposit_cents:
        post(db, [opening_deposit(str(new_id(clock)), account.id, deposit_cents)], now)
    audit.record(
        db,
        "account.opened",
        actor,
        subject=account.id,
        data={"user_id": user_id, "kind": kind.value, "deposit": str(Money(deposit_cents))},
    )
    return account
