"""The one alert store: every watcher writes its alerts here, in its own transaction.

``AlertStore.raise_alert`` inserts an alert, or updates the alert of the same episode
(same source, typology, symbol, customer and episode;
accounts are merged) when the watcher sees more of it; a draft
that changes nothing writes nothing, so delivering an event twice is harmless. Each
insert or change writes one audit event in the same transaction. Listeners (the email
to compliance, the action policy) run in that transaction too.

The alerts of a confidential source (``aml.sar``: a SAR's deadline and review) are
audited under the source's own prefix (``aml.sar.alert.raised``), which the audit search
hides from readers without the source's permission, and their listeners are told that
name, so the high-score email does not mail them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.cases.model import AlertDraft
from tradeguard.cases.models import AlertRow
from tradeguard.cases.presentation import Presentation, Presenter, generic_presentation
from tradeguard.core.clock import Clock
from tradeguard.core.ids import new_id
from tradeguard.logs import get_logger

log = get_logger("tradeguard.cases")

ALERT_RAISED = "alert.raised"
ALERT_UPDATED = "alert.updated"
ALERT_CLOSED = "alert.closed"
OPEN, IN_CASE, CLOSED = "open", "in_case", "closed"
CONFIDENTIAL_SOURCES = frozenset({"aml.sar"})
"""Sources whose alerts only holders of their permission see (``aml:sar``)."""
CommittedListener = Callable[[Sequence[AlertRow]], None]
"""Called after the transaction that stored these alerts committed (actions that run
in a transaction of their own, such as a trading-state change)."""
AlertListener = Callable[[Session, AlertRow, str], None]
"""Called in the transaction with the session, the stored alert and its audit event type
(``alert.raised`` for a new alert, ``alert.updated`` for a changed one)."""


class AlertStore:
    """Stores alerts of every watcher, one row per episode, each change audited."""

    def __init__(self, audit: AuditTrail, clock: Clock) -> None:
        self.audit = audit
        self.clock = clock
        self.listeners: list[AlertListener] = []
        self.committed_listeners: list[CommittedListener] = []
        self.presenters: dict[str, Presenter] = {}

    def present_with(self, source: str, presenter: Presenter) -> None:
        """Show the evidence of ``source``'s alerts with ``presenter``."""
        self.presenters[source] = presenter

    def present(self, row: AlertRow) -> Presentation:
        """The alert's evidence as a reviewer reads it (generic if its presenter fails)."""
        evidence, parameters = json.loads(row.evidence), json.loads(row.parameters)
        presenter = self.presenters.get(row.source, generic_presentation)
        try:
            return presenter(row.typology, evidence, parameters)
        except (KeyError, TypeError, ValueError, AttributeError):
            log.warning("alerts.presentation_failed", alert=row.id, source=row.source)
            return generic_presentation(row.typology, evidence, parameters)

    def listen(self, listener: AlertListener) -> None:
        """Call ``listener`` for every alert raised or changed from now on."""
        self.listeners.append(listener)

    def after_commit(self, listener: CommittedListener) -> None:
        """Call ``listener`` with the alerts of each batch once it has committed."""
        self.committed_listeners.append(listener)

    def committed(self, rows: Sequence[AlertRow]) -> None:
        """The writer's transaction committed ``rows``: run the after-commit listeners."""
        if not rows:
            return
        for listener in self.committed_listeners:
            try:
                listener(rows)
            except Exception:  # the alerts are stored; the failure is logged
                log.exception("alerts.after_commit_failed", alerts=[row.id for row in rows])

    def raise_alert(self, db: Session, draft: AlertDraft, source: str) -> AlertRow | None:
        """Store ``draft`` (new, or the update of its episode's alert); None if nothing changed."""
        key = draft.key(source)
        row = db.scalars(select(AlertRow).where(AlertRow.alert_key == key)).one_or_none()
        if row is None:
            row = self._insert(db, draft, source, key)
            created = True
        elif _merge(row, draft):
            row.updated_at_ns = self.clock.now_ns()
            created = False
        else:
            return None
        event = alert_event(source, ALERT_RAISED if created else ALERT_UPDATED)
        self._record(db, row, source, event)
        for listener in self.listeners:
            listener(db, row, event)
        return row

    def _insert(self, db: Session, draft: AlertDraft, source: str, key: str) -> AlertRow:
        now = self.clock.now_ns()
        row = AlertRow(
            id=str(new_id(self.clock)),
            alert_key=key,
            source=source,
            typology=draft.typology,
            score=draft.score,
            customer=draft.subject.customer,
            accounts=json.dumps(list(draft.subject.accounts)),
            symbol=draft.subject.symbol,
            start_ns=draft.start_ns,
            end_ns=draft.end_ns,
            rule=draft.rule,
            parameters=_json(draft.parameters),
            evidence=_json(draft.evidence),
            status=OPEN,
            case_id=None,
            created_at_ns=now,
            updated_at_ns=now,
        )
        db.add(row)
        db.flush()
        return row

    def _record(self, db: Session, row: AlertRow, source: str, event: str) -> None:
        self.audit.record(db, event, Actor.system(source), subject=row.id, data=alert_facts(row))


