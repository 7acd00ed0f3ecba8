"""Time-limited grants and break-glass: extra permissions for staff, for a while, on the record.

A staff member asks for one permission with a reason and a duration; a different user
holding ``admin:grants`` approves or denies it. An approved grant is in force from the
approval until ``expires_at`` and then stops by itself: a session's state only carries
grants that have not expired, and the check compares the expiry with the clock. The
holder or an admin may revoke it sooner. Break-glass is the emergency path: in force at
once without approval, with a longer mandatory reason and an access alert (stored,
audited and emailed to compliance). ``admin:grants`` itself is never granted: the power
to approve grants comes only from a role, so no one can lift themselves or a colleague
past the two-person rule. Every step is audited (``access.grant.*``,
``access.break_glass.used``) and takes effect on the caller's very next request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import Session

from tradeguard.access.alerts import AccessAlerts, AlertKind
from tradeguard.access.caller import Caller
from tradeguard.access.models import (
    GRANT_ACTIVE,
    GRANT_DENIED,
    GRANT_REQUESTED,
    GRANT_REVOKED,
    ID_LENGTH,
    AccessGrant,
)
from tradeguard.audit.recorder import AuditTrail
from tradeguard.core.clock import NS_PER_SECOND, ns_to_rfc3339
from tradeguard.core.errors import VALIDATION_FAILED, ProblemError
from tradeguard.core.ids import new_id
from tradeguard.core.permissions import STAFF_ROLES, Permission
from tradeguard.identity.kit import Identity
from tradeguard.identity.models import User
from tradeguard.identity.problems import ACCESS_DENIED, CONFLICT, not_found
from tradeguard.identity.session_news import EVERY_SESSION

GRANT_EXPIRED = "expired"
"""Shown, never stored: an approved grant whose time is up."""
MIN_REASON_LENGTH = 1
MIN_BREAK_GLASS_REASON_LENGTH = 20
SECONDS_PER_MINUTE = 60
MINUTES_PER_HOUR = 60
LIST_LIMIT = 200
UNGRANTABLE = frozenset({Permission.ADMIN_GRANTS})


class GrantReason(StrEnum):
    """Stable reason codes of refused grant requests and decisions."""

    STAFF_ONLY = "GRANT_STAFF_ONLY"
    NOT_GRANTABLE = "GRANT_NOT_GRANTABLE"
    ALREADY_HELD = "GRANT_ALREADY_HELD"
    REASON_TOO_SHORT = "GRANT_REASON_TOO_SHORT"
    DURATION_OUT_OF_RANGE = "GRANT_DURATION_OUT_OF_RANGE"
    SELF_APPROVAL = "GRANT_SELF_APPROVAL"
    NOT_PENDING = "GRANT_NOT_PENDING"
    NOT_ACTIVE = "GRANT_NOT_ACTIVE"
    HOLDER_NOT_STAFF = "GRANT_HOLDER_NOT_STAFF"


class GrantEvent(StrEnum):
    """Audit event types of grants."""

    REQUESTED = "access.grant.requested"
    APPROVED = "access.grant.approved"
    DENIED = "access.grant.denied"
    REVOKED = "access.grant.revoked"
    REFUSED = "access.grant.refused"
    BREAK_GLASS = "access.break_glass.used"


@dataclass(frozen=True, slots=True)
class GrantAsk:
    """What a staff member asks for: one permission, why, and for how many minutes."""

    permission: Permission
    reason: str
    duration_minutes: int


@dataclass(frozen=True, slots=True)
class HeldGrant:
    """A grant with its holder's username and its status at the time it was read."""

    grant: AccessGrant
    username: str
    status: str


