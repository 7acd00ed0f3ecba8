"""The monitoring engine: each transaction to the monitors of its kind, findings into episodes.

Replay and the live watcher run this same code.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from itertools import product

from tradeguard.aml.findings import Episode, EpisodeBook, Finding, Typology
from tradeguard.aml.monitors import Monitor
from tradeguard.aml.monitors.fan import FanMonitor
from tradeguard.aml.monitors.jurisdictions import GeographyMonitor
from tradeguard.aml.monitors.low_priced import LowPricedSecuritiesMonitor
from tradeguard.aml.monitors.profile_mismatch import (
    LargeTransactionMonitor,
    UnusualActivityMonitor,
)
from tradeguard.aml.monitors.rapid_movement import RapidMovementMonitor
from tradeguard.aml.monitors.structuring import StructuringMonitor
from tradeguard.aml.parameters import MonitorParameters
from tradeguard.aml.transactions import CASH, CustomerProfile, Kind, Transaction


def build_monitors(parameters: MonitorParameters) -> list[Monitor]:
    """One monitor per typology, configured by ``parameters``."""
    return [
        StructuringMonitor(parameters.structuring),
        RapidMovementMonitor(parameters.rapid_movement),
        FanMonitor(parameters.fan, Kind.DEPOSIT),
        FanMonitor(parameters.fan, Kind.WITHDRAWAL),
        GeographyMonitor(parameters.geography),
        UnusualActivityMonitor(parameters.unusual_activity),
        LowPricedSecuritiesMonitor(parameters.low_priced_securities),
        LargeTransactionMonitor(parameters.large_transaction),
    ]


RouteKey = tuple[Kind, bool, bool, bool, bool]
"""A transaction's kind and whether it is cash, names a counterparty, a country, a price."""
FEATURES = ("cash", "counterparty", "country", "price")
_FLAGS = (False, True)
ROUTE_KEYS: list[RouteKey] = [
    (kind, *flags) for kind, flags in product(Kind, product(_FLAGS, _FLAGS, _FLAGS, _FLAGS))
]


def _route(monitors: list[Monitor], key: RouteKey) -> list[Monitor]:
    """The monitors that transactions of ``key`` concern."""
    kind, *present = key
    has = {n for n, there in zip(FEATURES, present, strict=True) if there}
    return [m for m in monitors if kind in m.kinds and m.needs <= has]


class AmlEngine:
    """Runs the monitors over transactions in time order; keeps one episode per alert."""

    def __init__(
        self,
        parameters: MonitorParameters,
        profiles: Mapping[str, CustomerProfile],
        typologies: Collection[Typology] = frozenset(Typology),
    ) -> None:
        self.parameters = parameters
        self.profiles = profiles
        self.episodes = EpisodeBook(parameters.episode_gap_days)
        monitors = [m for m in build_monitors(parameters) if m.typology in typologies]
        self._missing: dict[str, CustomerProfile] = {}
        self._routes = {key: _route(monitors, key) for key in ROUTE_KEYS}
        self._calls = {key: tuple(m.observe for m in route) for key, route in self._routes.items()}

    def observe(self, txn: Transaction) -> list[tuple[Episode, bool]]:
        """Feed ``txn`` to the monitors; each episode a finding opened (True) or extended."""
        # the transaction's RouteKey, built inline: this runs once per transaction
        route = (txn.kind, txn.method is CASH, bool(txn.counterparty),
                 bool(txn.counterparty_country), bool(txn.price_micros))  # fmt: skip
        profile = self.profiles.get(txn.customer) or self._unknown(txn.customer)
        touched: list[tuple[Episode, bool]] = []
        for monitor in self._routes[route]:
            finding = monitor.observe(txn, profile)
            if finding is not None and not self._explained(finding):
                touched.append(self.episodes.add(finding))
        return touched

    def observe_all(self, txns: Iterable[Transaction]) -> None:
        """Feed each of ``txns`` in order, as ``observe`` does, without listing the episodes.

        Replay's loop: the routes hold the monitors' bound ``observe`` and the lookups are
        bound once, not once per transaction.
        """
        calls, profiles, unknown = self._calls, self.profiles, self._unknown
        explained, add = self._explained, self.episodes.add
        for txn in txns:
            route = (txn.kind, txn.method is CASH, bool(txn.counterparty),
                     bool(txn.counterparty_country), bool(txn.price_micros))  # fmt: skip
            profile = profiles.get(txn.customer) or unknown(txn.customer)
            for observe in calls[route]:
                finding = observe(txn, profile)
                if finding is not None and not explained(finding):
                    add(finding)

    def _unknown(self, customer: str) -> CustomerProfile:
        """An empty profile for a customer without one (nothing declared explains anything)."""
        profile = self._missing.get(customer)
        if profile is None:
            profile = self._missing[customer] = CustomerProfile(customer, declared=False)
        return profile

    def _explained(self, finding: Finding) -> bool:
        """Whether a fan-in or fan-out episode already covers an unusual-activity finding."""
        if finding.typology is not Typology.UNUSUAL_ACTIVITY:
            return False
        fan = Typology.FAN_IN if finding.facts.get("direction") == "in" else Typology.FAN_OUT
        episode = self.episodes.current(finding.customer, fan)
        return episode is not None and episode.end_ts >= finding.start_ts
