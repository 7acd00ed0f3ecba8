"""What a watcher is: a name, the audit event types it reads, and what it does with one.

A watcher is the same object in every mode: the embedded runner feeds it events read
from the audit table after its cursor, the NATS consumer feeds it the events of its
partition, and the offline replay commands feed it events from files. It returns alert
drafts; it never writes to the database itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from tradeguard.audit.search import AuditEvent
from tradeguard.cases.model import AlertDraft


class Watcher(Protocol):
    """Reads audit events, keeps its own per-entity state, returns alerts."""

    @property
    def name(self) -> str:
        """Stable name: the cursor's key and the alerts' source."""
        ...

    @property
    def event_types(self) -> frozenset[str]:
        """The audit event types it reads; the runner skips the others."""
        ...

    @property
    def warmup_ns(self) -> int:
        """How much history (by time) rebuilds its state after a restart."""
        ...

    def observe(self, event: AuditEvent) -> Sequence[AlertDraft]:
        """Take in one event; the alerts it raises or extends."""
        ...


def relevant(watcher: Watcher, events: Iterable[AuditEvent]) -> Iterable[AuditEvent]:
    """The events of the types ``watcher`` reads."""
    wanted = watcher.event_types
    return (event for event in events if event.event_type in wanted)
