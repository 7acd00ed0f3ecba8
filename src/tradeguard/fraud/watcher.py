"""The fraud watcher: keeps the profiles up to date from the audit trail.

It reads identity, trading and money-movement events and folds each into the profile
store that the decision points read. It raises no alerts itself: the decision points
do, when they block. Rebuilt after a restart from ``WARMUP_DAYS`` of history, into a
cleared store.
"""

from __future__ import annotations

from collections.abc import Sequence

from tradeguard.audit.search import AuditEvent
from tradeguard.cases.model import AlertDraft
from tradeguard.fraud.events import AUDIT_TYPES, event_of
from tradeguard.fraud.geo import GeoLocator
from tradeguard.fraud.profiles import NS, ProfileStore

WARMUP_DAYS = 8


class FraudWatcher:
    """Folds each identity, trading and money event into the profiles."""

    name = "fraud"
    event_types = AUDIT_TYPES
    warmup_ns = WARMUP_DAYS * 86_400 * NS

    def __init__(self, profiles: ProfileStore, geo: GeoLocator) -> None:
        self.profiles = profiles
        self.geo = geo
        self.fresh = True

    def observe(self, event: AuditEvent) -> Sequence[AlertDraft]:
        """Apply the event to its profiles; no alerts.

        A fresh watcher's first event (of its warm-up history, or the first after it)
        clears the store first: profiles shared in Redis outlive the watcher.
        """
        if self.fresh:
            self.profiles.clear()
            self.fresh = False
        fraud_event = event_of(event, self.geo)
        if fraud_event is not None:
            self.profiles.apply(fraud_event)
        return []