class Grants:
    """Requests, decisions, revocations and break-glass of time-limited grants."""

    def __init__(self, identity: Identity, audit: AuditTrail) -> None:
        self._identity = identity
        self._settings = identity.settings
        self._clock = identity.clock
        self._audit = audit
        self._alerts = AccessAlerts(audit, identity.notices, identity.settings, identity.clock)

    def request(self, db: Session, caller: Caller, ask: GrantAsk) -> HeldGrant:
        """Record a staff member's request; it is not in force until another admin approves."""
        self._check_ask(db, caller, ask, min_reason=MIN_REASON_LENGTH)
        grant = self._new_grant(caller, ask, break_glass=False)
        db.add(grant)
        db.flush()
        self._record(db, GrantEvent.REQUESTED, caller, grant)
        return self._held(db, grant)

    def break_glass(self, db: Session, caller: Caller, ask: GrantAsk) -> HeldGrant:
        """Put a grant in force at once, raise an alert and tell compliance by email."""
        self._check_ask(db, caller, ask, min_reason=MIN_BREAK_GLASS_REASON_LENGTH)
        grant = self._new_grant(caller, ask, break_glass=True)
        self._start(grant, grant.requested_at_ns)
        db.add(grant)
        db.flush()
        held = self._held(db, grant)
        alert_id = self._alert_compliance(db, held)
        self._record(db, GrantEvent.BREAK_GLASS, caller, grant, alert_id=alert_id)
        self._take_effect(db)
        return held

    def approve(self, db: Session, caller: Caller, grant_id: str) -> HeldGrant:
        """Put a pending grant of another staff member in force until its expiry."""
        grant = self._pending(db, caller, grant_id)
        username, role = _holder(db, grant.user_id)
        if role not in STAFF_ROLES:
            raise _conflict(GrantReason.HOLDER_NOT_STAFF, "the requester is no longer staff")
        grant.decided_by = caller.user_id
        self._start(grant, self._clock.now_ns())
        self._record(db, GrantEvent.APPROVED, caller, grant)
        self._take_effect(db)
        return HeldGrant(grant, username, GRANT_ACTIVE)

    def deny(self, db: Session, caller: Caller, grant_id: str) -> HeldGrant:
        """Refuse a pending grant of another staff member; it never comes into force."""
        grant = self._pending(db, caller, grant_id)
        grant.status = GRANT_DENIED
        grant.decided_by = caller.user_id
        grant.decided_at_ns = self._clock.now_ns()
        self._record(db, GrantEvent.DENIED, caller, grant)
        return self._held(db, grant)

    def revoke(self, db: Session, caller: Caller, grant_id: str) -> HeldGrant:
        """End a grant (or withdraw a request) now: its holder or an admin; 404 for others."""
        grant = self._locked(db, grant_id)
        by_holder = grant.user_id == caller.user_id
        if not by_holder and not caller.may(Permission.ADMIN_GRANTS):
            raise not_found("grant")
        if grant_status(grant, self._clock.now_ns()) not in {GRANT_REQUESTED, GRANT_ACTIVE}:
            raise _conflict(GrantReason.NOT_ACTIVE, "the grant is neither pending nor in force")
        grant.status = GRANT_REVOKED
        grant.revoked_at_ns = self._clock.now_ns()
        self._record(db, GrantEvent.REVOKED, caller, grant, by_holder=by_holder)
        self._take_effect(db)
        return self._held(db, grant)

    def visible_to(self, db: Session, caller: Caller) -> list[HeldGrant]:
        """The caller's own grants; for an admin also every pending or running one."""
        now = self._clock.now_ns()
        own = AccessGrant.user_id == caller.user_id
        where = or_(own, _open(now)) if caller.may(Permission.ADMIN_GRANTS) else own
        return listed_grants(db, now, where, limit=LIST_LIMIT)

    def _check_ask(self, db: Session, caller: Caller, ask: GrantAsk, *, min_reason: int) -> None:
        if not caller.is_staff:
            raise self._refused(db, caller, ask.permission, GrantReason.STAFF_ONLY)
        if ask.permission in UNGRANTABLE:
            raise self._refused(db, caller, ask.permission, GrantReason.NOT_GRANTABLE)
        if ask.permission.value in caller.principal.permissions:
            raise _conflict(GrantReason.ALREADY_HELD, "your role already holds this permission")
        self._check_terms(ask, min_reason)

    def _check_terms(self, ask: GrantAsk, min_reason: int) -> None:
        if len(_one_line(ask.reason)) < min_reason:
            raise _invalid(
                GrantReason.REASON_TOO_SHORT,
                f"give a reason of at least {min_reason} characters",
                min_length=min_reason,
            )
        longest = self._settings.grant_max_hours * MINUTES_PER_HOUR
        if not 0 < ask.duration_minutes <= longest:
            raise _invalid(
                GrantReason.DURATION_OUT_OF_RANGE,
                f"a grant lasts from 1 to {longest} minutes",
                max_minutes=longest,
            )

    def _refused(
        self, db: Session, caller: Caller, permission: str, reason: GrantReason
    ) -> ProblemError:
        """A 403 whose attempt stays on the record (the audit event is committed)."""
        self._audit.record(
            db,
            GrantEvent.REFUSED,
            caller.actor,
            subject=caller.user_id,
            data={"permission": str(permission), "reason_code": reason.value},
            request_id=caller.request_id,
        )
        detail = _REFUSALS[reason]
        return ProblemError(ACCESS_DENIED, reason, detail, {"permission": str(permission)}).kept()

    def _new_grant(self, caller: Caller, ask: GrantAsk, *, break_glass: bool) -> AccessGrant:
        return AccessGrant(
            id=str(new_id(self._clock)),
            user_id=caller.user_id,
            permission=ask.permission.value,
            reason=_one_line(ask.reason),
            duration_seconds=ask.duration_minutes * SECONDS_PER_MINUTE,
            break_glass=break_glass,
            status=GRANT_REQUESTED,
            requested_at_ns=self._clock.now_ns(),
        )

    @staticmethod
    def _start(grant: AccessGrant, now_ns: int) -> None:
        grant.status = GRANT_ACTIVE
        grant.decided_at_ns = now_ns
        grant.expires_at_ns = now_ns + grant.duration_seconds * NS_PER_SECOND

    def _pending(self, db: Session, caller: Caller, grant_id: str) -> AccessGrant:
        """A pending grant the caller may decide on: never their own."""
        grant = self._locked(db, grant_id)
        if grant.user_id == caller.user_id:
            raise self._refused(db, caller, grant.permission, GrantReason.SELF_APPROVAL)
        if grant.status != GRANT_REQUESTED:
            raise _conflict(GrantReason.NOT_PENDING, "the grant is not waiting for a decision")
        return grant

    @staticmethod
    def _locked(db: Session, grant_id: str) -> AccessGrant:
        grant = None
        if len(grant_id) <= ID_LENGTH:
            grant = db.get(AccessGrant, grant_id, with_for_update=True)
        if grant is None:
            raise not_found("grant")
        return grant

    def _held(self, db: Session, grant: AccessGrant) -> HeldGrant:
        username, _ = _holder(db, grant.user_id)
        return HeldGrant(grant, username, grant_status(grant, self._clock.now_ns()))

    def _record(
        self,
        db: Session,
        event_type: GrantEvent,
        caller: Caller,
        grant: AccessGrant,
        **extra: Any,  # noqa: ANN401 - further JSON members of the event
    ) -> None:
        self._audit.record(
            db,
            event_type,
            caller.actor,
            subject=grant.user_id,
            data={**grant_facts(grant), **extra},
            request_id=caller.request_id,
        )

    def _alert_compliance(self, db: Session, held: HeldGrant) -> str | None:
        """Raise the break-glass alert (stored, audited, emailed to compliance); its id."""
        detail = _break_glass_detail(held)
        # No quiet window: every break-glass is reported, however many came before.
        alert = self._alerts.raise_alert(
            db, AlertKind.BREAK_GLASS, held.grant.user_id, detail, window_ns=0
        )
        return alert.id if alert is not None else None

    def _take_effect(self, db: Session) -> None:
        """Drop cached session states now, and in every process once the change commits.

        Clearing only before the commit would let a request in between cache the old
        grants; clearing after it makes the very next request see them.
        """
        self._identity.sessions.cache.changed_on_commit(db, EVERY_SESSION)


