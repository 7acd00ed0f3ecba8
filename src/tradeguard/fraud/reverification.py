"""Identity re-verification after a recovery: demanded, enforced, then marked done by staff.

A recovery demands it (``require``). Until staff mark the customer's identity verified
again (``complete``, audited), withdrawals and credential changes answer 403
``FRAUD_REVERIFICATION_REQUIRED`` (``enforce``): the emailed password reset stays open,
because it is how the customer gets back in.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.core.errors import ProblemError, ProblemType
from tradeguard.fraud.models import ReverificationRow

REVERIFICATION = ProblemType("fraud-reverification-required", "Identity verification needed", 403)
NOT_PENDING = ProblemType("fraud-reverification-not-pending", "Nothing to verify", 409)
REQUIRED = "FRAUD_REVERIFICATION_REQUIRED"


def require(db: Session, user_id: str, staff: Actor, now_ns: int) -> None:
    """Demand re-verification of the customer (again, if it was done before)."""
    row = db.get(ReverificationRow, user_id)
    if row is None:
        row = ReverificationRow(user_id=user_id)
        db.add(row)
    row.required_at_ns, row.required_by = now_ns, staff.id
    row.verified_at_ns, row.verified_by = None, None


def pending(db: Session, user_id: str) -> bool:
    """Whether the customer still has to be verified again."""
    row = db.get(ReverificationRow, user_id)
    return row is not None and row.verified_at_ns is None


def enforce(db: Session, user_id: str, action: str) -> None:
    """403 ``FRAUD_REVERIFICATION_REQUIRED`` while re-verification is pending."""
    if pending(db, user_id):
        raise reverification_required(action)


def reverification_required(action: str) -> ProblemError:
    """The customer must have their identity verified by staff before ``action``."""
    return ProblemError(
        REVERIFICATION,
        REQUIRED,
        "your account was secured after suspicious activity; contact support to verify "
        "your identity before you withdraw or change your sign-in details",
        {"action": action},
    )


def complete(  # noqa: PLR0913 - who marks whom, when and why
    db: Session, audit: AuditTrail, staff: Actor, user_id: str, *, reason: str, now_ns: int
) -> int:
    """Mark the customer's identity verified again (audited); 409 if nothing was pending."""
    row = db.get(ReverificationRow, user_id)
    if row is None or row.verified_at_ns is not None:
        raise ProblemError(
            NOT_PENDING, "FRAUD_REVERIFICATION_NOT_PENDING", "no re-verification is pending"
        )
    row.verified_at_ns, row.verified_by = now_ns, staff.id
    facts = {"required_at_ns": row.required_at_ns, "reason": reason}
    audit.record(db, "fraud.reverification.completed", staff, subject=user_id, data=facts)
    return now_ns
