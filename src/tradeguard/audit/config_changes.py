"""Configuration is audited: each start records the effective settings and what changed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard import __version__
from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.config import Settings, display_settings

STARTED = "service.started"
CHANGED = "config.changed"
SUBJECT = "service:tradeguard"


def record_start(session: Session, trail: AuditTrail, settings: Settings) -> dict[str, Any]:
    """Record the start with its (masked) settings, and a ``config.changed`` event if they moved."""
    current = display_settings(settings)
    previous = _last_started_settings(session)
    changes = _changes(previous, current) if previous is not None else {}
    actor = Actor.system()
    if changes:
        trail.record(session, CHANGED, actor, SUBJECT, {"changes": changes})
    trail.record(session, STARTED, actor, SUBJECT, {"version": __version__, "settings": current})
    return changes


def _last_started_settings(session: Session) -> dict[str, str] | None:
    record = session.scalars(
        select(AuditEventRow.record)
        .where(AuditEventRow.event_type == STARTED)
        .order_by(AuditEventRow.seq.desc())
        .limit(1)
    ).one_or_none()
    if record is None:
        return None
    settings = json.loads(record)["data"].get("settings")
    return settings if isinstance(settings, dict) else None


def _changes(before: dict[str, str], after: dict[str, str]) -> dict[str, dict[str, str | None]]:
    names = sorted(set(before) | set(after))
    return {
        name: {"before": before.get(name), "after": after.get(name)}
        for name in names
        if before.get(name) != after.get(name)
    }
