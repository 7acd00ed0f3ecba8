"""Reading and writing an application's stored parts; the statuses of the workflow."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.core.clock import Clock
from tradeguard.core.ids import new_id
from tradeguard.kyc.answers import Stored
from tradeguard.kyc.models import KycApplication, KycDocument
from tradeguard.kyc.problems import not_found
from tradeguard.trading.models import TradingAccount

CUSTOMER_RETENTION = "cip: 5 years after the account closes (31 CFR 1023.220)"


class Status(StrEnum):
    """Where an application stands (docs/onboarding.md draws the machine)."""

    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    PENDING_SECOND_REVIEW = "pending_second_review"
    SCREENING_REVIEW = "screening_review"
    INFO_REQUESTED = "info_requested"
    APPROVED = "approved"
    REJECTED = "rejected"


HELD_ACCOUNT = "held_account"
"""The screening member naming the account a rescreen hit restricted (lifted on clearing)."""
EDITABLE = frozenset({Status.DRAFT, Status.INFO_REQUESTED})
IN_REVIEW = frozenset(
    {Status.PENDING_REVIEW, Status.PENDING_SECOND_REVIEW, Status.SCREENING_REVIEW}
)


def stored_of(application: KycApplication) -> Stored:
    """The application's answers as the checks read them."""
    return Stored(
        answers=json.loads(application.answers),
        tax_id=application.tax_id,
        account_kind=application.account_kind,
        agreements=json.loads(application.agreements),
    )


def application_of_user(db: Session, user_id: str, *, lock: bool = False) -> KycApplication | None:
    """The user's application, if they started one."""
    query = select(KycApplication).where(KycApplication.user_id == user_id)
    return db.scalars(query.with_for_update() if lock else query).one_or_none()


def application_by_id(db: Session, application_id: str, *, lock: bool = False) -> KycApplication:
    """An application by id; 404 if there is none."""
    found = db.get(KycApplication, application_id, with_for_update=lock)
    if found is None:
        raise not_found("application")
    return found


def documents_of(db: Session, application_id: str) -> list[KycDocument]:
    """The application's documents, oldest first."""
    query = select(KycDocument).where(KycDocument.application_id == application_id)
    return list(db.scalars(query.order_by(KycDocument.uploaded_at_ns, KycDocument.id)))


def duplicate_tax_ids(db: Session, application: KycApplication) -> int:
    """How many other applications hold the same tax id (by its blind index)."""
    if application.tax_id_index is None:
        return 0
    query = select(func.count()).where(
        KycApplication.tax_id_index == application.tax_id_index,
        KycApplication.id != application.id,
    )
    return int(db.scalar(query) or 0)


def masked_tax_id(tax_id: str | None) -> str | None:
    """``***-**-1234``: what is shown of a tax id."""
    return None if tax_id is None else f"***-**-{tax_id[-4:]}"


def document_json(document: KycDocument) -> dict[str, Any]:
    """A document as listed: kind, side, type, size and MRZ result; never its content."""
    return {
        "id": document.id,
        "kind": document.kind,
        "side": document.side,
        "media_type": document.media_type,
        "size": document.size,
        "mrz": json.loads(document.mrz_result),
    }


def record_staff_opening(  # noqa: PLR0913, PLR0917 - what the opening is and who made it
    db: Session,
    audit: AuditTrail,
    clock: Clock,
    actor: Actor,
    user_id: str,
    account: TradingAccount,
) -> KycApplication:
    """The application behind an account opened by the development shortcut, approved.

    ``tradeguard accounts open`` skips the customer's answers and documents: the record
    says so (``KYC_STAFF_OPENED``), names the operator and keeps the retention period.
    """
    now = clock.now_ns()
    application = application_of_user(db, user_id) or KycApplication(
        id=str(new_id(clock)), user_id=user_id, answers="{}", created_at_ns=now, version=0
    )
    application.status = Status.APPROVED.value
    application.account_kind, application.account_class = account.kind, "client"
    application.account_id, application.decided_by = account.id, actor.id
    application.decision_reason = "KYC_STAFF_OPENED"
    application.decided_at_ns = application.updated_at_ns = now
    application.version += 1
    db.add(application)
    application.retention_years, application.retention_basis = 5, CUSTOMER_RETENTION
    facts = {"application_id": application.id, "user_id": user_id, "account_id": account.id}
    audit.record(db, "kyc.application.staff_opened", actor, application.id, facts)
    return application
