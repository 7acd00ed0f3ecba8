"""Staff invitations: the first administrator, new staff, and two administrators for an admin.

``bootstrap_admin`` issues the first administrator's one-time enrolment link; it is refused
once any administrator exists. ``invite`` is an administrator's: compliance officers and
support agents are invited at once; an administrator is invited only when a second
administrator approves (``decide``), the two-admin rule of role changes. While the
inviter is the only administrator nobody could approve, so that invitation goes out at
once and compliance is told.

A link is 256 random bits, stored as its SHA-256 digest, used once, and lives
``staff_enrolment_link_hours``. The invited address is stored encrypted (found by its
blind index) until the link is used, replaced or refused, then forgotten. Every step is
audited (``staff.bootstrap.*``, ``staff.invite.*``); refusals too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import false, or_, select, text, update
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.access.models import StaffInvite
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.core.clock import NS_PER_SECOND, ns_to_rfc3339
from tradeguard.core.errors import VALIDATION_FAILED, ProblemError
from tradeguard.core.ids import new_id
from tradeguard.core.permissions import AccessLevel, Permission, Role, permissions_of
from tradeguard.identity.accounts import normalize_email
from tradeguard.identity.models import User
from tradeguard.identity.notices import VerifiedAddress, address_of
from tradeguard.identity.origin import Origin
from tradeguard.identity.problems import ACCESS_DENIED, CONFLICT, not_found
from tradeguard.identity.secrets import random_token, token_digest
from tradeguard.identity.service import IdentityService
from tradeguard.identity.sessions import ACTIVE
from tradeguard.notify.messages import mask_email

BOOTSTRAP = "bootstrap"
INVITATION = "invitation"
AWAITING_APPROVAL = "awaiting_approval"
SENT = "sent"
REDEEMED = "redeemed"
DENIED = "denied"
REPLACED = "replaced"
EXPIRED = "expired"
"""Shown for a sent link past its lifetime (never stored: time decides it)."""
OPEN = (AWAITING_APPROVAL, SENT)
ENROLMENT_PATH = "/staff/enrol"
HOUR_NS = 3600 * NS_PER_SECOND
LINK_BYTES = 32
BOOTSTRAP_LOCK = "tradeguard/staff-bootstrap"
LEVEL_OF_ROLE = {
    Role.ADMIN: AccessLevel.ADMIN,
    Role.COMPLIANCE: AccessLevel.READ_ONLY,
    Role.SUPPORT: AccessLevel.READ_ONLY,
}
"""The access level an invitation gives when none is named: read-only, an administrator's admin."""


class StaffReason(StrEnum):
    """Stable reason codes of refused staff bootstrap, invitation and enrolment requests."""

    ADMIN_EXISTS = "STAFF_ADMIN_EXISTS"
    NOT_ADMIN = "STAFF_INVITER_NOT_ADMIN"
    EMAIL_INVALID = "STAFF_EMAIL_INVALID"
    EMAIL_HAS_ACCOUNT = "STAFF_EMAIL_HAS_ACCOUNT"
    ROLE_INVALID = "STAFF_ROLE_INVALID"
    INVITE_DECIDED = "STAFF_INVITE_DECIDED"
    SELF_APPROVAL = "STAFF_SELF_APPROVAL"
    LINK_INVALID = "STAFF_LINK_INVALID"
    USERNAME_TAKEN = "STAFF_USERNAME_TAKEN"


@dataclass(frozen=True, slots=True)
class Operator:
    """Who runs a staff command and from where: the person at a terminal, or an API caller."""

    actor: Actor
    origin: Origin

    @classmethod
    def of(cls, caller: Caller) -> Operator:
        """The signed-in caller of a request."""
        return cls(caller.actor, caller.origin)


@dataclass(frozen=True, slots=True)
class InviteRequest:
    """Whom to invite, as what; no access level means the role's default."""

    email: str
    role: Role
    access_level: AccessLevel | None = None


@dataclass(frozen=True, slots=True)
class IssuedInvite:
    """An invitation and its link (None while it awaits a second administrator)."""

    invite: StaffInvite
    link: str | None
    sole_admin: bool = False


