"""Request and response models of the fraud staff routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from tradeguard.audit.search import AuditEvent
from tradeguard.core.reasons import Reason


class ReasonBody(BaseModel):
    """Why staff act (kept in the audit event)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: Reason


class EventView(BaseModel):
    """One audit event of the customer's, as the review shows it."""

    seq: int
    ts_ns: int
    type: str
    actor_kind: str
    actor_id: str
    ip: str | None
    data: dict[str, Any]


class RecoveryView(BaseModel):
    """What a recovery ended, and until when the account stays locked."""

    user_id: str
    sessions_ended: int
    locked_until_ns: int


class ModelView(BaseModel):
    """The models in use: champion and challenger versions and the champion's metrics."""

    champion: str | None
    challenger: str | None
    metadata: dict[str, Any]


def event_view(event: AuditEvent) -> EventView:
    """The view of one event (its personal part stays encrypted and is not shown)."""
    return EventView(
        seq=event.seq,
        ts_ns=event.ts_ns,
        type=event.event_type,
        actor_kind=event.actor.kind,
        actor_id=event.actor.id,
        ip=event.actor.ip,
        data=dict(event.data),
    )


class ReverifiedView(BaseModel):
    """The customer's identity verified again: withdrawals and credential changes reopen."""

    user_id: str
    verified_at_ns: int