def grant_status(grant: AccessGrant, now_ns: int) -> str:
    """The grant's status at ``now_ns``: an active grant past its expiry shows as expired."""
    if grant.status == GRANT_ACTIVE and (grant.expires_at_ns or 0) <= now_ns:
        return GRANT_EXPIRED
    return grant.status


def grant_facts(grant: AccessGrant) -> dict[str, Any]:
    """The audited facts of a grant: what, why, how long, until when, decided by whom."""
    return {
        "grant_id": grant.id,
        "holder": grant.user_id,
        "permission": grant.permission,
        "reason": grant.reason,
        "duration_seconds": grant.duration_seconds,
        "break_glass": grant.break_glass,
        "decided_by": grant.decided_by,
        "expires_at": ns_to_rfc3339(grant.expires_at_ns) if grant.expires_at_ns else None,
    }


def grants_in_force(db: Session, now_ns: int) -> list[HeldGrant]:
    """Every grant in force at ``now_ns`` (approved or break-glass, not expired or revoked)."""
    return listed_grants(db, now_ns, _in_force(now_ns))


def every_grant(db: Session, now_ns: int) -> list[HeldGrant]:
    """Every grant ever asked for, newest first, with its status at ``now_ns``."""
    return listed_grants(db, now_ns, true())


def listed_grants(
    db: Session, now_ns: int, where: ColumnElement[bool], *, limit: int | None = None
) -> list[HeldGrant]:
    """The grants matching ``where`` with their holders' usernames, newest first."""
    query = (
        select(AccessGrant, User.username)
        .join(User, User.id == AccessGrant.user_id)
        .where(where)
        .order_by(AccessGrant.requested_at_ns.desc(), AccessGrant.id.desc())
        .limit(limit)
    )
    rows: Sequence[Any] = db.execute(query).all()
    return [HeldGrant(grant, name, grant_status(grant, now_ns)) for grant, name in rows]