def status_of(invite: StaffInvite, now_ns: int) -> str:
    """The invitation's status as people see it: a sent link past its lifetime is expired."""
    if invite.status == SENT and (invite.link_expires_at_ns or 0) <= now_ns:
        return EXPIRED
    return invite.status


def checked_email(email: str) -> str:
    """The stored form of an invited address; 422 ``STAFF_EMAIL_INVALID`` when it is none."""
    try:
        return normalize_email(email)
    except ProblemError:
        raise ProblemError(
            VALIDATION_FAILED,
            StaffReason.EMAIL_INVALID,
            "not an email address: give one like name@example.com",
        ) from None


def lock_bootstrap(db: Session) -> None:
    """Serialize bootstrapping until the transaction ends (at most one first administrator).

    PostgreSQL takes a transaction-scoped advisory lock; SQLite has one writer, and a no-op
    UPDATE takes its write lock before anything is read.
    """
    if db.get_bind(StaffInvite).dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key()})
        return
    no_op = update(StaffInvite).where(false()).values(status=StaffInvite.status)
    db.execute(no_op, execution_options={"synchronize_session": False})


def admin_exists(db: Session) -> bool:
    """Whether any administrator account exists (active or suspended)."""
    return db.scalar(select(User.id).where(User.role == Role.ADMIN.value).limit(1)) is not None


def forget_address(invite: StaffInvite, status: str) -> None:
    """Close an invitation: its address is no longer needed, so it is not kept."""
    invite.status = status
    invite.email = None
    invite.email_index = None


