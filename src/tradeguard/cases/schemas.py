"""Request and response shapes of the alert queue and the case workflow."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints

from tradeguard.audit.search import AuditEvent
from tradeguard.cases.models import AlertRow, CaseNoteRow, CaseRow
from tradeguard.cases.presentation import PresentationView
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.reasons import Reason
from tradeguard.web.bodies import Body

ObjectId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f-]{36}$")]
Title = Annotated[str, StringConstraints(min_length=3, max_length=200, pattern=r"^[^\x00-\x1f]*$")]
NoteText = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
AlertIds = Annotated[list[ObjectId], Field(min_length=1, max_length=100)]


class OpenCaseRequest(Body):
    """Open a case from open alerts."""

    alert_ids: AlertIds
    title: Title


class AssignRequest(Body):
    """Give the case to a staff user (their user id), or to nobody (null)."""

    assignee: ObjectId | None


class CommentRequest(Body):
    """A note on the case (stored encrypted)."""

    body: NoteText


class AttachRequest(Body):
    """More open alerts for the case."""

    alert_ids: AlertIds


class DecisionRequest(Body):
    """The reviewer's decision and why."""

    decision: Literal["false_positive", "escalate", "report"]
    reason: Reason


class AlertView(BaseModel):
    """One alert as the queue shows it."""

    id: str
    source: str
    typology: str
    score: float
    customer: str | None
    accounts: list[str]
    symbol: str | None
    start: str
    end: str
    rule: str
    parameters: dict[str, Any]
    evidence: dict[str, Any]
    status: str
    case_id: str | None
    presentation: PresentationView | None = None
    """The evidence as a reviewer reads it (on one alert and in a case, not in the queue)."""


class CaseView(BaseModel):
    """A case: its state, owner, age and deadline."""

    id: str
    title: str
    status: str
    decision: str | None
    assignee: str | None
    score: float
    opened_by: str
    created: str
    deadline: str
    age_seconds: int
    overdue: bool


class NoteView(BaseModel):
    """A note on a case."""

    id: str
    author: str
    body: str
    created: str


class CaseDetail(BaseModel):
    """A case with its alerts, notes and history (its audit events)."""

    case: CaseView
    alerts: list[AlertView]
    notes: list[NoteView]
    history: list[dict[str, Any]]


def alert_view(row: AlertRow, presentation: PresentationView | None = None) -> AlertView:
    """The queue's view of an alert (with its presentation where one is given)."""
    return AlertView(
        id=row.id,
        source=row.source,
        typology=row.typology,
        score=row.score,
        customer=row.customer,
        accounts=json.loads(row.accounts),
        symbol=row.symbol,
        start=ns_to_rfc3339(row.start_ns),
        end=ns_to_rfc3339(row.end_ns),
        rule=row.rule,
        parameters=json.loads(row.parameters),
        evidence=json.loads(row.evidence),
        status=row.status,
        case_id=row.case_id,
        presentation=presentation,
    )


def case_view(row: CaseRow, now_ns: int) -> CaseView:
    """A case with its age and whether its deadline has passed."""
    return CaseView(
        id=row.id,
        title=row.title,
        status=row.status,
        decision=row.decision,
        assignee=row.assignee,
        score=row.score,
        opened_by=row.opened_by,
        created=ns_to_rfc3339(row.created_at_ns),
        deadline=ns_to_rfc3339(row.deadline_ns),
        age_seconds=(now_ns - row.created_at_ns) // 1_000_000_000,
        overdue=row.status != "closed" and now_ns > row.deadline_ns,
    )


def note_view(row: CaseNoteRow) -> NoteView:
    """A note as staff read it."""
    return NoteView(
        id=row.id, author=row.author, body=row.body, created=ns_to_rfc3339(row.created_at_ns)
    )


def history_view(events: tuple[AuditEvent, ...]) -> list[dict[str, Any]]:
    """The case's audit events as the API shows them."""
    return [event.to_json() for event in events]
