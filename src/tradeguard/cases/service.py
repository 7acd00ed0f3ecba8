"""The case workflow: open a case from alerts, assign, comment, attach, decide, escalate.

Every step is one unit of work with one audit event whose subject is the case id, so
a case's history is its audit events (``Cases.history``). Decisions: ``false_positive``
closes the case and its alerts; ``escalate`` moves it to the escalated queue (a second
reviewer); ``report`` closes it as reported to the regulator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.audit.search import AuditEvent, AuditQuery, search
from tradeguard.cases.models import AlertRow, CaseNoteRow, CaseRow
from tradeguard.cases.problems import (
    alert_not_found,
    alert_taken,
    case_closed,
    case_not_found,
    second_review_required,
)
from tradeguard.cases.store import CLOSED, IN_CASE, OPEN, alerts_by_id
from tradeguard.core.clock import NS_PER_SECOND, Clock
from tradeguard.core.ids import new_id

ESCALATED = "escalated"
SECONDS_PER_DAY = 86_400


class Decision(StrEnum):
    """What a reviewer concludes about a case."""

    FALSE_POSITIVE = "false_positive"
    ESCALATE = "escalate"
    REPORT = "report"


@dataclass(frozen=True, slots=True)
class CasePolicy:
    """How long a case may stay open before its deadline passes."""

    review_days: int = 30


class Cases:
    """Staff work on alerts: cases and their history."""

    def __init__(self, audit: AuditTrail, clock: Clock, policy: CasePolicy | None = None) -> None:
        self.audit = audit
        self.clock = clock
        self.policy = policy or CasePolicy()

    def open_case(
        self, db: Session, actor: Actor, alert_ids: Sequence[str], title: str,
        hidden: Sequence[str] = (),
    ) -> CaseRow:  # fmt: skip
        """A new case holding ``alert_ids`` (each open and in no other case).

        An alert of a source in ``hidden`` (one the actor may not see) counts as missing.
        """
        alerts = _free_alerts(db, alert_ids, hidden)
        now = self.clock.now_ns()
        case = CaseRow(
            id=str(new_id(self.clock)),
            title=title,
            status=OPEN,
            decision=None,
            assignee=None,
            score=max(alert.score for alert in alerts),
            opened_by=actor.id,
            created_at_ns=now,
            deadline_ns=now + self.policy.review_days * SECONDS_PER_DAY * NS_PER_SECOND,
            updated_at_ns=now,
            decided_at_ns=None,
        )
        db.add(case)
        db.flush()
        _take(alerts, case)
        data = {"title": title, "alerts": [alert.id for alert in alerts]}
        self._record(db, actor, case, "case.opened", data)
        return case

    def assign(self, db: Session, actor: Actor, case_id: str, assignee: str | None) -> CaseRow:
        """Give the case to ``assignee`` (a staff user id), or take it back (None)."""
        case = self._open(db, case_id)
        before, case.assignee = case.assignee, assignee
        self._record(db, actor, case, "case.assigned", {"before": before, "after": assignee})
        return case

    def comment(self, db: Session, actor: Actor, case_id: str, body: str) -> CaseNoteRow:
        """Add a note (stored encrypted; the audit event has its id and length only)."""
        case = self._open(db, case_id)
        note = CaseNoteRow(
            id=str(new_id(self.clock)),
            case_id=case.id,
            author=actor.id,
            body=body,
            created_at_ns=self.clock.now_ns(),
        )
        db.add(note)
        self._record(db, actor, case, "case.commented", {"note": note.id, "length": len(body)})
        return note

    def attach(
        self, db: Session, actor: Actor, case_id: str, alert_ids: Sequence[str],
        hidden: Sequence[str] = (),
    ) -> CaseRow:  # fmt: skip
        """Add more open alerts to the case (those of a ``hidden`` source count as missing)."""
        case = self._open(db, case_id)
        alerts = _free_alerts(db, alert_ids, hidden)
        _take(alerts, case)
        case.score = max([case.score, *(alert.score for alert in alerts)])
        self._record(db, actor, case, "case.alerts.attached", {"alerts": list(alert_ids)})
        return case

    def decide(
        self, db: Session, actor: Actor, case_id: str, decision: Decision, reason: str
    ) -> CaseRow:
        """Record the reviewer's decision; false positive and report close the case.

        An escalated case is decided by a second reviewer: not whoever escalated it.
        """
        case = self._open(db, case_id)
        if case.status == ESCALATED and actor.id in self.escalated_by(db, case_id):
            raise second_review_required()
        before = case.status
        case.decision = decision.value
        case.status = ESCALATED if decision is Decision.ESCALATE else CLOSED
        if case.status == CLOSED:
            case.decided_at_ns = self.clock.now_ns()
            for alert in self.alerts(db, case.id):
                alert.status = CLOSED
        data = {"decision": decision.value, "reason": reason, "before": before}
        self._record(db, actor, case, "case.decided", data | {"after": case.status})
        return case

    def get(self, db: Session, case_id: str) -> CaseRow:
        """The case; 404 if there is none."""
        case = db.get(CaseRow, case_id)
        if case is None:
            raise case_not_found()
        return case

    def viewed(self, db: Session, actor: Actor, case_id: str) -> CaseRow:
        """The case, its reading by staff audited."""
        case = self.get(db, case_id)
        self.audit.record(db, "case.viewed", actor, subject=case.id, data={})
        return case

    def escalated_by(self, db: Session, case_id: str) -> set[str]:
        """Ids of the staff who escalated the case (from its audited decisions)."""
        return {
            event.actor.id
            for event in self.history(db, case_id)
            if event.event_type == "case.decided" and event.data.get("after") == ESCALATED
        }

    @staticmethod
    def alerts(db: Session, case_id: str) -> list[AlertRow]:
        """The alerts of a case, oldest first (changes of this transaction included)."""
        db.flush()
        query = select(AlertRow).where(AlertRow.case_id == case_id).order_by(AlertRow.start_ns)
        return list(db.scalars(query).all())

    @staticmethod
    def notes(db: Session, case_id: str) -> list[CaseNoteRow]:
        """The notes of a case, oldest first."""
        query = select(CaseNoteRow).where(CaseNoteRow.case_id == case_id)
        return list(db.scalars(query.order_by(CaseNoteRow.created_at_ns)).all())

    @staticmethod
    def history(db: Session, case_id: str) -> tuple[AuditEvent, ...]:
        """The case's own audit events (case.*), in order: who did what to it, when."""
        return search(db, AuditQuery(subject=case_id, event_type="case.*", limit=1000)).events

    @staticmethod
    def queue(db: Session, statuses: Sequence[str], limit: int) -> list[CaseRow]:
        """Cases in ``statuses``, nearest deadline first."""
        query = select(CaseRow).where(CaseRow.status.in_(list(statuses)))
        return list(db.scalars(query.order_by(CaseRow.deadline_ns).limit(limit)).all())

    def _open(self, db: Session, case_id: str) -> CaseRow:
        case = self.get(db, case_id)
        if case.status == CLOSED:
            raise case_closed()
        return case

    def _record(
        self, db: Session, actor: Actor, case: CaseRow, event: str, data: Mapping[str, object]
    ) -> None:
        case.updated_at_ns = self.clock.now_ns()
        self.audit.record(db, event, actor, subject=case.id, data=data)