class StaffInvites:
    """Issues enrolment links: the first administrator's, and administrators' invitations."""

    def __init__(self, service: IdentityService, audit: AuditTrail) -> None:
        self._service = service
        self._id = service.identity
        self._audit = audit

    def bootstrap_admin(self, db: Session, email: str, by: Operator) -> IssuedInvite:
        """The first administrator's link; refused (audited) once an administrator exists.

        Running it again before the link is used replaces the earlier link.
        """
        address = checked_email(email)
        lock_bootstrap(db)
        if admin_exists(db):
            self._record(db, "staff.bootstrap.refused", by, None, {"reason": "admin_exists"})
            raise ProblemError(
                CONFLICT,
                StaffReason.ADMIN_EXISTS,
                "an administrator already exists; ask one to run "
                "`tradeguard staff invite EMAIL --role admin --as THEIR_USERNAME`",
            ).kept()
        self._refuse_account(db, address)
        replaced = self._replace_open(db, address, bootstrap=True)
        invite = self._new(db, address, BOOTSTRAP, (Role.ADMIN, AccessLevel.ADMIN), None)
        link = self._send_link(db, invite)
        facts = {**_facts(invite), "replaced": replaced, "operator": by.actor.id}
        self._record(db, "staff.bootstrap.link_issued", by, invite.id, facts)
        return IssuedInvite(invite, link)

    def acting_admin(self, db: Session, username: str, by: Operator) -> User:
        """The administrator a command acts as (``--as``), or a refusal (audited)."""
        return self._admin(db, self._service.accounts.find_by_login(db, username), by)

    def admin_of(self, db: Session, caller: Caller) -> User:
        """The signed-in administrator of a request, or a refusal (audited)."""
        return self._admin(db, db.get(User, caller.user_id), Operator.of(caller))

    def invite(self, db: Session, admin: User, wanted: InviteRequest, by: Operator) -> IssuedInvite:
        """Invite a new staff member; an administrator waits for a second one's approval."""
        address, role = checked_email(wanted.email), _staff_role(wanted.role)
        level = wanted.access_level or LEVEL_OF_ROLE[role]
        self._refuse_account(db, address)
        replaced = self._replace_open(db, address, bootstrap=False)
        invite = self._new(db, address, INVITATION, (role, level), admin.id)
        approvers = self._other_admins(db, admin.id) if role is Role.ADMIN else 0
        link = None if approvers else self._send_link(db, invite)
        sole_admin = role is Role.ADMIN and not approvers
        if sole_admin:
            self._tell_compliance(db, admin, invite)
        self._tell_inviter(db, admin, invite, by)
        facts = {**_facts(invite), "replaced": replaced, "sole_admin": sole_admin}
        self._record(db, "staff.invite.created", by, invite.id, facts, actor=_acting(admin, by))
        return IssuedInvite(invite, link, sole_admin)

    def decide(
        self, db: Session, admin: User, invite_id: str, by: Operator, *, approve: bool
    ) -> IssuedInvite:
        """Approve (the link goes out) or deny an invitation awaiting a second administrator."""
        invite = self._awaiting(db, invite_id, admin)
        invite.decided_by, invite.decided_at_ns = admin.id, self._id.clock.now_ns()
        link = None
        if approve:
            self._refuse_account(db, invite.email or "")
            link = self._send_link(db, invite)
        else:
            forget_address(invite, DENIED)
        event = "staff.invite.approved" if approve else "staff.invite.denied"
        self._record(db, event, by, invite.id, _facts(invite), actor=_acting(admin, by))
        return IssuedInvite(invite, link)

    def listed(self, db: Session, *, open_only: bool) -> list[StaffInvite]:
        """Invitations newest first: the open ones (awaiting approval or sent), or all."""
        query = select(StaffInvite).order_by(StaffInvite.requested_at_ns.desc(), StaffInvite.id)
        if open_only:
            query = query.where(StaffInvite.status.in_(OPEN))
        return list(db.scalars(query))

    def _admin(self, db: Session, user: User | None, by: Operator) -> User:
        if user is not None and self._is_admin(db, user):
            return user
        facts = {"reason": "not_admin", "named_user_id": None if user is None else user.id}
        self._record(db, "staff.invite.refused", by, None, facts)
        raise ProblemError(
            ACCESS_DENIED,
            StaffReason.NOT_ADMIN,
            "only an active administrator with a registered security key may invite staff "
            "or decide invitations (before the first one exists: `tradeguard staff "
            "bootstrap-admin EMAIL`)",
        ).kept()

    def _is_admin(self, db: Session, user: User) -> bool:
        """An active ADMIN whose level grants ``admin:users`` and who can sign in (a key)."""
        granted = permissions_of(user.role, user.access_level)
        return (
            user.role == Role.ADMIN.value
            and user.status == ACTIVE
            and Permission.ADMIN_USERS.value in granted
            and self._service.factors.has_factor(db, user.id)
        )

    def _other_admins(self, db: Session, admin_id: str) -> int:
        """How many other administrators could approve an invitation now."""
        query = select(User).where(
            User.role == Role.ADMIN.value, User.status == ACTIVE, User.id != admin_id
        )
        return sum(1 for user in db.scalars(query) if self._is_admin(db, user))

    def _refuse_account(self, db: Session, address: str) -> None:
        if self._service.accounts.find_by_email(db, address) is None:
            return
        raise ProblemError(
            CONFLICT,
            StaffReason.EMAIL_HAS_ACCOUNT,
            "that address already has an account: invite another address, or give the "
            "account a staff role with a role change approved by two administrators",
        )

    def _replace_open(self, db: Session, address: str, *, bootstrap: bool) -> list[str]:
        """Close the open invitations this one replaces (their links die); their ids."""
        matches = StaffInvite.email_index == self._id.email_index(address)
        if bootstrap:
            matches = or_(matches, StaffInvite.kind == BOOTSTRAP)
        query = select(StaffInvite).where(StaffInvite.status.in_(OPEN), matches)
        replaced = list(db.scalars(query.with_for_update()))
        for old in replaced:
            forget_address(old, REPLACED)
        return [old.id for old in replaced]

    def _new(
        self,
        db: Session,
        address: str,
        kind: str,
        grant: tuple[Role, AccessLevel],
        requested_by: str | None,
    ) -> StaffInvite:
        invite = StaffInvite(
            id=str(new_id(self._id.clock)),
            kind=kind,
            email=address,
            role=grant[0].value,
            access_level=grant[1].value,
            status=AWAITING_APPROVAL,  # until its link is sent
            requested_by=requested_by,
            requested_at_ns=self._id.clock.now_ns(),
        )
        db.add(invite)
        db.flush()
        return invite

    def _send_link(self, db: Session, invite: StaffInvite) -> str:
        """Make the invitation's one-time link, email it, and return it."""
        token = random_token(LINK_BYTES)
        hours = self._id.settings.staff_enrolment_link_hours
        invite.status = SENT
        invite.link_digest = token_digest(token)
        invite.link_expires_at_ns = self._id.clock.now_ns() + hours * HOUR_NS
        link = self._id.notices.link(f"{ENROLMENT_PATH}?token={token}")
        subject, body = _link_email(invite, link, hours)
        self._id.notices.email(db, invite.email or "", "staff.enrolment_link", subject, body)
        return link

    def _awaiting(self, db: Session, invite_id: str, admin: User) -> StaffInvite:
        invite = db.get(StaffInvite, invite_id, with_for_update=True)
        if invite is None or invite.kind != INVITATION:
            raise not_found("invitation")
        if invite.status != AWAITING_APPROVAL:
            raise ProblemError(
                CONFLICT, StaffReason.INVITE_DECIDED, f"the invitation is {invite.status}"
            )
        if invite.requested_by == admin.id:
            raise ProblemError(
                ACCESS_DENIED,
                StaffReason.SELF_APPROVAL,
                "another administrator must decide an invitation you made",
            )
        return invite

    def _tell_compliance(self, db: Session, admin: User, invite: StaffInvite) -> None:
        self._id.notices.email(
            db,
            VerifiedAddress(self._id.settings.compliance_email),
            "staff.sole_admin_invite",
            "An administrator was invited without a second approval",
            f"{admin.username}, the only administrator, invited {mask_email(invite.email or '')} "
            f"as an administrator (invitation {invite.id}). No second administrator existed "
            "to approve it; review it in the audit trail (staff.invite.created).",
        )

    def _tell_inviter(self, db: Session, admin: User, invite: StaffInvite, by: Operator) -> None:
        """Tell the administrator named as inviter, so one made in their name is noticed."""
        via = "" if by.actor.id == admin.id else f" from the command line ({by.actor.id})"
        self._id.notices.security(
            db,
            address_of(admin),
            "staff_invite",
            "You invited a staff member",
            f"{mask_email(invite.email or '')} was invited as {_grant_text(invite)} in your "
            f"name{via}.",
        )

    def _record(  # noqa: PLR0913 - the facts of an audit event
        self,
        db: Session,
        event_type: str,
        by: Operator,
        subject: str | None,
        data: dict[str, Any],
        *,
        actor: Actor | None = None,
    ) -> None:
        """Audit ``event_type``, by ``actor`` (default: the operator) from the operator's origin."""
        self._audit.record(
            db, event_type, actor or by.actor, subject, data, request_id=by.origin.request_id
        )