def close_alert(  # noqa: PLR0913, PLR0917 - which alert, who closes it, why and when
    db: Session, audit: AuditTrail, key: str, actor: Actor, note: str, now_ns: int
) -> AlertRow | None:
    """Close the open alert of identity ``key`` with ``note``, audited; None if none is open.

    Its audit event (``alert.closed``, under the source's prefix if confidential) carries
    the note. An alert already in a case is left to the case.
    """
    row = db.scalars(select(AlertRow).where(AlertRow.alert_key == key)).one_or_none()
    if row is None or row.status != OPEN:
        return None
    row.status, row.updated_at_ns = CLOSED, now_ns
    event = alert_event(row.source, ALERT_CLOSED)
    audit.record(db, event, actor, subject=row.id, data=alert_facts(row) | {"note": note})
    return row


def alert_event(source: str, event: str) -> str:
    """The audit event type of ``event`` for an alert of ``source`` (prefixed if confidential)."""
    return f"{source}.{event}" if source in CONFIDENTIAL_SOURCES else event


def alert_facts(row: AlertRow) -> dict[str, Any]:
    """An alert as its audit events state it (score as text; evidence by its digest)."""
    return {
        "typology": row.typology,
        "score": f"{row.score:.4f}",
        "customer": row.customer,
        "accounts": json.loads(row.accounts),
        "symbol": row.symbol,
        "start_ns": row.start_ns,
        "end_ns": row.end_ns,
        "rule": row.rule,
        "evidence_sha256": hashlib.sha256(row.evidence.encode("utf-8")).hexdigest(),
        "parameters_sha256": hashlib.sha256(row.parameters.encode("utf-8")).hexdigest(),
    }


def _merge(row: AlertRow, draft: AlertDraft) -> bool:
    """Extend ``row`` with what ``draft`` adds; whether anything changed."""
    accounts = sorted(set(json.loads(row.accounts)) | set(draft.subject.accounts))
    changes = {
        "accounts": json.dumps(accounts),
        "start_ns": min(row.start_ns, draft.start_ns),
        "end_ns": max(row.end_ns, draft.end_ns),
        "score": max(row.score, draft.score),
        "evidence": _json(draft.evidence),
        "parameters": _json(draft.parameters),
    }
    changed = {name: value for name, value in changes.items() if getattr(row, name) != value}
    for name, value in changed.items():
        setattr(row, name, value)
    return bool(changed)


def _json(value: Any) -> str:  # noqa: ANN401 - any JSON value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def alerts_by_id(db: Session, alert_ids: Sequence[str]) -> list[AlertRow]:
    """The alerts with these ids, in the order asked; missing ones are left out."""
    rows = db.scalars(select(AlertRow).where(AlertRow.id.in_(list(alert_ids)))).all()
    found = {row.id: row for row in rows}
    return [found[alert_id] for alert_id in alert_ids if alert_id in found]
