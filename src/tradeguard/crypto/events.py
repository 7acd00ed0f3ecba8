"""Key operations are recorded through one interface; the audit trail implements it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from tradeguard.logs import get_logger


class KeyEventRecorder(Protocol):
    """Records that a key operation happened: what, to which key, with which inputs."""

    def record(self, event_type: str, data: Mapping[str, object]) -> None:
        """Record one key event (dotted type such as ``key.rotated``); never key material."""
        ...


class LogKeyEventRecorder:
    """Writes key events as structured log lines (used where no audit trail is wired)."""

    def __init__(self) -> None:
        self._log = get_logger("tradeguard.keys")

    def record(self, event_type: str, data: Mapping[str, object]) -> None:
        """Emit one ``key.*`` log event with its data."""
        self._log.info(event_type, **dict(data))


class MemoryKeyEventRecorder:
    """Keeps events in a list; for tests and for callers that forward them later."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, object]]] = []

    def record(self, event_type: str, data: Mapping[str, object]) -> None:
        """Append the event."""
        self.events.append((event_type, dict(data)))
