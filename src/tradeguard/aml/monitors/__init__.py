"""The monitors: each a pure function of the transactions it has seen and the customer's profile."""

from __future__ import annotations

from typing import Protocol

from tradeguard.aml.findings import Finding, Typology
from tradeguard.aml.transactions import CustomerProfile, Kind, Transaction


class Monitor(Protocol):
    """Watches one typology; ``kinds`` are the transactions it needs to see.

    ``needs`` narrows them further: ``cash`` (cash only), ``counterparty`` and ``country``
    (transactions that name one), ``price`` (trades that name their security and price);
    the engine never shows a monitor anything else.
    """

    typology: Typology
    kinds: frozenset[Kind]
    needs: frozenset[str]

    def observe(self, txn: Transaction, profile: CustomerProfile) -> Finding | None:
        """Take in ``txn``; a finding when the typology's thresholds are met."""
        ...
