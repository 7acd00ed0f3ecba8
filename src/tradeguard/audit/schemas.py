"""Request and response models of the audit API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeguard.audit.search import (
    DEFAULT_LIMIT,
    MAX_INT64,
    ActorIdFilter,
    EventTypeFilter,
    NonNegativeInt64,
    PageLimit,
    RequestIdFilter,
    Rfc3339Ns,
    SubjectFilter,
)

TimeFilter = Annotated[Rfc3339Ns, Field(ge=0, le=MAX_INT64)]


class EventFilters(BaseModel):
    """Query parameters of the search; unknown parameters are refused, not ignored."""

    model_config = ConfigDict(extra="forbid")

    since: TimeFilter | None = Field(default=None, alias="from", description="RFC 3339, inclusive")
    to: TimeFilter | None = Field(default=None, description="RFC 3339, exclusive")
    event_type: EventTypeFilter | None = Field(
        default=None, description="Exact type, or a prefix like key.*"
    )
    actor_id: ActorIdFilter | None = None
    subject: SubjectFilter | None = None
    request_id: RequestIdFilter | None = None
    after_seq: NonNegativeInt64 = Field(default=0, description="Cursor from the last page")
    limit: PageLimit = DEFAULT_LIMIT
    format: Literal["json", "csv"] = "json"


class ActorOut(BaseModel):
    """Who acted, as the signed record states it."""

    kind: str
    id: str
    ip: str | None
    session_id: str | None
    device_id: str | None


class AuditEventOut(BaseModel):
    """One audit event; ``personal`` is ciphertext under the subject's key, never decrypted."""

    seq: int
    event_id: str
    ts: str = Field(description="RFC 3339 UTC with nanoseconds")
    ts_ns: int
    type: str
    actor: ActorOut
    subject: str | None
    request_id: str | None
    data: dict[str, Any]
    personal: dict[str, Any] | None


class AuditEventsPage(BaseModel):
    """A page of events in sequence order; pass ``next_after_seq`` as ``after_seq`` for more."""

    events: list[AuditEventOut]
    next_after_seq: int | None
