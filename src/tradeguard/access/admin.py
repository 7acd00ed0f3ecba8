"""Administration: find users, suspend them, change roles with two admins, run-time settings.

Every action is audited with the administrator as a ``staff`` actor, reads included
(staff looking at a customer is an access like any other). A role change is requested
by one administrator and applied only when another approves it: neither the requester
nor the person whose role changes may decide it, so no administrator raises their own
privileges alone. Applying it bumps the user's permission version: their unexpired
access tokens are refused (``AUTH_TOKEN_STALE``) on the next request, and a refresh
gives the new permissions. A promotion into a staff role ends the user's sessions
instead, because staff sign in under stricter rules than customers.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Row, select
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.access.models import RoleChange, RuntimeSetting
from tradeguard.access.runtime_settings import RuntimeKey, RuntimeSettings, runtime_key
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.search import AuditPage, AuditQuery, search
from tradeguard.core.errors import ProblemError, ProblemType
from tradeguard.core.ids import new_id
from tradeguard.core.permissions import STAFF_ROLES, AccessLevel, Role
from tradeguard.db.upsert import insert_if_absent
from tradeguard.identity.models import Factor, User
from tradeguard.identity.notices import address_of
from tradeguard.identity.origin import Origin
from tradeguard.identity.problems import ACCESS_DENIED, CONFLICT, NOT_FOUND, not_found
from tradeguard.identity.service import IdentityService
from tradeguard.identity.session_news import EVERY_SESSION
from tradeguard.identity.sessions import ACTIVE, SUSPENDED

ROLE_CHANGE_REQUESTED = "requested"
ROLE_CHANGE_APPROVED = "approved"
ROLE_CHANGE_DENIED = "denied"
ROLE_CHANGED = "role_changed"
"""Why sessions end when a customer becomes staff (stored as the sessions' revoke reason)."""
STATUS_EVENTS = {SUSPENDED: "admin.user.suspended", ACTIVE: "admin.user.reactivated"}
ID_SHAPE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
INVALID_VALUE = ProblemType("invalid-value", "Value refused", 422)


class AdminReason(StrEnum):
    """Stable reason codes of refused administration requests."""

    SELF_APPROVAL = "ADMIN_SELF_APPROVAL"
    SELF_SUSPENSION = "ADMIN_SELF_SUSPENSION"
    STATUS_UNCHANGED = "ADMIN_STATUS_UNCHANGED"
    ROLE_UNCHANGED = "ADMIN_ROLE_UNCHANGED"
    ROLE_CHANGE_PENDING = "ADMIN_ROLE_CHANGE_PENDING"
    ROLE_CHANGE_DECIDED = "ADMIN_ROLE_CHANGE_DECIDED"
    ACCESS_LEVEL_INVALID = "ADMIN_ACCESS_LEVEL_INVALID"
    SETTING_UNKNOWN = "ADMIN_SETTING_UNKNOWN"
    SETTING_OUT_OF_RANGE = "ADMIN_SETTING_OUT_OF_RANGE"


@dataclass(frozen=True, slots=True)
class UserFilter:
    """What to list: a username prefix or an exact email address, status, role, a page."""

    query: str | None = None
    status: str | None = None
    role: str | None = None
    after: str | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class UserSummary:
    """A user as a list shows them (no personal data, nothing decrypted)."""

    id: str
    username: str
    role: str
    access_level: str | None
    status: str
    created_at_ns: int


@dataclass(frozen=True, slots=True)
class UserPage:
    """One page of users in id order; ``next_after`` is the cursor of the next page."""

    users: tuple[UserSummary, ...]
    next_after: str | None


@dataclass(frozen=True, slots=True)
class UserDetail:
    """One user as an administrator sees them: the account, its factors and sessions."""

    user: User
    factors: tuple[Factor, ...]
    live_sessions: int
    pending_role_change: RoleChange | None


@dataclass(frozen=True, slots=True)
class RoleRequest:
    """A requested role and access level, and why."""

    role: Role
    access_level: AccessLevel | None
    reason: str


@dataclass(frozen=True, slots=True)
class RuntimeValue:
    """A run-time setting: its range, configured default and the value in force."""

    key: RuntimeKey
    value: int
    default: int
    updated_at_ns: int | None
    updated_by: str | None


class Administration:
    """Users: search, the admin view, suspension, two-admin role changes, audit history."""

    def __init__(self, service: IdentityService, audit: AuditTrail) -> None:
        self._service = service
        self._id = service.identity
        self._audit = audit

    def search_users(self, db: Session, caller: Caller, wanted: UserFilter) -> UserPage:
        """Users matching ``wanted`` in id order, found without decrypting any row."""
        rows = self._user_rows(db, wanted)
        page = UserPage(
            tuple(summary_of(row) for row in rows[: wanted.limit]),
            rows[wanted.limit - 1].id if len(rows) > wanted.limit else None,
        )
        self._record(db, caller, "admin.users.searched", None, _search_facts(wanted, page))
        return page

    def user_detail(self, db: Session, caller: Caller, user_id: str) -> UserDetail:
        """One user for an administrator (no secrets); 404 when there is none."""
        user = self._user(db, user_id)
        detail = UserDetail(
            user=user,
            factors=tuple(self._service.factors.confirmed(db, user.id)),
            live_sessions=len(self._id.sessions.live_sessions(db, user.id)),
            pending_role_change=self._pending(db, user.id),
        )
        self._record(db, caller, "admin.user.viewed", user.id, {})
        return detail

    def set_status(
        self, db: Session, caller: Caller, user_id: str, status: str, reason: str
    ) -> User:
        """Suspend (every session ends at once) or reactivate an account."""
        user = self._user(db, user_id, lock=True)
        if user.id == caller.user_id:
            raise ProblemError(
                ACCESS_DENIED, AdminReason.SELF_SUSPENSION, "you cannot suspend yourself"
            )
        if user.status == status:
            raise ProblemError(CONFLICT, AdminReason.STATUS_UNCHANGED, f"the account is {status}")
        self._service.accounts.set_status(
            db, user, status, caller.origin, by=caller.actor, reason=reason
        )
        self._record(db, caller, STATUS_EVENTS[status], user.id, {"reason": reason})
        db.flush()  # the ended sessions are visible to the rest of the transaction
        return user

    def request_role_change(
        self, db: Session, caller: Caller, user_id: str, wanted: RoleRequest
    ) -> RoleChange:
        """Record a requested change of role; another administrator must approve it."""
        checked_level(wanted.role, wanted.access_level)
        user = self._user(db, user_id, lock=True)
        if (user.role, user.access_level) == (wanted.role.value, _value(wanted.access_level)):
            raise ProblemError(CONFLICT, AdminReason.ROLE_UNCHANGED, "the user already has it")
        if self._pending(db, user.id) is not None:
            raise ProblemError(
                CONFLICT, AdminReason.ROLE_CHANGE_PENDING, "a role change of this user is pending"
            )
        change = self._new_change(db, caller, user, wanted)
        facts = {
            **_change_facts(change),
            "role_before": user.role,
            "level_before": user.access_level,
        }
        self._record(db, caller, "admin.role_change.requested", user.id, facts)
        return change

    def decide_role_change(
        self, db: Session, caller: Caller, change_id: str, *, approve: bool
    ) -> RoleChange:
        """Approve (apply) or deny a pending role change, as a third administrator.

        The requester and the user whose role changes may not decide it.
        """
        change = self._change(db, change_id)
        _require_decidable(change, caller)
        change.status = ROLE_CHANGE_APPROVED if approve else ROLE_CHANGE_DENIED
        change.decided_by, change.decided_at_ns = caller.user_id, self._id.clock.now_ns()
        if approve:
            self._apply(db, change, caller.origin)
        event_type = f"admin.role_change.{change.status}"
        self._record(db, caller, event_type, change.user_id, _change_facts(change))
        return change

    def role_changes(
        self, db: Session, status: str | None, after: str | None, limit: int
    ) -> tuple[list[RoleChange], str | None]:
        """Role changes (of one status, or all) in id order, a page, and the next cursor."""
        query = select(RoleChange).order_by(RoleChange.id).limit(limit + 1)
        if status is not None:
            query = query.where(RoleChange.status == status)
        if after is not None:
            query = query.where(RoleChange.id > after)
        rows = list(db.scalars(query))
        return rows[:limit], rows[limit - 1].id if len(rows) > limit else None

    def audit_history(
        self, db: Session, caller: Caller, user_id: str, after_seq: int, limit: int
    ) -> AuditPage:
        """The audit events about one user (subject = their id), a page at a time."""
        user = self._user(db, user_id)
        page = search(db, AuditQuery(subject=user.id, after_seq=after_seq, limit=limit))
        facts = {"after_seq": after_seq, "returned": len(page.events)}
        self._record(db, caller, "admin.user.audit_viewed", user.id, facts)
        return page

    def _apply(self, db: Session, change: RoleChange, origin: Origin) -> None:
        user = self._user(db, change.user_id, lock=True)
        promoted = user.role not in STAFF_ROLES and change.role in STAFF_ROLES
        user.role, user.access_level = change.role, change.access_level
        user.permission_version += 1
        if promoted:
            self._id.sessions.revoke_all(db, user.id, ROLE_CHANGED, origin)
        self._id.sessions.cache.changed_on_commit(db, EVERY_SESSION)
        self._id.notices.security(
            db,
            address_of(user),
            ROLE_CHANGED,
            "Your role was changed",
            f"Your TradeGuard role is now {_role_text(change)}. Sign in again to use it.",
        )

    def _user_rows(self, db: Session, wanted: UserFilter) -> list[Row[*tuple[Any, ...]]]:
        """One more row than a page holds (to tell whether another page follows)."""
        columns = (User.id, User.username, User.role, User.access_level, User.status)
        query = select(*columns, User.created_at_ns).where(*self._conditions(wanted))
        return list(db.execute(query.order_by(User.id).limit(wanted.limit + 1)).all())

    def _new_change(
        self, db: Session, caller: Caller, user: User, wanted: RoleRequest
    ) -> RoleChange:
        change = RoleChange(
            id=str(new_id(self._id.clock)),
            user_id=user.id,
            role=wanted.role.value,
            access_level=_value(wanted.access_level),
            reason=wanted.reason,
            status=ROLE_CHANGE_REQUESTED,
            requested_by=caller.user_id,
            requested_at_ns=self._id.clock.now_ns(),
        )
        db.add(change)
        db.flush()
        return change

    def _conditions(self, wanted: UserFilter) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if wanted.query is not None:
            conditions.append(self._matching(wanted.query))
        if wanted.status is not None:
            conditions.append(User.status == wanted.status)
        if wanted.role is not None:
            conditions.append(User.role == wanted.role)
        if wanted.after is not None:
            conditions.append(User.id > wanted.after)
        return conditions

    def _matching(self, query: str) -> ColumnElement[bool]:
        """An exact email address by its blind index, or else a username prefix."""
        text = unicodedata.normalize("NFKC", query).strip()
        if "@" in text:
            return User.email_index == self._id.email_index(text)
        return User.username.startswith(text.casefold(), autoescape=True)

    def _user(self, db: Session, user_id: str, *, lock: bool = False) -> User:
        user = db.get(User, user_id, with_for_update=lock) if ID_SHAPE.fullmatch(user_id) else None
        if user is None:
            raise not_found("user")
        return user

    def _change(self, db: Session, change_id: str) -> RoleChange:
        found = None
        if ID_SHAPE.fullmatch(change_id):
            found = db.get(RoleChange, change_id, with_for_update=True)
        if found is None:
            raise not_found("role change")
        return found

    @staticmethod
    def _pending(db: Session, user_id: str) -> RoleChange | None:
        return db.scalar(
            select(RoleChange)
            .where(RoleChange.user_id == user_id, RoleChange.status == ROLE_CHANGE_REQUESTED)
            .limit(1)
        )

    def _record(
        self,
        db: Session,
        caller: Caller,
        event_type: str,
        subject: str | None,
        data: dict[str, Any],
    ) -> None:
        request_id = caller.request_id
        self._audit.record(db, event_type, caller.actor, subject, data, request_id=request_id)


class RuntimeConfiguration:
    """Lists and changes the run-time settings, auditing each change before and after."""

    def __init__(self, service: IdentityService, audit: AuditTrail) -> None:
        self._id = service.identity
        self._audit = audit

    def values(self, db: Session, keys: Sequence[RuntimeKey]) -> list[RuntimeValue]:
        """Every run-time setting in ``keys`` with the value in force."""
        rows = {row.key: row for row in db.scalars(select(RuntimeSetting))}
        return [self._value(key, rows.get(key.name)) for key in keys]

    def change(self, db: Session, caller: Caller, name: str, value: int) -> RuntimeValue:
        """Set a run-time setting within its range; audited as ``admin.config.changed``."""
        key = runtime_key(name)
        if key is None:
            raise ProblemError(
                NOT_FOUND, AdminReason.SETTING_UNKNOWN, f"no run-time setting {name}"
            )
        if not key.allows(value):
            raise ProblemError(
                INVALID_VALUE,
                AdminReason.SETTING_OUT_OF_RANGE,
                f"{name} must be between {key.minimum} and {key.maximum}",
                {"minimum": key.minimum, "maximum": key.maximum},
            )
        before = RuntimeSettings.current(db, self._id.settings, name)
        row = self._store(db, caller.user_id, name, value)
        facts = {"key": name, "before": before, "after": value}
        self._audit.record(
            db,
            "admin.config.changed",
            caller.actor,
            None,
            facts,
            request_id=caller.request_id,
        )
        return self._value(key, row)

    def _store(self, db: Session, admin_id: str, name: str, value: int) -> RuntimeSetting:
        now = self._id.clock.now_ns()
        stored = {"value": json.dumps(value), "updated_at_ns": now, "updated_by": admin_id}
        insert_if_absent(db, RuntimeSetting, {"key": name, **stored})  # concurrent first writers
        row = db.get(RuntimeSetting, name, with_for_update=True, populate_existing=True)
        if row is None:  # pragma: no cover - inserted just above in this transaction
            raise LookupError(name)
        row.value, row.updated_at_ns, row.updated_by = json.dumps(value), now, admin_id
        db.flush()
        return row

    def _value(self, key: RuntimeKey, row: RuntimeSetting | None) -> RuntimeValue:
        default: int = getattr(self._id.settings, key.name)
        stored = None if row is None else json.loads(row.value)
        return RuntimeValue(
            key=key,
            value=stored if isinstance(stored, int) else default,
            default=default,
            updated_at_ns=None if row is None else row.updated_at_ns,
            updated_by=None if row is None else row.updated_by,
        )


def _require_decidable(change: RoleChange, caller: Caller) -> None:
    """Refuse a decided change, and a decision by its requester or by the user it concerns."""
    if change.status != ROLE_CHANGE_REQUESTED:
        raise ProblemError(
            CONFLICT, AdminReason.ROLE_CHANGE_DECIDED, f"the role change is {change.status}"
        )
    if caller.user_id in {change.requested_by, change.user_id}:
        raise ProblemError(
            ACCESS_DENIED,
            AdminReason.SELF_APPROVAL,
            "another administrator must decide a change you requested or that concerns you",
        )


def checked_level(role: Role, level: AccessLevel | None) -> None:
    """Refuse a staff role without an access level, and a customer role with one."""
    staff = role in STAFF_ROLES
    if staff == (level is not None):
        return
    detail = "a staff role needs an access level" if staff else "only staff have access levels"
    raise ProblemError(INVALID_VALUE, AdminReason.ACCESS_LEVEL_INVALID, detail)


def _role_text(change: RoleChange) -> str:
    level = f" ({change.access_level})" if change.access_level else ""
    return f"{change.role}{level}"


def _value(level: AccessLevel | None) -> str | None:
    return None if level is None else level.value


def summary_of(user: User | Row[*tuple[Any, ...]]) -> UserSummary:
    """The list view of a user (a row or the columns of one)."""
    return UserSummary(
        id=user.id,
        username=user.username,
        role=user.role,
        access_level=user.access_level,
        status=user.status,
        created_at_ns=user.created_at_ns,
    )


def _search_facts(wanted: UserFilter, page: UserPage) -> dict[str, Any]:
    """What a search asked, without the email address it may have looked for."""
    by_email = wanted.query is not None and "@" in wanted.query
    return {
        "query": None if by_email else wanted.query,
        "by_email": by_email,
        "status": wanted.status,
        "role": wanted.role,
        "after": wanted.after,
        "returned": len(page.users),
    }


def _change_facts(change: RoleChange) -> dict[str, Any]:
    return {
        "role_change_id": change.id,
        "role": change.role,
        "access_level": change.access_level,
        "reason": change.reason,
        "requested_by": change.requested_by,
    }
