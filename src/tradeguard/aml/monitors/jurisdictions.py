"""High-risk geography: money from or to a jurisdiction on FATF's lists (see ``geography``)."""

from __future__ import annotations

from tradeguard.aml.findings import Finding, Typology
from tradeguard.aml.geography import FATF_LISTS_AS_OF
from tradeguard.aml.monitors import Monitor
from tradeguard.aml.parameters import GeographyParameters
from tradeguard.aml.transactions import CustomerProfile, Kind, Transaction
from tradeguard.aml.transactions import format_dollars as dollars

CALL_FOR_ACTION_SCORE = 0.95
INCREASED_MONITORING_SCORE = 0.7


class GeographyMonitor(Monitor):
    """Every deposit or withdrawal whose counterparty is in a listed jurisdiction."""

    typology = Typology.HIGH_RISK_GEOGRAPHY
    needs: frozenset[str] = frozenset({"country"})
    kinds = frozenset({Kind.DEPOSIT, Kind.WITHDRAWAL})

    def __init__(self, parameters: GeographyParameters) -> None:
        self.parameters = parameters
        self._listed = parameters.call_for_action | parameters.increased_monitoring

    def observe(self, txn: Transaction, profile: CustomerProfile) -> Finding | None:  # noqa: ARG002 - same signature for every monitor
        """A finding for a listed counterparty country at or above the minimum amount."""
        p, country = self.parameters, txn.counterparty_country
        if not country:
            return None
        if country not in self._listed:
            country = country.upper()  # codes are upper case; a lower-case one still counts
            if country not in self._listed:
                return None
        if txn.cents < p.min_amount_cents:
            return None
        if country in p.call_for_action:
            listed, score = "call_for_action", CALL_FOR_ACTION_SCORE
        elif country in p.increased_monitoring:
            listed, score = "increased_monitoring", INCREASED_MONITORING_SCORE
        else:
            return None
        facts = {
            "country": country,
            "list": listed,
            "amount": dollars(txn.cents),
            "thresholds": {"fatf_lists_as_of": FATF_LISTS_AS_OF,
                           "min_amount": dollars(p.min_amount_cents)},
        }  # fmt: skip
        return Finding(
            self.typology, txn.customer, frozenset({txn.account}), txn.ts, txn.ts,
            score, (txn.txn_id,), facts,
        )  # fmt: skip
