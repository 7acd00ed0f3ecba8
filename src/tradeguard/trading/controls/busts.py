"""Trade busts: one side of an execution reversed on the customer's books, never edited.

A fraudulent execution cannot be undone at the venue or taken back from the other side
of the trade. The bust books the opposite of the customer's side at the execution's
price as a compensating unit of work of the desk (the single writer): a sale's shares
come back and its proceeds go (from unsettled proceeds first, then settled cash); a
purchase's shares go and its cost comes back. The counterparty keeps its fill: the firm
takes the other side, in its trade-error account, so the journal entry moves the cash
between the customer and ``firm:trade_errors`` and the audit event names the position
the firm now holds (decision 71). The entry's reference ``bust:<execution>`` makes a
bust happen once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.core.errors import NOT_FOUND, ProblemError, ProblemType
from tradeguard.core.ids import new_id
from tradeguard.core.money import Money, Price
from tradeguard.ledger.journal import (
    EntryKind,
    FirmAccount,
    JournalEntry,
    settled_cash,
    unsettled_cash,
)
from tradeguard.ledger.models import LedgerEntryRow
from tradeguard.risk.account import AccountRisk, Position
from tradeguard.risk.order_terms import Side
from tradeguard.risk.pricing import cost_cents, proceeds_cents
from tradeguard.trading.controls.problems import account_not_found
from tradeguard.trading.models import ExecutionRow, TradingAccount
from tradeguard.trading.orders.booking import Booking
from tradeguard.trading.orders.desk import TradingDesk

BUST_REFUSED = ProblemType("trade-bust-refused", "Trade bust refused", 409)
COUNTERPARTY = "keeps its fill; the firm's trade-error account takes the position"
TRADES_LIMIT = 100


@dataclass(frozen=True, slots=True)
class Busted:
    """A bust done: the execution, its account, what moved, the account's position after."""

    execution_id: str
    account_id: str
    symbol: str
    shares_change: int
    cash_change_cents: int
    position_after: int


@dataclass(frozen=True, slots=True)
class Reversal:
    """What reversing one execution does to its account: shares and cash (cents)."""

    shares: int
    """Signed shares given back to (positive) or taken from (negative) the customer."""
    cash_cents: int
    """Signed cash given back to (positive) or taken from (negative) the customer."""

    @classmethod
    def of(cls, execution: ExecutionRow) -> Reversal:
        """The opposite of the execution, at its own price."""
        exact = execution.quantity * execution.price
        if execution.side == Side.BUY.value:
            return cls(-execution.quantity, cost_cents(exact))
        return cls(execution.quantity, -proceeds_cents(exact))


def reference_of(execution_id: str) -> str:
    """The journal reference that marks an execution as busted."""
    return f"bust:{execution_id}"


def bust_trade(desk: TradingDesk, caller: Caller, execution_id: str, reason: str) -> Busted:
    """Reverse one execution on its account's books (compensating, journaled, audited)."""

    def work(booking: Booking) -> Busted:
        db = booking.context.db
        execution = db.get(ExecutionRow, execution_id)
        if execution is None:
            raise ProblemError(NOT_FOUND, "TRADE_NOT_FOUND", "no such execution")
        reference = reference_of(execution.id)
        if db.scalar(select(LedgerEntryRow.id).where(LedgerEntryRow.reference == reference)):
            raise refused("TRADE_ALREADY_BUSTED", "this execution was busted before")
        row = db.get(TradingAccount, execution.account_id)
        if row is None:
            raise account_not_found()
        account = desk.adopt(db, row)
        reversal = Reversal.of(execution)
        held = account.position_quantity(execution.symbol)
        if reversal.shares < 0 and held < -reversal.shares:
            raise refused("TRADE_BUST_SHARES_GONE", f"{held} shares are left to take back")
        settled, unsettled = _move_cash(account, reversal.cash_cents)
        _move_shares(account, execution.symbol, reversal)
        booking.touch_account(account.account_id)
        booking.context.batch.positions.add((account.account_id, execution.symbol))
        entry = _entry(str(new_id()), account.account_id, (settled, unsettled), reference)
        booking.context.batch.cash.add(entry)
        facts = _facts(execution, account, reversal) | {"reason": reason}
        booking.record("trade.busted", account.account_id, facts, caller.actor)
        after = account.position_quantity(execution.symbol)
        return Busted(
            execution.id,
            account.account_id,
            execution.symbol,
            reversal.shares,
            reversal.cash_cents,
            after,
        )

    return desk.run(caller.actor, caller.request_id, work)


