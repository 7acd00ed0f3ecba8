"""Compliance reads of the trail: each search or read is itself recorded with the read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.audit.search import AuditEvent, AuditPage, AuditQuery, get_event, search
from tradeguard.core.errors import NOT_FOUND, ProblemError, ReasonCode

EVENT_SEARCHED = "audit.events.searched"
EVENT_READ = "audit.event.read"


@dataclass(frozen=True, slots=True)
class Reader:
    """Who reads the trail, and the request they read it with."""

    actor: Actor
    request_id: str | None

    def record(self, audit: AuditTrail, db: Session, event_type: str, data: dict[str, Any]) -> None:
        """Staff data access is audited like any other: who read what."""
        audit.record(db, event_type, self.actor, None, data, request_id=self.request_id)


def search_recorded(db: Session, audit: AuditTrail, query: AuditQuery, reader: Reader) -> AuditPage:
    """The page of events ``query`` selects; the search is recorded."""
    page = search(db, query)
    asked = query.model_dump(exclude_none=True, exclude={"hidden_prefixes"})  # the reader's own
    accessed = {**asked, "returned": len(page.events)}
    reader.record(audit, db, EVENT_SEARCHED, accessed)
    return page


def event_recorded(
    db: Session, audit: AuditTrail, seq: int, reader: Reader, hidden: tuple[str, ...] = ()
) -> AuditEvent:
    """The event at ``seq``; the read is recorded, found or not (``NOT_FOUND`` if not).

    An event whose type starts with one of ``hidden`` is not found for this reader.
    """
    event = get_event(db, seq)
    if event is not None and event.event_type.startswith(hidden):
        event = None
    reader.record(audit, db, EVENT_READ, {"seq": seq, "found": bool(event)})
    if event is None:
        raise ProblemError(
            NOT_FOUND, ReasonCode.NOT_FOUND, f"No audit event has seq {seq}.", keeps_changes=True
        )
    return event
