"""Access anomalies raised for compliance: mass access, off-hours access, repeated denials.

Three anomalies are watched, with limits that administrators may change at run time
(``RuntimeSettings``):

* ``mass_access``: a staff member looked at more than ``anomaly_distinct_records``
  distinct customers within ``anomaly_window_seconds`` (checked by the support desk as
  it records each look);
* ``off_hours``: a staff member's permission check outside ``staff_hours_start`` to
  ``staff_hours_end`` (UTC);
* ``repeated_denials``: ``anomaly_denials`` refused permission checks of one principal
  within the window (a trader probing staff routes counts as much as a staff member).

The last two come from the permission checks: ``MonitoredCheckLog`` hands the monitor
each denied check and each check made outside staff hours (an integer comparison on the
request path, nothing more), and the monitor reviews them after every flush of the
check log, off the request path. Denials are counted per process.

An alert is stored (``AccessAlert``), audited (``access.alert.raised``) and emailed to
``compliance_email`` in one transaction; at most one alert of a kind per person and
window is raised, so a burst does not flood compliance.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.access.check_log import AccessCheck, AccessCheckLog
from tradeguard.access.models import AccessAlert
from tradeguard.access.runtime_settings import RuntimeSettings
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.config import Settings
from tradeguard.core.clock import NS_PER_SECOND, Clock, ns_to_rfc3339
from tradeguard.core.errors import ProblemError
from tradeguard.core.ids import new_id
from tradeguard.core.permissions import STAFF_ROLES
from tradeguard.db.session import transaction
from tradeguard.identity.models import User
from tradeguard.identity.notices import Notices, VerifiedAddress
from tradeguard.identity.problems import ACCESS_DENIED, CONFLICT, not_found
from tradeguard.services import Services


class AlertKind(StrEnum):
    """The kinds of access alert (``break_glass`` is raised by the grants' break-glass)."""

    BREAK_GLASS = "break_glass"
    MASS_ACCESS = "mass_access"
    OFF_HOURS = "off_hours"
    REPEATED_DENIALS = "repeated_denials"


MASS_ACCESS = AlertKind.MASS_ACCESS
OFF_HOURS = AlertKind.OFF_HOURS
REPEATED_DENIALS = AlertKind.REPEATED_DENIALS
RAISED = "access.alert.raised"
ACKNOWLEDGED = "access.alert.acknowledged"
MONITOR = Actor.system("access-monitor")
HOURS_PER_DAY = 24
NS_PER_HOUR = 3600 * NS_PER_SECOND
LIMITS_TTL_SECONDS = 5.0
MAX_TRACKED_PRINCIPALS = 100_000


@dataclass(frozen=True, slots=True)
class AnomalyLimits:
    """The limits in force: distinct records and denials per window, and staff hours."""

    distinct_records: int
    denials: int
    window_seconds: int
    hours_start: int
    hours_end: int

    @classmethod
    def configured(cls, settings: Settings) -> AnomalyLimits:
        """The limits of the configuration file and environment."""
        return cls(
            distinct_records=settings.anomaly_distinct_records,
            denials=settings.anomaly_denials,
            window_seconds=settings.anomaly_window_seconds,
            hours_start=settings.staff_hours_start,
            hours_end=settings.staff_hours_end,
        )

    @classmethod
    def current(cls, db: Session, settings: Settings) -> AnomalyLimits:
        """The limits in force: run-time values where administrators set them."""
        return cls(
            distinct_records=RuntimeSettings.current(db, settings, "anomaly_distinct_records"),
            denials=RuntimeSettings.current(db, settings, "anomaly_denials"),
            window_seconds=RuntimeSettings.current(db, settings, "anomaly_window_seconds"),
            hours_start=RuntimeSettings.current(db, settings, "staff_hours_start"),
            hours_end=RuntimeSettings.current(db, settings, "staff_hours_end"),
        )

    @property
    def window_ns(self) -> int:
        """The window in nanoseconds."""
        return self.window_seconds * NS_PER_SECOND

    def within_hours(self, at_ns: int) -> bool:
        """Whether ``at_ns`` falls in staff hours (a start after the end spans midnight)."""
        hour = at_ns // NS_PER_HOUR % HOURS_PER_DAY
        if self.hours_start < self.hours_end:
            return self.hours_start <= hour < self.hours_end
        if self.hours_start > self.hours_end:
            return hour >= self.hours_start or hour < self.hours_end
        return True


@dataclass(frozen=True, slots=True)
class AlertQuery:
    """Which alerts to list: by kind, by person, unacknowledged only; a page of them."""

    kind: str | None = None
    staff_user_id: str | None = None
    unacknowledged: bool = False
    after: str | None = None
    limit: int = 50


class AccessAlerts:
    """Raises, lists and acknowledges access alerts."""

    def __init__(
        self, audit: AuditTrail, notices: Notices, settings: Settings, clock: Clock
    ) -> None:
        self.audit = audit
        self._notices = notices
        self.settings = settings
        self.clock = clock

    def raise_alert(
        self, db: Session, kind: str, staff_user_id: str, detail: Mapping[str, Any], window_ns: int
    ) -> AccessAlert | None:
        """Store, audit and email an alert; None when one of its kind is open in the window."""
        now = self.clock.now_ns()
        if self._raised_since(db, kind, staff_user_id, now - window_ns):
            return None
        alert = AccessAlert(
            id=str(new_id(self.clock)),
            kind=kind,
            staff_user_id=staff_user_id,
            detail=json.dumps(dict(detail), sort_keys=True),
            raised_at_ns=now,
        )
        db.add(alert)
        db.flush()
        event = {"alert_id": alert.id, "kind": kind, **detail}
        self.audit.record(db, RAISED, MONITOR, subject=staff_user_id, data=event)
        self._email(db, alert)
        return alert

    def find(self, db: Session, query: AlertQuery) -> list[AccessAlert]:
        """Alerts matching ``query``, newest first, after the cursor ``query.after``."""
        statement = select(AccessAlert).order_by(AccessAlert.id.desc()).limit(query.limit)
        if query.kind is not None:
            statement = statement.where(AccessAlert.kind == query.kind)
        if query.staff_user_id is not None:
            statement = statement.where(AccessAlert.staff_user_id == query.staff_user_id)
        if query.unacknowledged:
            statement = statement.where(AccessAlert.acknowledged_at_ns.is_(None))
        if query.after is not None:
            statement = statement.where(AccessAlert.id < query.after)
        return list(db.scalars(statement))

    def acknowledge(self, db: Session, alert_id: str, by: Actor, note: str) -> AccessAlert:
        """Mark an alert handled; nobody acknowledges an alert about themselves."""
        alert = db.get(AccessAlert, alert_id, with_for_update=True)
        if alert is None:
            raise not_found("alert")
        if alert.staff_user_id == by.id:
            raise ProblemError(
                ACCESS_DENIED, "ALERT_OWN", "an alert about you is acknowledged by someone else"
            )
        if alert.acknowledged_at_ns is not None:
            raise ProblemError(CONFLICT, "ALERT_ACKNOWLEDGED", "the alert is already acknowledged")
        alert.acknowledged_by = by.id
        alert.acknowledged_at_ns = self.clock.now_ns()
        data = {"alert_id": alert.id, "kind": alert.kind, "note": note}
        self.audit.record(db, ACKNOWLEDGED, by, subject=alert.staff_user_id, data=data)
        return alert

    def _raised_since(self, db: Session, kind: str, staff_user_id: str, since_ns: int) -> bool:
        found = db.scalar(
            select(AccessAlert.id)
            .where(AccessAlert.staff_user_id == staff_user_id, AccessAlert.kind == kind)
            .where(AccessAlert.raised_at_ns > since_ns)
            .limit(1)
        )
        return found is not None

    def _email(self, db: Session, alert: AccessAlert) -> None:
        self._notices.email(
            db,
            VerifiedAddress(self.settings.compliance_email),  # the operator's own address
            f"access.alert.{alert.kind}",
            f"Access alert: {alert.kind.replace('_', ' ')}",
            f"An access anomaly was raised at {ns_to_rfc3339(alert.raised_at_ns)}.\n\n"
            f"Kind: {alert.kind}\nUser: {alert.staff_user_id}\nAlert: {alert.id}\n"
            f"Detail: {alert.detail}\n\n"
            f"Review and acknowledge it at {self._notices.link('/v1/admin/alerts')}.",
        )


def alert_detail(alert: AccessAlert) -> dict[str, Any]:
    """The stored detail of an alert as a mapping."""
    detail: dict[str, Any] = json.loads(alert.detail)
    return detail


class DenialCounter:
    """Denied checks per principal within a sliding window, in this process's memory."""

    def __init__(self) -> None:
        self._times: dict[str, deque[int]] = {}

    def add(self, user_id: str, at_ns: int, window_ns: int) -> int:
        """Count one denial; how many fell within the window up to ``at_ns``."""
        if len(self._times) > MAX_TRACKED_PRINCIPALS:  # bound memory under token spraying
            self._times.clear()
        times = self._times.setdefault(user_id, deque())
        times.append(at_ns)
        while times and times[0] <= at_ns - window_ns:
            times.popleft()
        return len(times)


class AccessMonitor:
    """Reviews denied and off-hours permission checks, raising alerts for anomalies."""

    def __init__(
        self,
        alerts: AccessAlerts,
        sessions: sessionmaker[Session],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.alerts = alerts
        self._sessions = sessions
        self._monotonic = monotonic
        self._limits = AnomalyLimits.configured(alerts.settings)
        self._limits_loaded_at: float | None = None
        self._pending: deque[AccessCheck] = deque()
        self._denials = DenialCounter()
        self._review_lock = threading.Lock()

    def worth_noting(self, check: AccessCheck) -> bool:
        """Whether the check may be an anomaly: denied, or made outside staff hours."""
        return not check.allowed or not self._limits.within_hours(check.at_ns)

    def note(self, check: AccessCheck) -> None:
        """Keep a check for the next review (thread-safe, no I/O)."""
        self._pending.append(check)

    def review(self) -> None:
        """Raise the alerts the noted checks call for, in one transaction.

        The limits are read again every few seconds, so run-time changes take effect.
        """
        with self._review_lock:
            checks = self._drain()
            stale = self._limits_stale()
            if not checks and not stale:
                return
            try:
                with transaction(self._sessions) as db:
                    if stale:
                        self._limits = AnomalyLimits.current(db, self.alerts.settings)
                        self._limits_loaded_at = self._monotonic()
                    self._review_denials(db, checks, self._limits)
                    self._review_hours(db, checks, self._limits)
            except Exception:
                self._pending.extendleft(reversed(checks))  # kept for the next review
                raise

    def _limits_stale(self) -> bool:
        loaded = self._limits_loaded_at
        return loaded is None or self._monotonic() - loaded >= LIMITS_TTL_SECONDS

    def _review_denials(
        self, db: Session, checks: Iterable[AccessCheck], limits: AnomalyLimits
    ) -> None:
        for check in checks:
            if check.allowed:
                continue
            count = self._denials.add(check.user_id, check.at_ns, limits.window_ns)
            if count >= limits.denials:
                detail = _check_detail(check) | {"denials": count, "limit": limits.denials}
                self.alerts.raise_alert(
                    db, REPEATED_DENIALS, check.user_id, detail, limits.window_ns
                )

    def _review_hours(
        self, db: Session, checks: Iterable[AccessCheck], limits: AnomalyLimits
    ) -> None:
        late = [check for check in checks if not limits.within_hours(check.at_ns)]
        staff = _staff_among(db, {check.user_id for check in late})
        for check in late:
            if check.user_id in staff:
                hours = f"{limits.hours_start:02d}:00-{limits.hours_end:02d}:00 UTC"
                detail = _check_detail(check) | {"staff_hours": hours}
                self.alerts.raise_alert(db, OFF_HOURS, check.user_id, detail, limits.window_ns)

    def _drain(self) -> list[AccessCheck]:
        checks = []
        while self._pending:
            checks.append(self._pending.popleft())
        return checks


class MonitoredCheckLog(AccessCheckLog):
    """The permission-check log, also feeding possible anomalies to an ``AccessMonitor``."""

    def __init__(
        self,
        audit: AuditTrail,
        sessions: sessionmaker[Session],
        clock: Clock,
        monitor: AccessMonitor,
    ) -> None:
        super().__init__(audit, sessions, clock)
        self.monitor = monitor

    def append(self, check: AccessCheck) -> None:
        """Buffer one check; hand it to the monitor too when it is denied or off-hours."""
        super().append(check)
        if self.monitor.worth_noting(check):
            self.monitor.note(check)

    def flush(self) -> int:
        """Write the buffered checks, then review the noted ones for anomalies."""
        written = super().flush()
        self.monitor.review()
        return written


def monitored_check_log(services: Services, notices: Notices) -> MonitoredCheckLog:
    """The application's check log with its anomaly monitor and alerts wired in."""
    alerts = AccessAlerts(services.audit, notices, services.settings, services.clock)
    monitor = AccessMonitor(alerts, services.sessions)
    return MonitoredCheckLog(services.audit, services.sessions, services.clock, monitor)


def _check_detail(check: AccessCheck) -> dict[str, Any]:
    return {
        "permission": check.permission,
        "route": check.route,
        "allowed": check.allowed,
        "at": ns_to_rfc3339(check.at_ns),
    }


def _staff_among(db: Session, user_ids: set[str]) -> set[str]:
    if not user_ids:
        return set()
    rows = db.execute(select(User.id, User.role).where(User.id.in_(user_ids)))
    return {user_id for user_id, role in rows if role in STAFF_ROLES}
