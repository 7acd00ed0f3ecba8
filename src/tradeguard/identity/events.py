"""Authentication events: every one becomes an audit record through the one write path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.identity.origin import Origin

ANONYMOUS = "anonymous"


class AuthEvents:
    """Records authentication events with who acted, from where, in the caller's transaction."""

    def __init__(self, audit: AuditTrail) -> None:
        self._audit = audit

    def record(  # noqa: PLR0913 - the facts of an authentication event
        self,
        session: Session,
        event_type: str,
        origin: Origin,
        *,
        user_id: str | None,
        session_id: str | None = None,
        device_id: str | None = None,
        data: Mapping[str, Any] | None = None,
        actor: Actor | None = None,
    ) -> None:
        """Append ``event_type`` (``auth.*``) about ``user_id``; by the user unless ``actor``."""
        actor = actor or Actor(
            "user",
            user_id or ANONYMOUS,
            ip=origin.ip,
            session_id=session_id,
            device_id=device_id,
        )
        self._audit.record(
            session,
            event_type,
            actor,
            subject=user_id,
            data=data,
            request_id=origin.request_id,
        )