def _free_alerts(
    db: Session, alert_ids: Sequence[str], hidden: Sequence[str] = ()
) -> list[AlertRow]:
    """The alerts named, each existing (and visible) and still open; 422 or 409 otherwise."""
    alerts = [alert for alert in alerts_by_id(db, alert_ids) if alert.source not in hidden]
    missing = sorted(set(alert_ids) - {alert.id for alert in alerts})
    if missing or not alerts:
        raise alert_not_found(missing)
    taken = [alert.id for alert in alerts if alert.status != OPEN]
    if taken:
        raise alert_taken(taken)
    return alerts


def _take(alerts: Sequence[AlertRow], case: CaseRow) -> None:
    for alert in alerts:
        alert.status, alert.case_id = IN_CASE, case.id


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """What the alert queue shows: a status, and optionally a source, typology, symbol, score."""

    status: str = OPEN
    source: str | None = None
    typology: str | None = None
    symbol: str | None = None
    min_score: float = 0.0
    limit: int = 100
    hidden_sources: tuple[str, ...] = ()
    """Sources the reader may not see (``aml.sar`` without ``aml:sar``)."""


def alert_queue(db: Session, wanted: AlertFilter) -> list[AlertRow]:
    """Alerts of every source matching ``wanted``, highest score first, newest first on ties."""
    query = select(AlertRow).where(AlertRow.status == wanted.status)
    for column, value in (
        (AlertRow.source, wanted.source),
        (AlertRow.typology, wanted.typology),
        (AlertRow.symbol, wanted.symbol),
    ):
        if value is not None:
            query = query.where(column == value)
    if wanted.min_score > 0:
        query = query.where(AlertRow.score >= wanted.min_score)
    if wanted.hidden_sources:
        query = query.where(AlertRow.source.not_in(wanted.hidden_sources))
    order = (AlertRow.score.desc(), AlertRow.start_ns.desc())
    return list(db.scalars(query.order_by(*order).limit(wanted.limit)).all())