def _staff_role(role: Role) -> Role:
    if role is Role.TRADER:
        raise ProblemError(
            VALIDATION_FAILED, StaffReason.ROLE_INVALID, "invite compliance, support or admin"
        )
    return role


def _acting(admin: User, by: Operator) -> Actor:
    """The administrator as the actor, from where the command or request came."""
    return Actor("staff", admin.id, ip=by.actor.ip, session_id=by.actor.session_id)


def _facts(invite: StaffInvite) -> dict[str, Any]:
    expires = invite.link_expires_at_ns
    return {
        "invite_id": invite.id,
        "kind": invite.kind,
        "role": invite.role,
        "access_level": invite.access_level,
        "status": invite.status,
        "requested_by": invite.requested_by,
        "link_expires_at": None if expires is None else ns_to_rfc3339(expires),
    }


def _grant_text(invite: StaffInvite) -> str:
    return f"{invite.role} ({invite.access_level})"


def _link_email(invite: StaffInvite, link: str, hours: int) -> tuple[str, str]:
    what = (
        "the first administrator of this TradeGuard installation"
        if invite.kind == BOOTSTRAP
        else f"a TradeGuard staff member: {_grant_text(invite)}"
    )
    body = (
        f"You are invited to become {what}.\n\n"
        f"Open this link to choose your username and password and to register the security "
        f"key you will sign in with:\n{link}\n\n"
        f"The link works once and expires in {hours} hours. If you did not expect this "
        "message, ignore it and tell your security team."
    )
    return "Set up your TradeGuard staff account", body


def _lock_key() -> int:
    digest = hashlib.blake2b(BOOTSTRAP_LOCK.encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)
