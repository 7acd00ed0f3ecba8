"""Fan-in and fan-out: many distinct counterparties paying a customer in, or being paid out.

The collection and funnel patterns of the FFIEC manual's funds-transfer red flags (many
transfers from or to different parties, inconsistent with the customer's business) and of
the AMLSim typologies. A customer who declared a business is expected to have many payers
and payees, so the count that alerts is multiplied for them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from tradeguard.aml.findings import Finding, Typology
from tradeguard.aml.monitors import Monitor
from tradeguard.aml.parameters import FanParameters
from tradeguard.aml.transactions import NS_PER_DAY, CustomerProfile, Kind, Transaction
from tradeguard.aml.transactions import format_dollars as dollars


@dataclass(slots=True)
class Counterparties:
    """The window's transactions with a counterparty, and how often each counterparty appears.

    ``first_ts`` is the oldest one's time while there are any (see ``RollingWindow``).
    """

    items: deque[Transaction] = field(default_factory=deque)
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0
    first_ts: int = 0


class FanMonitor(Monitor):
    """Fan-in on deposits or fan-out on withdrawals, by distinct counterparties in the window."""

    def __init__(self, parameters: FanParameters, kind: Kind) -> None:
        self.parameters = parameters
        self.kind = kind
        self.kinds = frozenset({kind})
        self.needs = frozenset({"counterparty"})
        self.typology = Typology.FAN_IN if kind is Kind.DEPOSIT else Typology.FAN_OUT
        self._span = parameters.window_days * NS_PER_DAY
        self._parties: dict[str, Counterparties] = {}
        # the distinct counterparties that alert, for a customer without and with a business
        self._needed_personal = parameters.min_counterparties
        self._needed_business = parameters.min_counterparties * parameters.business_multiplier

    def observe(self, txn: Transaction, profile: CustomerProfile) -> Finding | None:
        """A finding when the window holds enough distinct counterparties and money."""
        if txn.kind is not self.kind or not txn.counterparty:
            return None
        parties = self._parties.get(txn.customer)
        if parties is None:
            parties = self._parties[txn.customer] = Counterparties()
        self._add(parties, txn)
        needed = self._needed_business if profile.business else self._needed_personal
        if len(parties.counts) < needed or parties.total < self.parameters.min_total_cents:
            return None
        return self._finding(txn, parties, needed)

    def _add(self, parties: Counterparties, txn: Transaction) -> None:
        items, oldest = parties.items, txn.ts - self._span
        counts = parties.counts
        if items and parties.first_ts < oldest:
            while items and items[0].ts < oldest:
                gone = items.popleft()
                parties.total -= gone.cents
                name = gone.counterparty or ""
                left = counts[name] - 1
                if left:
                    counts[name] = left
                else:
                    del counts[name]
            parties.first_ts = items[0].ts if items else txn.ts
        elif not items:
            parties.first_ts = txn.ts
        items.append(txn)
        parties.total += txn.cents
        name = txn.counterparty or ""
        counts[name] = counts.get(name, 0) + 1

    def _finding(self, txn: Transaction, parties: Counterparties, needed: int) -> Finding:
        distinct = len(parties.counts)
        facts = {
            "counterparties": distinct,
            "total": dollars(parties.total),
            "thresholds": {
                "window_days": self.parameters.window_days,
                "min_counterparties": needed,
                "min_total": dollars(self.parameters.min_total_cents),
            },
        }
        score = min(1.0, 0.5 + 0.25 * distinct / needed)
        items = parties.items
        return Finding(
            self.typology, txn.customer, frozenset(t.account for t in items), items[0].ts,
            txn.ts, score, tuple(t.txn_id for t in items), facts,
        )  # fmt: skip
