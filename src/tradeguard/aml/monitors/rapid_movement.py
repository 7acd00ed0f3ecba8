"""Rapid movement: funds deposited and withdrawn again shortly, with little or no trading.

FINRA Regulatory Notice 19-18 lists among money-laundering red flags "a customer deposits
funds and withdraws them shortly thereafter with little or no related securities activity";
the FFIEC manual names the same pattern (the account used as a pass-through).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from tradeguard.aml.findings import Finding, Typology
from tradeguard.aml.monitors import Monitor
from tradeguard.aml.parameters import RapidMovementParameters
from tradeguard.aml.transactions import (
    DEPOSIT,
    NS_PER_DAY,
    WITHDRAWAL,
    CustomerProfile,
    Kind,
    Transaction,
)
from tradeguard.aml.transactions import format_dollars as dollars
from tradeguard.aml.windows import RollingWindow, rolling

TRADES_BEFORE_PRUNE = 64
"""Trades are only appended; the list is pruned when judged or when it grows this long."""


@dataclass(slots=True)
class Flows:
    """A customer's deposits, withdrawals and trades over the window.

    Trades are half of all transactions and matter only when a withdrawal is judged, so
    they are kept as a plain list (no running total): appending is all a trade costs.
    """

    deposits: RollingWindow
    withdrawals: RollingWindow
    trades: deque[Transaction]


def prune(trades: deque[Transaction], oldest: int) -> None:
    """Drop the trades before ``oldest``."""
    while trades and trades[0].ts < oldest:
        trades.popleft()


class RapidMovementMonitor(Monitor):
    """Withdrawals that take out most of the window's deposits while trading stayed small."""

    typology = Typology.RAPID_MOVEMENT
    needs: frozenset[str] = frozenset()
    kinds = frozenset(Kind)

    def __init__(self, parameters: RapidMovementParameters) -> None:
        self.parameters = parameters
        self._span = parameters.window_days * NS_PER_DAY
        self._flows: dict[str, Flows] = {}

    def observe(self, txn: Transaction, profile: CustomerProfile) -> Finding | None:
        """Record ``txn``; on a withdrawal, a finding when the window's flows match the pattern."""
        flows = self._flows.get(txn.customer)
        if flows is None:
            span = self._span
            flows = self._flows[txn.customer] = Flows(rolling(span), rolling(span), deque())
        kind = txn.kind
        if kind is DEPOSIT:
            flows.deposits.add(txn)
            return None
        if kind is not WITHDRAWAL:
            trades = flows.trades
            trades.append(txn)
            if len(trades) > TRADES_BEFORE_PRUNE:
                prune(trades, txn.ts - self._span)
            return None
        flows.withdrawals.add(txn)
        flows.deposits.prune(txn.ts)
        return self._judge(txn, flows, self.min_inflow(profile))

    def min_inflow(self, profile: CustomerProfile) -> int:
        """The least deposited (cents) that counts; more for a declared business's own flows."""
        p = self.parameters
        return p.min_inflow_cents * (p.business_multiplier if profile.business else 1)

    def _judge(self, txn: Transaction, flows: Flows, min_inflow: int) -> Finding | None:
        p, inflow = self.parameters, flows.deposits.total
        if inflow < min_inflow:
            return None
        start = flows.deposits.start_ts
        outflow = flows.withdrawals.since(start)
        prune(flows.trades, txn.ts - self._span)
        traded = sum(t.cents for t in flows.trades if t.ts >= start)
        if outflow < p.min_outflow_ratio * inflow or traded > p.max_trading_ratio * inflow:
            return None
        return self._finding(txn, flows, (inflow, outflow, traded))

    def _finding(self, txn: Transaction, flows: Flows, sums: tuple[int, int, int]) -> Finding:
        p, (inflow, outflow, traded) = self.parameters, sums
        start = flows.deposits.start_ts
        moved = [*flows.deposits.items, *(w for w in flows.withdrawals.items if w.ts >= start)]
        score = min(1.0, 0.5 + 0.3 * min(outflow / inflow, 1.0) + 0.2 * (1 - traded / inflow))
        facts = {
            "deposited": dollars(inflow),
            "withdrawn": dollars(outflow),
            "traded": dollars(traded),
            "thresholds": {
                "window_days": p.window_days,
                "min_inflow": dollars(p.min_inflow_cents),
                "min_outflow_ratio": p.min_outflow_ratio,
                "max_trading_ratio": p.max_trading_ratio,
            },
        }
        return Finding(
            self.typology, txn.customer, frozenset(t.account for t in moved), start, txn.ts,
            score, tuple(t.txn_id for t in moved), facts,
        )  # fmt: skip
