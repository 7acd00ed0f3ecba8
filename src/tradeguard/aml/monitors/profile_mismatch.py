"""Activity against the declared profile: more money than declared income explains; large amounts.

The FFIEC manual's customer-due-diligence red flags: "transactions inconsistent with the
customer's stated occupation, income or source of funds"; FINRA 19-18: "deposits of large
amounts inconsistent with the customer's profile".
"""

from __future__ import annotations

from dataclasses import dataclass

from tradeguard.aml.findings import Finding, Typology
from tradeguard.aml.monitors import Monitor
from tradeguard.aml.parameters import LargeTransactionParameters, UnusualActivityParameters
from tradeguard.aml.transactions import DEPOSIT, NS_PER_DAY, CustomerProfile, Kind, Transaction
from tradeguard.aml.transactions import format_dollars as dollars
from tradeguard.aml.windows import RollingWindow, accounts_of, ids_of, rolling


@dataclass(slots=True)
class Measure:
    """One customer's limit and windows: what the profile explains, what moved each way."""

    limit: int
    deposits: RollingWindow
    withdrawals: RollingWindow


class UnusualActivityMonitor(Monitor):
    """Deposits (or withdrawals) in the window beyond a multiple of the declared annual income."""

    typology = Typology.UNUSUAL_ACTIVITY
    kinds = frozenset({Kind.DEPOSIT, Kind.WITHDRAWAL})
    needs: frozenset[str] = frozenset()

    def __init__(self, parameters: UnusualActivityParameters) -> None:
        self.parameters = parameters
        self._span = parameters.window_days * NS_PER_DAY
        self._measures: dict[str, Measure] = {}

    def observe(self, txn: Transaction, profile: CustomerProfile) -> Finding | None:
        """A finding when the window's total in one direction passes what the profile explains.

        Nothing is judged for a customer without a declared profile: there is no measure.
        """
        if not profile.declared:
            return None
        measure = self._measures.get(txn.customer)
        if measure is None:
            span = self._span
            measure = Measure(self.limit_for(profile), rolling(span), rolling(span))
            self._measures[txn.customer] = measure
        window = measure.deposits if txn.kind is DEPOSIT else measure.withdrawals
        window.add(txn)
        if window.total <= measure.limit:
            return None
        return self._finding(txn, window, profile, measure.limit)

    def limit_for(self, profile: CustomerProfile) -> int:
        """The most (cents) the profile explains over the window."""
        p = self.parameters
        income = profile.annual_income_cents or p.low_income_default_cents
        return max(p.min_amount_cents, int(income * p.income_multiple))

    def _finding(
        self, txn: Transaction, window: RollingWindow, profile: CustomerProfile, limit: int
    ) -> Finding:
        p = self.parameters
        facts = {
            "direction": "in" if txn.is_inflow else "out",
            "total": dollars(window.total),
            "declared": {"annual_income": dollars(profile.annual_income_cents),
                         "occupation": profile.occupation,
                         "source_of_funds": profile.source_of_funds},
            "thresholds": {"window_days": p.window_days, "income_multiple": p.income_multiple,
                           "limit": dollars(limit)},
        }  # fmt: skip
        score = min(1.0, 0.4 + 0.15 * window.total / limit)
        return Finding(
            self.typology, txn.customer, accounts_of(window), window.start_ts, txn.ts,
            score, ids_of(window), facts,
        )  # fmt: skip


class LargeTransactionMonitor(Monitor):
    """One deposit or withdrawal at or above the configured amount."""

    typology = Typology.LARGE_TRANSACTION
    kinds = frozenset({Kind.DEPOSIT, Kind.WITHDRAWAL})
    needs: frozenset[str] = frozenset()

    def __init__(self, parameters: LargeTransactionParameters) -> None:
        self.parameters = parameters

    def observe(self, txn: Transaction, profile: CustomerProfile) -> Finding | None:  # noqa: ARG002 - same signature for every monitor
        """A finding for an amount at or above the minimum."""
        if txn.cents < self.parameters.min_amount_cents:
            return None
        facts = {
            "amount": dollars(txn.cents),
            "kind": str(txn.kind),
            "method": str(txn.method),
            "thresholds": {"min_amount": dollars(self.parameters.min_amount_cents)},
        }
        return Finding(
            self.typology, txn.customer, frozenset({txn.account}), txn.ts, txn.ts,
            0.5, (txn.txn_id,), facts,
        )  # fmt: skip
