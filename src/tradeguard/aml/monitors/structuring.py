"""Structuring: cash deposits or withdrawals kept just under the CTR threshold.

FinCEN (31 CFR 1010.100(xx), 31 U.S.C. 5324) and the FFIEC BSA/AML manual's red flags:
several cash transactions, each below $10,000, that together exceed it, on one day or
spread over a few days, often across accounts or branches; or the same amounts repeated
over weeks. Each direction is watched separately, over all the customer's accounts.
"""

from __future__ import annotations

from tradeguard.aml.findings import Finding, Typology
from tradeguard.aml.monitors import Monitor
from tradeguard.aml.parameters import StructuringParameters
from tradeguard.aml.transactions import CASH, NS_PER_DAY, CustomerProfile, Kind, Transaction
from tradeguard.aml.transactions import format_dollars as dollars
from tradeguard.aml.windows import RollingWindow, accounts_of, ids_of, rolling


class StructuringMonitor(Monitor):
    """Several cash amounts in the band just under the threshold, within the window."""

    typology = Typology.STRUCTURING
    needs: frozenset[str] = frozenset({"cash"})
    kinds = frozenset({Kind.DEPOSIT, Kind.WITHDRAWAL})

    def __init__(self, parameters: StructuringParameters) -> None:
        self.parameters = parameters
        self._short = parameters.window_days * NS_PER_DAY
        self._span = max(parameters.window_days, parameters.long_window_days) * NS_PER_DAY
        self._windows: dict[tuple[str, Kind], RollingWindow] = {}
        self._days: dict[tuple[str, Kind], RollingWindow] = {}

    def observe(self, txn: Transaction, profile: CustomerProfile) -> Finding | None:  # noqa: ARG002 - same signature for every monitor
        """A finding when band amounts in the window pass the count and the threshold.

        Also when cash under the threshold, split within one day, together exceeds it.
        """
        p = self.parameters
        if txn.method is not CASH or not p.same_day_floor_cents <= txn.cents < p.threshold_cents:
            return None
        key = (txn.customer, txn.kind)
        split = self._same_day(key, txn)
        if txn.cents < p.band_floor_cents:
            return split
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = rolling(self._span)
        window.add(txn)
        if len(window.items) < p.min_transactions or window.total <= p.threshold_cents:
            return None
        if len(window.items) >= p.long_min_transactions or self._short_burst(window, txn.ts):
            return self._finding(txn, window)
        return split

    def _same_day(self, key: tuple[str, Kind], txn: Transaction) -> Finding | None:
        """Sub-threshold cash amounts within 24 hours that together pass the threshold."""
        day = self._days.get(key)
        if day is None:
            day = self._days[key] = rolling(NS_PER_DAY)
        day.add(txn)
        if len(day.items) < self.parameters.min_transactions:
            return None
        return self._finding(txn, day) if day.total > self.parameters.threshold_cents else None

    def _short_burst(self, window: RollingWindow, now: int) -> bool:
        """Whether the short window alone holds enough band amounts over the threshold."""
        p, recent = self.parameters, [t for t in window.items if t.ts >= now - self._short]
        return (
            len(recent) >= p.min_transactions and sum(t.cents for t in recent) > p.threshold_cents
        )

    def _finding(self, txn: Transaction, window: RollingWindow) -> Finding:
        p, count = self.parameters, len(window.items)
        closeness = max(0.0, window.total / count - p.band_floor_cents) / (
            p.threshold_cents - p.band_floor_cents
        )
        score = min(1.0, 0.55 + 0.1 * (count - p.min_transactions) + 0.25 * closeness)
        facts = {
            "direction": "cash_in" if txn.is_inflow else "cash_out",
            "count": count,
            "total": dollars(window.total),
            "thresholds": {
                "ctr_threshold": dollars(p.threshold_cents),
                "band_floor": dollars(p.band_floor_cents),
                "window_days": p.window_days,
                "min_transactions": p.min_transactions,
                "long_window_days": p.long_window_days,
                "long_min_transactions": p.long_min_transactions,
                "same_day_floor": dollars(p.same_day_floor_cents),
            },
        }
        return Finding(
            self.typology, txn.customer, accounts_of(window), window.start_ts, txn.ts,
            score, ids_of(window), facts,
        )  # fmt: skip
