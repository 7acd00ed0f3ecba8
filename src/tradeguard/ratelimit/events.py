"""Audit events of throttling decisions, written in batches by the buffered audit writer.

Decisions are audited, not refused requests, so that a flood costs no audit write per
request: ``ratelimit.throttled`` when a client is first refused in a window (per node),
``ratelimit.released`` with the number of refusals once that window is over,
``ratelimit.tightened`` / ``ratelimit.relaxed`` when an adaptive level changes, and
``ratelimit.shedding.started`` / ``ratelimit.shedding.stopped`` (with the number of
requests shed) around an overload.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tradeguard.access.check_log import BufferedEvent
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor, EventRecord
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.ratelimit.clients import Client

THROTTLED = "ratelimit.throttled"
RELEASED = "ratelimit.released"
TIGHTENED = "ratelimit.tightened"
RELAXED = "ratelimit.relaxed"
SHEDDING_STARTED = "ratelimit.shedding.started"
SHEDDING_STOPPED = "ratelimit.shedding.stopped"

EventSink = Callable[[BufferedEvent], None]


@dataclass(frozen=True, slots=True)
class ClientEvent:
    """A decision about one client (throttled, released, tightened, relaxed)."""

    event_type: str
    client: Client
    data: dict[str, Any]
    at_ns: int
    request_id: str | None = None

    def draft(self, audit: AuditTrail) -> EventRecord:
        """This event, for the buffered writer to number and chain with its batch."""
        return audit.draft(
            self.event_type,
            self.client.actor(),
            subject=self.client.subject,
            data={**self.data, "decided_at": ns_to_rfc3339(self.at_ns)},
            request_id=self.request_id,
        )


@dataclass(frozen=True, slots=True)
class SheddingEvent:
    """Shedding started or stopped in this process."""

    event_type: str
    data: dict[str, Any] = field(default_factory=dict)
    at_ns: int = 0

    def draft(self, audit: AuditTrail) -> EventRecord:
        """This event, for the buffered writer to number and chain with its batch."""
        return audit.draft(
            self.event_type,
            Actor.system("ratelimit"),
            subject=None,
            data={**self.data, "decided_at": ns_to_rfc3339(self.at_ns)},
            request_id=None,
        )
