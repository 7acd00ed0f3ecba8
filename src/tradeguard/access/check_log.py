"""Every permission check becomes an audit event, without a database write per request.

A check is appended to an in-memory buffer (a few microseconds on the request path);
a background thread writes the buffer as audit events, chained and inserted together
(``AuditTrail.append_batch``: one statement per batch), every
``interval`` seconds and whenever it holds ``batch`` checks, and once more on shutdown.
The event keeps the time of the check itself. A crash loses at most the checks of the
last interval; the action a check allowed is audited by its own domain event in the
request's transaction either way.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor, EventRecord
from tradeguard.core.clock import Clock, ns_to_rfc3339
from tradeguard.db.session import transaction
from tradeguard.logs import get_logger

ALLOWED = "access.check.allowed"
DENIED = "access.check.denied"
log = get_logger("tradeguard.access.check_log")


class BufferedEvent(Protocol):
    """An audit event written later by the background writer, in a batch."""

    def draft(self, audit: AuditTrail) -> EventRecord:
        """This event, numbered and chained later with the rest of its batch."""


@dataclass(frozen=True, slots=True)
class AccessCheck:
    """One permission check: who, what permission, on what, through which route, when."""

    user_id: str
    session_id: str
    ip: str | None
    permission: str
    allowed: bool
    route: str
    object_id: str | None
    request_id: str | None
    at_ns: int

    def draft(self, audit: AuditTrail) -> EventRecord:
        """This event, for the buffered writer to number and chain with its batch."""
        return audit.draft(
            ALLOWED if self.allowed else DENIED,
            Actor("user", self.user_id, ip=self.ip, session_id=self.session_id),
            subject=self.object_id,
            data={
                "permission": self.permission,
                "route": self.route,
                "object": self.object_id,
                "checked_at": ns_to_rfc3339(self.at_ns),
            },
            request_id=self.request_id,
        )


class AccessCheckLog:
    """Buffers checks (and other per-request events) and writes them in batches.

    Besides permission checks, the gateway's other high-volume refusals (rejected
    signatures, throttling decisions) go through ``append_event``, so that a flood of
    refused requests costs no database write per request either.
    """

    def __init__(
        self,
        audit: AuditTrail,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        interval: float = 0.25,
        batch: int = 500,
    ) -> None:
        self._audit = audit
        self._sessions = sessions
        self.clock = clock
        self._interval = interval
        self._batch = batch
        self._buffer: deque[BufferedEvent] = deque()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def append(self, check: AccessCheck) -> None:
        """Buffer one check (thread-safe, no I/O)."""
        self.append_event(check)

    def append_event(self, event: BufferedEvent) -> None:
        """Buffer any event to be written by the background writer (thread-safe, no I/O)."""
        self._buffer.append(event)
        if len(self._buffer) >= self._batch:
            self._wake.set()

    def flush(self) -> int:
        """Write every buffered check now; returns how many were written."""
        with self._flush_lock:
            checks = self._drain()
            try:
                self._write(checks)
            except (DataError, IntegrityError, ValueError):  # a malformed check, not an outage
                log.exception("access.check_log.batch_refused", checks=len(checks))
                return self._write_one_by_one(checks)
            except Exception:
                self._buffer.extendleft(reversed(checks))  # kept for the next attempt
                raise
            return len(checks)

    def _write_one_by_one(self, checks: list[BufferedEvent]) -> int:
        """After a refused batch: write each check alone, so one bad check cannot block all."""
        written = 0
        for check in checks:
            try:
                self._write([check])
            except Exception:
                log.exception("access.check_log.event_dropped", dropped=repr(check))
            else:
                written += 1
        return written

    def _write(self, checks: list[BufferedEvent]) -> None:
        if not checks:
            return
        with transaction(self._sessions) as db:
            self._audit.append_batch(db, [check.draft(self._audit) for check in checks])

    def start(self) -> None:
        """Start the background writer."""
        self._thread = threading.Thread(target=self._run, name="access-check-log", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the writer after a last flush."""
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()

    def _drain(self) -> list[BufferedEvent]:
        checks: list[BufferedEvent] = []
        while self._buffer:
            checks.append(self._buffer.popleft())
        return checks

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:
                log.exception("access.check_log.flush_failed")
