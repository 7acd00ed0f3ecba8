"""What a withdrawal decision reads, in one statement after the customer's lock.

The account, its standing and when it opened, the link's status, the last security
changes (password, email, second factors, bank links), what counting withdrawals used of the rolling
24-hour and 7-day windows, and the deposits held out of withdrawable cash: one round trip
instead of seven, and nothing decrypted. The rules stay pure functions of these facts
(``withdrawal_rules``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    ScalarSelect,
    Select,
    String,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from tradeguard.identity.models import Factor, User
from tradeguard.payments.deposits import HELD
from tradeguard.payments.models import BankLinkRow, DepositRow, WithdrawalRow
from tradeguard.payments.withdrawal_rules import COUNTING, DAY_NS, WEEK_NS
from tradeguard.trading.models import TradingAccount


@dataclass(frozen=True, slots=True)
class DecisionFacts:
    """The stored facts a new withdrawal is decided on."""

    account_id: str | None
    opened_ns: int | None
    account_status: str | None
    link_status: str | None
    changes_ns: tuple[int | None, ...]
    """Password changed, email verified, latest factor, latest bank link."""
    day_used_cents: int
    week_used_cents: int
    held_cents: int


def _one_of(column: InstrumentedAttribute[str], values: Iterable[str]) -> ColumnElement[bool]:
    """``column IN (...)`` with one bound value each: compiled once, not expanded per call."""
    return column.in_([literal(value) for value in values])


def _withdrawn_since(since: BindParameter[int]) -> ScalarSelect[Any]:
    total = func.coalesce(func.sum(WithdrawalRow.amount_cents), 0)
    return (
        select(total)
        .where(
            WithdrawalRow.user_id == USER,
            _one_of(WithdrawalRow.status, COUNTING),
            WithdrawalRow.created_at_ns > since,
        )
        .scalar_subquery()
    )


def _latest_additions() -> tuple[ScalarSelect[Any], ScalarSelect[Any]]:
    """When a second factor and a bank link were last added or confirmed."""
    factor = (
        select(func.max(func.coalesce(Factor.confirmed_at_ns, Factor.created_at_ns)))
        .where(Factor.user_id == USER)
        .scalar_subquery()
    )
    link = select(func.max(BankLinkRow.created_at_ns)).where(BankLinkRow.user_id == USER)
    return factor, link.scalar_subquery()


def _facts_query() -> Select[Any]:
    """The one statement, built once: only its parameters change between decisions."""
    link = select(BankLinkRow.status).where(BankLinkRow.id == LINK, BankLinkRow.user_id == USER)
    held = select(func.coalesce(func.sum(DepositRow.amount_cents), 0)).where(
        DepositRow.account_id == TradingAccount.id, _one_of(DepositRow.status, HELD)
    )
    return (
        select(
            TradingAccount.id,
            TradingAccount.created_at_ns,
            TradingAccount.status,
            link.scalar_subquery(),
            User.password_changed_at_ns,
            User.email_verified_at_ns,
            *_latest_additions(),
            _withdrawn_since(DAY_START),
            _withdrawn_since(WEEK_START),
            held.scalar_subquery(),
        )
        .select_from(User)
        .outerjoin(TradingAccount, TradingAccount.user_id == User.id)
        .where(User.id == USER)
    )


USER = bindparam("user_id", type_=String)
LINK = bindparam("link_id", type_=String)
DAY_START = bindparam("day_start_ns", type_=BigInteger)
WEEK_START = bindparam("week_start_ns", type_=BigInteger)
FACTS = _facts_query()


def decision_facts(db: Session, user_id: str, link_id: str, now_ns: int) -> DecisionFacts:
    """Every stored fact of the decision, read in one statement."""
    values = {
        "user_id": user_id,
        "link_id": link_id,
        "day_start_ns": now_ns - DAY_NS,
        "week_start_ns": now_ns - WEEK_NS,
    }
    row = db.connection().execute(FACTS, values).one()
    return DecisionFacts(
        account_id=row[0],
        opened_ns=row[1],
        account_status=row[2],
        link_status=row[3],
        changes_ns=tuple(row[4:8]),
        day_used_cents=int(row[8] or 0),
        week_used_cents=int(row[9] or 0),
        held_cents=int(row[10] or 0),
    )
