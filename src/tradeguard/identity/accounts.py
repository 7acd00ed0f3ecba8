"""Accounts: sign-up, email verification, passwords (change and reset), IP allowlists.

Sign-up and password reset answer the same way, doing the same expensive work, whether
or not the address or name already has an account: what differs is only the email that
goes (after commit, off the request path) to the address given.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.audit.records import Actor
from tradeguard.core.errors import ProblemError
from tradeguard.core.ids import new_id
from tradeguard.core.permissions import Role
from tradeguard.identity.allowlist import allowed, normalize_allowlist, parse_allowlist
from tradeguard.identity.code_store import Channel, CodePurpose
from tradeguard.identity.kit import Identity
from tradeguard.identity.mfa.codes import CodeCheck
from tradeguard.identity.models import Consent, User
from tradeguard.identity.notices import address_of
from tradeguard.identity.origin import Origin
from tradeguard.identity.passwords import WeakPasswordError, normalize_password
from tradeguard.identity.problems import CONFLICT, WEAK_PASSWORD, AuthReason, invalid, unprocessable
from tradeguard.identity.session_news import EVERY_SESSION
from tradeguard.identity.sessions import ACTIVE, SUSPENDED, RevokeReason

USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,31}")
NOT_ADDRESS = r"@\s\x00-\x1f\x7f"
"""Never in an email address: the separator, whitespace and control characters."""
EMAIL = re.compile(
    rf"[^{NOT_ADDRESS}]{{1,64}}@[^{NOT_ADDRESS}]{{1,253}}\.[^{NOT_ADDRESS}.]{{2,63}}"
)
CONSENT_PURPOSES = frozenset(
    {"terms_of_service", "privacy_notice", "marketing_email", "analytics", "third_party_data"}
)
STATUS_EVENTS = {SUSPENDED: "auth.account.suspended", ACTIVE: "auth.account.reactivated"}
REQUIRED_CONSENTS = frozenset({"terms_of_service", "privacy_notice"})


def normalize_username(username: str) -> str:
    """The stored form of a username: NFKC, case-folded; 422 when not allowed."""
    name = unicodedata.normalize("NFKC", username).strip().casefold()
    if not USERNAME.fullmatch(name):
        raise unprocessable("a username is 3-32 characters: letters, digits, dot, dash, underscore")
    return name


def normalize_email(email: str) -> str:
    """The stored form of an email address (trimmed; domain lower-cased)."""
    address = unicodedata.normalize("NFKC", email).strip()
    if len(address) > 254 or not EMAIL.fullmatch(address):  # noqa: PLR2004 - RFC 5321 path limit
        raise unprocessable("not an email address")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True, slots=True)
class Registration:
    """What a person signs up with."""

    username: str
    email: str
    password: str
    consents: Sequence[str]


class Accounts:
    """Sign-up, verification, password changes and account settings."""

    def __init__(self, identity: Identity) -> None:
        self._id = identity

    def register(self, db: Session, form: Registration, origin: Origin) -> None:
        """Create the account (or tell the address's owner why not); same answer either way."""
        username, email = normalize_username(form.username), normalize_email(form.email)
        consents = _checked_consents(form.consents)
        password = self._checked_password(form.password, username, email)
        password_hash = self._id.hasher.hash(password)
        if self.find_by_email(db, email) is not None:
            self._id.notices.already_registered(db, email)
            self._id.events.record(db, "auth.register.duplicate", origin, user_id=None)
            return
        if db.scalar(select(User.id).where(User.username == username)) is not None:
            self._id.notices.username_taken(db, email)
            self._id.events.record(db, "auth.register.username_taken", origin, user_id=None)
            return
        user = self._create(db, username, email, password_hash, consents)
        self._id.events.record(
            db, "auth.register.created", origin, user_id=user.id, data={"consents": consents}
        )
        self._send_verification(db, user)

    def verify_email(self, db: Session, email: str, code: str, origin: Origin) -> None:
        """Mark the address verified when ``code`` is right; the same refusal otherwise."""
        user = self.find_by_email(db, normalize_email(email))
        outcome = (
            CodeCheck.WRONG
            if user is None
            else self._id.codes.check(db, user.id, CodePurpose.VERIFY_EMAIL, code)
        )
        if user is None or outcome is not CodeCheck.ACCEPTED:
            raise invalid(AuthReason.CODE_INVALID, "the code is wrong or has expired").kept()
        if user.email_verified_at_ns is None:
            user.email_verified_at_ns = self._id.clock.now_ns()
        self._id.events.record(db, "auth.email.verified", origin, user_id=user.id)

    def resend_verification(self, db: Session, email: str) -> None:
        """Send a new verification code to an unverified address (silently nothing else)."""
        user = self.find_by_email(db, normalize_email(email))
        if user is None or user.email_verified_at_ns is not None:
            return
        if self._id.codes.send_allowed(db, user.id, CodePurpose.VERIFY_EMAIL) == 0:
            self._send_verification(db, user)

    def find_by_login(self, db: Session, login: str) -> User | None:
        """The user a sign-in name (username or email address) belongs to."""
        text = unicodedata.normalize("NFKC", login).strip()
        if "@" in text:
            return self.find_by_email(db, text)
        return db.scalar(select(User).where(User.username == text.casefold()))

    def find_by_email(self, db: Session, email: str) -> User | None:
        """The user with this email address, found by its blind index."""
        return db.scalar(select(User).where(User.email_index == self._id.email_index(email)))

    def change_password(
        self, db: Session, user: User, new_password: str, origin: Origin, *, reason: str
    ) -> None:
        """Set a new password; every session of the user ends."""
        if reason != RevokeReason.PASSWORD_RESET:  # a reset is the way back from a takeover
            self._id.risk_checks.check(db, user, origin, "credential_change")
        password = self._checked_password(new_password, user.username, user.email)
        user.password_hash = self._id.hasher.hash(password)
        user.password_changed_at_ns = self._id.clock.now_ns()
        self._id.sessions.revoke_all(db, user.id, reason, origin)
        self._id.events.record(
            db, "auth.password.changed", origin, user_id=user.id, data={"via": reason}
        )
        self._id.notices.security(
            db,
            address_of(user),
            "password_changed",
            "Your password was changed",
            "The password of your TradeGuard account was changed and every session signed out.",
        )

    def forgot_password(self, db: Session, email: str, origin: Origin) -> None:
        """Email a reset code to the address if it has an account; the same answer if not."""
        user = self.find_by_email(db, normalize_email(email))
        self._id.events.record(
            db, "auth.password.reset_requested", origin, user_id=user.id if user else None
        )
        if user is None:
            return
        if self._id.codes.send_allowed(db, user.id, CodePurpose.RESET_PASSWORD):
            return  # silently: a 429 here would tell who has an account
        code = self._id.codes.issue(db, user.id, CodePurpose.RESET_PASSWORD, Channel.EMAIL)
        self._id.notices.password_reset(db, address_of(user), code)

    def reset_password(
        self, db: Session, email: str, code: str, new_password: str, origin: Origin
    ) -> None:
        """Set a new password with an emailed code; every session and API key ends.

        Signing in afterwards still needs the second factor.
        """
        user = self.find_by_email(db, normalize_email(email))
        outcome = (
            CodeCheck.WRONG
            if user is None
            else self._id.codes.check(db, user.id, CodePurpose.RESET_PASSWORD, code)
        )
        if user is None or outcome is not CodeCheck.ACCEPTED:
            raise invalid(AuthReason.CODE_INVALID, "the code is wrong or has expired").kept()
        self.change_password(db, user, new_password, origin, reason=RevokeReason.PASSWORD_RESET)
        # A reset is a recovery: whatever credential someone else may have made while
        # they held the account (API keys) ends with it, in this transaction.
        self._id.credential_resets.reset(db, user, origin, RevokeReason.PASSWORD_RESET)

    def start_email_change(self, db: Session, user: User, new_email: str, origin: Origin) -> None:
        """Send a code to the new address; the change happens when it comes back."""
        self._id.risk_checks.check(db, user, origin, "profile_change")
        user.pending_email = normalize_email(new_email)
        code = self._id.codes.issue(db, user.id, CodePurpose.CHANGE_EMAIL, Channel.EMAIL)
        self._id.notices.verification(
            db, user.pending_email, code, self._id.notices.link("/account")
        )
        self._id.events.record(db, "auth.email.change_requested", origin, user_id=user.id)

    def confirm_email_change(self, db: Session, user: User, code: str, origin: Origin) -> None:
        """Switch to the pending address with the code it received; the old one is told."""
        outcome = self._id.codes.check(db, user.id, CodePurpose.CHANGE_EMAIL, code)
        if user.pending_email is None or outcome is not CodeCheck.ACCEPTED:
            raise invalid(AuthReason.CODE_INVALID, "the code is wrong or has expired").kept()
        if self.find_by_email(db, user.pending_email) is not None:
            raise ProblemError(CONFLICT, AuthReason.CODE_INVALID, "the address has an account")
        old = address_of(user)
        user.email, user.pending_email = user.pending_email, None
        user.email_verified_at_ns = self._id.clock.now_ns()
        self._id.events.record(db, "auth.email.changed", origin, user_id=user.id)
        self._id.notices.security(
            db,
            old,
            "email_changed",
            "Your email address was changed",
            "The email address of your TradeGuard account was changed to another one.",
        )

    def set_status(  # noqa: PLR0913 - whose account, what status, who decides and why
        self, db: Session, user: User, status: str, origin: Origin, *, by: Actor, reason: str
    ) -> None:
        """Suspend (every session ends at once) or reactivate an account; audited."""
        if status not in STATUS_EVENTS:
            raise invalid(AuthReason.ACCOUNT_SUSPENDED, f"unknown account status {status!r}")
        user.status = status
        if status == SUSPENDED:
            self._id.sessions.revoke_all(db, user.id, RevokeReason.SUSPENDED, origin)
        self._id.sessions.cache.changed_on_commit(db, EVERY_SESSION)
        self._id.events.record(
            db,
            STATUS_EVENTS[status],
            origin,
            user_id=user.id,
            actor=by,
            data={"reason": reason},
        )

    def set_ip_allowlist(
        self, db: Session, user: User, cidrs: Sequence[str], origin: Origin
    ) -> list[str]:
        """Replace the account's IP allowlist (empty: any address); takes effect at once."""
        networks = normalize_allowlist(cidrs)
        if networks and not _allows(networks, origin.ip):
            raise invalid(
                AuthReason.IP_NOT_ALLOWED, "the allowlist must include the address you use now"
            )
        user.ip_allowlist = json.dumps(networks) if networks else None
        self._id.sessions.cache.changed_on_commit(db, EVERY_SESSION)
        self._id.events.record(
            db, "auth.ip_allowlist.changed", origin, user_id=user.id, data={"networks": networks}
        )
        return networks

    def password_hash(self, password: str, username: str, email: str) -> str:
        """The hash of a new password, refused (422) when the policy does not allow it."""
        return self._id.hasher.hash(self._checked_password(password, username, email))

    def _checked_password(self, password: str, username: str, email: str) -> str:
        normalized = normalize_password(password)
        try:
            self._id.policy.check(normalized, user_inputs=(username, email.partition("@")[0]))
        except WeakPasswordError as exc:
            raise ProblemError(WEAK_PASSWORD, exc.reason, str(exc)) from None
        return normalized

    def _create(
        self, db: Session, username: str, email: str, password_hash: str, consents: list[str]
    ) -> User:
        now = self._id.clock.now_ns()
        user = User(
            id=str(new_id(self._id.clock)),
            username=username,
            email=email,
            password_hash=password_hash,
            password_changed_at_ns=now,
            role=Role.TRADER.value,
            status=ACTIVE,
            permission_version=1,
            created_at_ns=now,
        )
        db.add(user)
        db.flush()
        db.add_all(Consent(user_id=user.id, purpose=p, granted_at_ns=now) for p in consents)
        return user

    def _send_verification(self, db: Session, user: User) -> None:
        code = self._id.codes.issue(db, user.id, CodePurpose.VERIFY_EMAIL, Channel.EMAIL)
        query = urlencode({"email": user.email, "code": code})
        self._id.notices.verification(
            db, user.email, code, self._id.notices.link(f"/verify-email?{query}")
        )


def _checked_consents(consents: Sequence[str]) -> list[str]:
    given = sorted(set(consents))
    unknown = [purpose for purpose in given if purpose not in CONSENT_PURPOSES]
    if unknown:
        raise unprocessable(f"unknown consent purpose {unknown[0]!r}")
    missing = sorted(REQUIRED_CONSENTS - set(given))
    if missing:
        raise unprocessable(f"consent required: {', '.join(missing)}")
    return given


def _allows(networks: list[str], ip: str | None) -> bool:
    return allowed(parse_allowlist(json.dumps(networks)), ip)
