"""Staff enrolment: a one-time link becomes a staff account, signed in to enrol its key.

The person with the link chooses a username and a password. The link is checked first and
spent last: a refused name or password leaves it usable, and two requests with one link
cannot both succeed (the invitation row is write-locked before it is read). The account
is created active with its address verified (the link was sent there), and an
enrolment-only session opens in which the only thing to do is register a security key
(see ``tradeguard.identity.factors``); once one is registered the session becomes a full
one. A first administrator's link is refused if an administrator appeared meanwhile.
Every refused link is audited (``staff.link.refused``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tradeguard.access.models import StaffInvite
from tradeguard.access.staff_invites import (
    BOOTSTRAP,
    REDEEMED,
    REPLACED,
    SENT,
    StaffReason,
    admin_exists,
    forget_address,
    lock_bootstrap,
    status_of,
)
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.core.errors import ProblemError
from tradeguard.core.ids import new_id
from tradeguard.identity.accounts import normalize_username
from tradeguard.identity.events import ANONYMOUS
from tradeguard.identity.mfa.webauthn import AuthenticatorKind
from tradeguard.identity.models import User
from tradeguard.identity.origin import Origin
from tradeguard.identity.problems import CONFLICT, INVALID_REQUEST
from tradeguard.identity.secrets import token_digest
from tradeguard.identity.service import IdentityService
from tradeguard.identity.sessions import ACTIVE, IssuedTokens

UNUSABLE_LINK = {
    "unknown": "this link is not valid; ask an administrator for a new invitation",
    "expired": "this link has expired; ask an administrator for a new invitation",
    "redeemed": "this link was already used; sign in at /signin",
    "replaced": "a newer link replaced this one; open the newest email",
    "denied": "this invitation was denied",
}
ACCEPTED_EVENTS = {BOOTSTRAP: "staff.bootstrap.admin_created"}
ACCEPTED_EVENT = "staff.invite.accepted"


@dataclass(frozen=True, slots=True)
class EnrolmentForm:
    """What the person with the link chooses."""

    token: str
    username: str
    password: str


@dataclass(frozen=True, slots=True)
class Enrolled:
    """The new staff account, its enrolment-only session, and the keys it may register."""

    user: User
    tokens: IssuedTokens
    authenticators: tuple[AuthenticatorKind, ...]


class StaffEnrolment:
    """Turns one-time staff enrolment links into accounts."""

    def __init__(self, service: IdentityService, audit: AuditTrail) -> None:
        self._service = service
        self._id = service.identity
        self._audit = audit

    def redeem(self, db: Session, form: EnrolmentForm, origin: Origin) -> Enrolled:
        """Create the invited account, spend the link, and open an enrolment-only session."""
        invite = self._usable(db, form.token, origin)
        username = self._free_username(db, form.username)
        address = invite.email or ""
        password_hash = self._service.accounts.password_hash(form.password, username, address)
        self._still_allowed(db, invite, address, origin)
        user = self._create(db, invite, username, password_hash)
        invite.user_id, invite.redeemed_at_ns = user.id, self._id.clock.now_ns()
        forget_address(invite, REDEEMED)
        actor = Actor("staff", user.id, ip=origin.ip)
        event = ACCEPTED_EVENTS.get(invite.kind, ACCEPTED_EVENT)
        self._audit.record(
            db, event, actor, user.id, _accepted_facts(invite, user), request_id=origin.request_id
        )
        tokens = self._service.sign_in.enrolment_session(db, user, origin)
        return Enrolled(user, tokens, self.authenticators())

    def authenticators(self) -> tuple[AuthenticatorKind, ...]:
        """The kinds of WebAuthn authenticator that count as a staff key here."""
        if self._id.settings.staff_platform_keys_allowed:
            return (AuthenticatorKind.SECURITY_KEY, AuthenticatorKind.PLATFORM)
        return (AuthenticatorKind.SECURITY_KEY,)

    def _usable(self, db: Session, token: str, origin: Origin) -> StaffInvite:
        """The sent, unexpired invitation the link names, write-locked; else a refusal."""
        digest = token_digest(token)
        # SQLite ignores FOR UPDATE: the no-op write takes its lock first, so a second
        # request with the same link waits and then finds the link spent.
        db.execute(
            update(StaffInvite)
            .where(StaffInvite.link_digest == digest)
            .values(status=StaffInvite.status)
            .execution_options(synchronize_session=False)
        )
        query = select(StaffInvite).where(StaffInvite.link_digest == digest).with_for_update()
        invite = db.scalar(query)
        state = "unknown" if invite is None else status_of(invite, self._id.clock.now_ns())
        if invite is None or state != SENT:
            raise self._refused(db, invite, state, origin)
        return invite

    def _free_username(self, db: Session, username: str) -> str:
        name = normalize_username(username)
        if db.scalar(select(User.id).where(User.username == name)) is not None:
            raise ProblemError(
                CONFLICT, StaffReason.USERNAME_TAKEN, "that username is taken; choose another"
            )
        return name

    def _still_allowed(
        self, db: Session, invite: StaffInvite, address: str, origin: Origin
    ) -> None:
        """Refuse a first admin's link once an admin exists; an address that got an account."""
        if invite.kind == BOOTSTRAP:
            lock_bootstrap(db)
            if admin_exists(db):
                forget_address(invite, REPLACED)
                raise self._refused(db, invite, "replaced", origin)
        if self._service.accounts.find_by_email(db, address) is not None:
            raise ProblemError(
                CONFLICT,
                StaffReason.EMAIL_HAS_ACCOUNT,
                "the invited address has an account by now; ask an administrator to give "
                "that account a staff role instead",
            )

    def _create(self, db: Session, invite: StaffInvite, username: str, password_hash: str) -> User:
        now = self._id.clock.now_ns()
        user = User(
            id=str(new_id(self._id.clock)),
            username=username,
            email=invite.email,
            email_verified_at_ns=now,  # the link reached this address
            password_hash=password_hash,
            password_changed_at_ns=now,
            role=invite.role,
            access_level=invite.access_level,
            status=ACTIVE,
            permission_version=1,
            created_at_ns=now,
        )
        db.add(user)
        db.flush()
        return user

    def _refused(
        self, db: Session, invite: StaffInvite | None, state: str, origin: Origin
    ) -> ProblemError:
        """The refusal of an unusable link, audited (and kept, though the request fails)."""
        actor = Actor("user", ANONYMOUS, ip=origin.ip)
        subject = None if invite is None else invite.id
        facts = {"state": state}
        self._audit.record(
            db, "staff.link.refused", actor, subject, facts, request_id=origin.request_id
        )
        detail = UNUSABLE_LINK.get(state, UNUSABLE_LINK["unknown"])
        return ProblemError(INVALID_REQUEST, StaffReason.LINK_INVALID, detail, facts).kept()


def _accepted_facts(invite: StaffInvite, user: User) -> dict[str, str | None]:
    return {
        "invite_id": invite.id,
        "kind": invite.kind,
        "role": user.role,
        "access_level": user.access_level,
        "username": user.username,
        "requested_by": invite.requested_by,
    }
