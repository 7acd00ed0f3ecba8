"""Account-takeover recovery, for staff: contain, reset, re-verify, review, then release.

``recover`` does in one transaction: end every session (their refresh tokens with
them) and every API key (identity's credential-reset subscribers), make the password
unusable so that only the emailed reset sets a new one, require identity
re-verification (enforced: ``reverification``), keep the fraud lock on, and tell the
customer. ``recent_activity`` is the customer's trail for the review (sign-ins, changes,
orders, decisions). A fraudulent execution is reversed by the trading controls'
compensating entries (``trading.controls.busts``). Every step is audited with the staff
member as actor.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tradeguard.audit.records import Actor
from tradeguard.audit.search import AuditEvent, AuditQuery, search
from tradeguard.core.errors import NOT_FOUND, ProblemError
from tradeguard.fraud import reverification
from tradeguard.fraud.guard import LOCK_MINUTES, FraudGuard
from tradeguard.fraud.profiles import NS
from tradeguard.identity.kit import Identity
from tradeguard.identity.models import User
from tradeguard.identity.notices import address_of
from tradeguard.identity.origin import Origin

RECOVERY = "fraud_recovery"
ACTIVITY_DAYS = 7
ACTIVITY_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Recovered:
    """What a recovery ended and until when the account stays locked."""

    user_id: str
    sessions_ended: int
    locked_until_ns: int


def user_or_404(db: Session, user_id: str) -> User:
    """The user; 404 when there is none."""
    user = db.get(User, user_id)
    if user is None:
        raise ProblemError(NOT_FOUND, "FRAUD_USER_NOT_FOUND", "no such user")
    return user


@dataclass(frozen=True, slots=True)
class Recovery:
    """Who recovers whose account, from where, and why."""

    staff: Actor
    origin: Origin
    user_id: str
    reason: str


def recover(db: Session, identity: Identity, guard: FraudGuard, asked: Recovery) -> Recovered:
    """Contain a taken-over account and start its recovery (see the module's steps)."""
    staff, origin, reason = asked.staff, asked.origin, asked.reason
    user = user_or_404(db, asked.user_id)
    ended = identity.sessions.revoke_all(db, user.id, RECOVERY, origin)
    identity.credential_resets.reset(db, user, origin, RECOVERY)
    user.password_hash = identity.hasher.hash(secrets.token_urlsafe(32))
    until = guard.lock(user.id, LOCK_MINUTES * 60 * NS * 48)
    reverification.require(db, user.id, staff, guard.clock.now_ns())
    facts = {
        "reason": reason,
        "sessions_ended": ended,
        "password_reset_required": True,
        "reverification_required": True,
        "locked_until_ns": until,
    }
    guard.audit.record(db, "fraud.recovery.started", staff, subject=user.id, data=facts)
    identity.notices.security(
        db,
        address_of(user),
        "account_recovery",
        "We secured your account",
        "We saw activity on your account that may not be yours. Every session has been "
        "signed out. Reset your password and verify your identity to use it again.",
    )
    return Recovered(user.id, ended, until)


def recent_activity(db: Session, guard: FraudGuard, staff: Actor, user_id: str) -> list[AuditEvent]:
    """The customer's own events of the last week, newest last; the reading audited."""
    user = user_or_404(db, user_id)
    since = max(guard.clock.now_ns() - ACTIVITY_DAYS * 86_400 * NS, 0)
    by_user = search(db, AuditQuery(actor_id=user.id, since_ns=since, limit=ACTIVITY_LIMIT))
    about_user = search(db, AuditQuery(subject=user.id, since_ns=since, limit=ACTIVITY_LIMIT))
    merged = {event.seq: event for event in (*by_user.events, *about_user.events)}
    guard.audit.record(db, "fraud.activity.viewed", staff, subject=user.id, data={})
    return [merged[seq] for seq in sorted(merged)]


def decisions_of(db: Session, guard: FraudGuard, staff: Actor, user_id: str) -> list[AuditEvent]:
    """The customer's fraud decisions (score, model, reasons); the reading audited."""
    found = search(
        db, AuditQuery(subject=user_id, event_type="fraud.decision", limit=ACTIVITY_LIMIT)
    )
    guard.audit.record(db, "fraud.decisions.viewed", staff, subject=user_id, data={})
    return list(found.events)