def _in_force(now_ns: int) -> ColumnElement[bool]:
    return and_(AccessGrant.status == GRANT_ACTIVE, AccessGrant.expires_at_ns > now_ns)


def _open(now_ns: int) -> ColumnElement[bool]:
    return or_(AccessGrant.status == GRANT_REQUESTED, _in_force(now_ns))


def _holder(db: Session, user_id: str) -> tuple[str, str]:
    """The username and role of a grant's holder (columns only: nothing is decrypted)."""
    found = db.execute(select(User.username, User.role).where(User.id == user_id)).one_or_none()
    return (found.username, found.role) if found is not None else ("", "")


def _break_glass_detail(held: HeldGrant) -> dict[str, Any]:
    """What compliance is told of a break-glass: who took what, why, until when."""
    grant = held.grant
    return {
        "grant_id": grant.id,
        "username": held.username,
        "permission": grant.permission,
        "reason": grant.reason,
        "duration_minutes": grant.duration_seconds // SECONDS_PER_MINUTE,
        "expires_at": ns_to_rfc3339(grant.expires_at_ns or 0),
        "revoke": f"POST /v1/access/grants/{grant.id}/revoke",
    }


def _one_line(reason: str) -> str:
    """The reason with its whitespace runs made single spaces (padding is no reason)."""
    return " ".join(reason.split())


def _conflict(reason: GrantReason, detail: str) -> ProblemError:
    return ProblemError(CONFLICT, reason, detail)


def _invalid(reason: GrantReason, detail: str, **extensions: Any) -> ProblemError:  # noqa: ANN401 - problem extensions are JSON
    return ProblemError(VALIDATION_FAILED, reason, detail, extensions)


_REFUSALS = {
    GrantReason.STAFF_ONLY: "only staff may ask for time-limited grants",
    GrantReason.NOT_GRANTABLE: "this permission comes only with a role, never as a grant",
    GrantReason.SELF_APPROVAL: "a different admin must decide on your own grant",
}


def active_grants_of(db: Session, user_id: str, now_ns: int) -> tuple[tuple[str, int], ...]:
    """The user's approved grants in force at ``now_ns``: (permission, expiry in epoch ns)."""
    rows = db.execute(
        select(AccessGrant.permission, AccessGrant.expires_at_ns).where(
            AccessGrant.user_id == user_id,
            AccessGrant.status == GRANT_ACTIVE,
            AccessGrant.expires_at_ns > now_ns,
        )
    )
    return tuple((permission, until or 0) for permission, until in rows)
