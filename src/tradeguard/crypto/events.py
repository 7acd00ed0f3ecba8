"""Key operations are recorded through one interface; the audit trail implements it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from sqlalchemy.orm import Session

from tradeguard.logs import get_logger


class KeyEventRecorder(Protocol):
    """Records that a key operation happened: what, to which key, with which inputs."""

    def record(
        self, event_type: str, data: Mapping[str, object], session: Session | None = None
    ) -> None:
        """Record one key event (dotted type such as ``key.rotated``); never key material.

        With a session, the record joins that transaction (it commits with the key
        change or not at all); without one, it is recorded on its own.
        """
        ...


class LogKeyEventRecorder:
    """Writes key events as structured log lines (used where no audit trail is wired)."""

    def __init__(self) -> None:
        self._log = get_logger("tradeguard.keys")

    def record(
        self, event_type: str, data: Mapping[str, object], session: Session | None = None
    ) -> None:
        """Emit one ``key.*`` log event with its data."""
        del session
        self._log.info(event_type, **dict(data))


class MemoryKeyEventRecorder:
    """Keeps events in a list; for tests and for callers that forward them later."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, object]]] = []

    def record(
        self, event_type: str, data: Mapping[str, object], session: Session | None = None
    ) -> None:
        """Append the event."""
        del session
        self.events.append((event_type, dict(data)))
