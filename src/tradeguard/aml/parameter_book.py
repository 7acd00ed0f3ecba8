"""The monitors' parameters in force: versions in the database, each change audited.

A change is one ``aml.parameters.changed`` event with the whole document before and
after and the reason; once it commits, the live watcher is rebuilt with the new
parameters from the trail's recent history.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.aml.models import ParameterVersionRow
from tradeguard.aml.parameters import MonitorParameters
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.core.clock import Clock
from tradeguard.core.ids import new_id


def without_floats(value: Any) -> Any:  # noqa: ANN401 - any parsed JSON
    """``value`` with every float as its decimal string (the audit trail takes no floats)."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict):
        return {key: without_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_floats(item) for item in value]
    return value


class ParameterBook:
    """Reads and changes the monitors' parameters; tells listeners after a change commits."""

    def __init__(self, sessions: sessionmaker[Session], audit: AuditTrail, clock: Clock) -> None:
        self.sessions, self.audit, self.clock = sessions, audit, clock
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every committed change."""
        self._listeners.append(listener)

    @staticmethod
    def current(db: Session) -> MonitorParameters:
        """The latest version, or the documented defaults when none was ever set."""
        latest = db.scalars(
            select(ParameterVersionRow.document).order_by(ParameterVersionRow.created_at_ns.desc())
        ).first()
        return (
            MonitorParameters() if latest is None else MonitorParameters.model_validate_json(latest)
        )

    @staticmethod
    def history(db: Session, limit: int) -> list[ParameterVersionRow]:
        """The versions, newest first."""
        query = select(ParameterVersionRow).order_by(ParameterVersionRow.created_at_ns.desc())
        return list(db.scalars(query.limit(limit)))

    def load(self) -> MonitorParameters:
        """The parameters in force, read in a session of its own (for building a watcher)."""
        with self.sessions() as db:
            return self.current(db)

    def change(self, db: Session, actor: Actor, parameters: MonitorParameters, reason: str) -> None:
        """Store ``parameters`` as the new version and audit the change with before and after."""
        before = self.current(db)
        now = self.clock.now_ns()
        document = parameters.model_dump_json()
        row = ParameterVersionRow(
            id=str(new_id()), document=document, reason=reason,
            changed_by=actor.id or actor.kind, created_at_ns=now,
        )  # fmt: skip
        db.add(row)
        data: dict[str, Any] = {
            "before": without_floats(json.loads(before.model_dump_json())),
            "after": without_floats(json.loads(document)),
            "reason": reason,
        }
        self.audit.record(db, "aml.parameters.changed", actor, subject="aml:parameters", data=data)
        event.listen(db, "after_commit", lambda _session: self._notify(), once=True)

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()