def refused(code: str, detail: str) -> ProblemError:
    """409: the execution cannot be busted (again, or its shares are gone)."""
    return ProblemError(BUST_REFUSED, code, detail)


def _move_cash(account: AccountRisk, cents: int) -> tuple[int, int]:
    """Give back (positive) or take (negative) cash; taken from unsettled proceeds first."""
    if cents >= 0:
        account.settled_cash_cents += cents
        return cents, 0
    owed, from_unsettled = -cents, 0
    while owed and account.unsettled:
        day, pending = account.unsettled.pop()
        taken = min(pending, owed)
        if pending > taken:
            account.unsettled.append((day, pending - taken))
        owed, from_unsettled = owed - taken, from_unsettled + taken
    account.unsettled_cash_cents -= from_unsettled
    account.settled_cash_cents -= owed
    return -owed, -from_unsettled


def _move_shares(account: AccountRisk, symbol: str, reversal: Reversal) -> None:
    """The position, its cost and the account's equity, as a fill would move them."""
    position = account.positions.setdefault(symbol, Position())
    cost_before = position.cost_cents
    position.apply(reversal.shares, reversal.cash_cents)
    account.equity_cents += reversal.cash_cents + position.cost_cents - cost_before
    account.gross_cost_cents += abs(position.cost_cents) - abs(cost_before)


def _entry(entry_id: str, account_id: str, change: tuple[int, int], reference: str) -> JournalEntry:
    """Customer cash changed by ``change`` (settled, unsettled) against the trade-error account."""
    settled, unsettled = change
    lines = (
        (settled_cash(account_id), -settled),
        (unsettled_cash(account_id), -unsettled),
        (FirmAccount.TRADE_ERRORS.value, settled + unsettled),
    )
    kept = tuple(line for line in lines if line[1] != 0)
    return JournalEntry(entry_id, EntryKind.TRADE_BUST, kept, account_id, reference)


def _facts(execution: ExecutionRow, account: AccountRisk, reversal: Reversal) -> dict[str, object]:
    return {
        "execution": execution.id,
        "order": execution.order_id,
        "trade_sequence": execution.trade_sequence,
        "account": account.account_id,
        "symbol": execution.symbol,
        "side": execution.side,
        "quantity": execution.quantity,
        "price": str(Price(execution.price)),
        "cash_change": str(Money(reversal.cash_cents)),
        "shares_change": reversal.shares,
        "position_after": account.position_quantity(execution.symbol),
        "firm_position_change": -reversal.shares,
        "counterparty": COUNTERPARTY,
    }


class BustPort(Protocol):
    """What busts for a customer need of the controls (in this process or over the channel)."""

    def bust_trade(self, caller: Caller, execution_id: str, reason: str) -> Busted:
        """Reverse one execution on its account's books."""
        ...


@dataclass(frozen=True, slots=True)
class CustomerTrade:
    """One of a customer's executions, and whether it was busted."""

    execution: ExecutionRow
    busted: bool


def customer_trades(db: Session, user_id: str, limit: int = TRADES_LIMIT) -> list[CustomerTrade]:
    """The customer's latest executions, newest first, each marked busted or not."""
    account = db.scalar(select(TradingAccount.id).where(TradingAccount.user_id == user_id))
    if account is None:
        return []
    query = (
        select(ExecutionRow)
        .where(ExecutionRow.account_id == account)
        .order_by(ExecutionRow.executed_at_ns.desc(), ExecutionRow.id.desc())
        .limit(limit)
    )
    rows = db.scalars(query).all()
    references = [reference_of(row.id) for row in rows]
    found = select(LedgerEntryRow.reference).where(LedgerEntryRow.reference.in_(references))
    busted = set(db.scalars(found)) if references else set()
    return [CustomerTrade(row, reference_of(row.id) in busted) for row in rows]


def bust_for_customer(
    db: Session, controls: BustPort, staff: Caller, user_id: str, asked: tuple[str, str]
) -> Busted:
    """Reverse one of the customer's executions (``asked``: its id, why); 404 if not theirs."""
    execution_id, reason = asked
    execution = db.get(ExecutionRow, execution_id)
    account = None if execution is None else db.get(TradingAccount, execution.account_id)
    if account is None or account.user_id != user_id:
        raise ProblemError(NOT_FOUND, "TRADE_NOT_FOUND", "no such execution of this customer")
    return controls.bust_trade(staff, execution_id, reason)
