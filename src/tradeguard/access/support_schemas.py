"""Request and response shapes of the support view and access alerts."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from tradeguard.access.alerts import AlertKind
from tradeguard.access.support import MaskedField
from tradeguard.core.reasons import Reason, written
from tradeguard.web.bodies import Body

UNMASK_REASON_MIN = 10
MAX_ALERTS = 200
Note = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(written)
]


class UnmaskRequest(Body):
    """Which field to see in clear, and why (stored and audited)."""

    field: MaskedField
    reason: Annotated[Reason, Field(min_length=UNMASK_REASON_MIN)] = Field(
        description="Why the field is needed, e.g. the ticket (10-200 characters)"
    )
    factor_id: str | None = Field(
        default=None, max_length=64, description="Which SMS factor's phone; default the first"
    )


class UnmaskedView(BaseModel):
    """A field in clear, and how many fields the caller unmasked today (UTC)."""

    user_id: str
    field: MaskedField
    value: str
    factor_id: str | None
    unmasked_today: int


class AlertFilters(BaseModel):
    """Query parameters of the alert list; unknown parameters are refused."""

    model_config = ConfigDict(extra="forbid")

    kind: AlertKind | None = None
    staff_user_id: str | None = Field(default=None, max_length=64)
    unacknowledged: bool = False
    after: UUID | None = Field(default=None, description="Cursor: next_after")
    limit: int = Field(default=50, ge=1, le=MAX_ALERTS)


class AlertView(BaseModel):
    """One access alert."""

    id: str
    kind: str
    staff_user_id: str
    detail: dict[str, Any]
    raised_at: str
    acknowledged_by: str | None
    acknowledged_at: str | None


class AlertsPage(BaseModel):
    """Alerts, newest first; pass ``next_after`` as ``after`` for the next page."""

    alerts: list[AlertView]
    next_after: str | None


class AcknowledgeRequest(Body):
    """An optional note on how the alert was handled (audited)."""

    note: Note = ""
