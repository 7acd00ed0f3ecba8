"""An account's risk bookkeeping between the database rows and the in-memory ``AccountRisk``.

The columns hold what a person reads (cash, reserved cash, equity); ``risk_state`` holds
what only the checks need to survive a restart: sale proceeds waiting to settle, the
day's executed notional and opened shares, and the business days of recent day trades.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable
from typing import Any

from tradeguard.risk.account import AccountRisk, Position
from tradeguard.risk.model import AccountKind, AccountStatus
from tradeguard.trading.models import PositionRow, TradingAccount


def account_risk_of(row: TradingAccount, positions: Iterable[PositionRow]) -> AccountRisk:
    """The in-memory risk state of an account row and its positions (no open orders yet)."""
    state = json.loads(row.risk_state or "{}")
    account = AccountRisk(
        account_id=row.id,
        kind=AccountKind(row.kind),
        status=AccountStatus(row.status),
        trading_permission=row.trading_permission,
        settled_cash_cents=row.settled_cash_cents,
        unsettled_cash_cents=row.unsettled_cash_cents,
        equity_cents=row.equity_cents,
        pdt_restricted_until_ns=row.pdt_restricted_until_ns,
        unsettled=deque((int(day), int(cents)) for day, cents in state.get("unsettled", [])),
        activity_day=int(state.get("activity_day", -1)),
        executed_today_cents=int(state.get("executed_today_cents", 0)),
        opened_today={str(k): int(v) for k, v in state.get("opened_today", {}).items()},
        day_trade_days=[int(day) for day in state.get("day_trade_days", [])],
    )
    for position in positions:
        account.positions[position.symbol] = Position(position.quantity, position.cost_cents)
        account.gross_cost_cents += abs(position.cost_cents)
    return account


def account_values(account: AccountRisk, now_ns: int, window: int) -> dict[str, Any]:
    """An account row's columns from its in-memory state (day trades within ``window`` days)."""
    recent_days = account.day_trade_days
    if recent_days:
        newest = max(recent_days)
        account.day_trade_days = [day for day in recent_days if day > newest - window]
    risk_state = {
        "unsettled": [list(item) for item in account.unsettled],
        "activity_day": account.activity_day,
        "executed_today_cents": account.executed_today_cents,
        "opened_today": account.opened_today,
        "day_trade_days": account.day_trade_days,
    }
    return {
        "status": account.status.value,
        "kind": account.kind.value,
        "trading_permission": account.trading_permission,
        "settled_cash_cents": account.settled_cash_cents,
        "unsettled_cash_cents": account.unsettled_cash_cents,
        "reserved_cents": account.reserved_cents,
        "equity_cents": account.equity_cents,
        "pdt_restricted_until_ns": account.pdt_restricted_until_ns,
        "risk_state": json.dumps(risk_state, separators=(",", ":"), sort_keys=True),
        "updated_at_ns": now_ns,
    }
