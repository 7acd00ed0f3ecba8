"""How long onboarding's records are kept, recorded on each record.

- A customer's identifying information (the application) is kept five years after the
  account is closed (31 CFR 1023.220(a)(3)(ii)(A)); the verification records (documents,
  MRZ results, checks) five years after they were made ((ii)(B)), which the closing rule
  always outlasts, so they share the application's end. While the account is open the end
  is not set: the records are kept.
- An applicant who never became a customer (rejected) is kept five years after the
  decision (31 CFR 1010.430(d)); one rejected for a confirmed sanctions match ten years
  (31 CFR 501.601, OFAC's recordkeeping period).
- Sanctions screening results are kept ten years after the latest screening (501.601).

Nothing deletes these records yet; ``deletable`` says when a record may go, for the
deletion on request that comes later.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.core.clock import Clock
from tradeguard.kyc.models import KycApplication, KycDocument
from tradeguard.kyc.records import CUSTOMER_RETENTION, Status, documents_of
from tradeguard.trading.models import TradingAccount

CIP_YEARS = 5
NOT_A_CUSTOMER_YEARS = 5
SANCTIONS_YEARS = 10
AFTER_CLOSE = CUSTOMER_RETENTION
ACCOUNT_CLOSED = "cip: account closed; 5 years from its closing (31 CFR 1023.220)"
NOT_A_CUSTOMER = "bsa: rejected applicant, 5 years from the decision (31 CFR 1010.430)"
SANCTIONS_MATCH = "ofac: confirmed sanctions match, 10 years from the decision (31 CFR 501.601)"
RETENTION = Actor.system("kyc.retention")


def years_after(ns: int, years: int) -> int:
    """The instant ``years`` calendar years after ``ns`` (29 February becomes 28 February)."""
    moment = datetime.fromtimestamp(ns / 1e9, UTC)
    try:
        later = moment.replace(year=moment.year + years)
    except ValueError:
        later = moment.replace(year=moment.year + years, day=28)
    return ns + round((later - moment).total_seconds()) * 1_000_000_000


def until_account_closes(application: KycApplication, documents: Sequence[KycDocument]) -> None:
    """An approved customer: kept while the account is open, five years after it closes."""
    _set(application, documents, CIP_YEARS, None, AFTER_CLOSE)


def after_rejection(
    application: KycApplication,
    documents: Sequence[KycDocument],
    now_ns: int,
    *,
    sanctions_match: bool,
) -> None:
    """A rejected applicant: five years from the decision, ten for a sanctions match."""
    years = SANCTIONS_YEARS if sanctions_match else NOT_A_CUSTOMER_YEARS
    basis = SANCTIONS_MATCH if sanctions_match else NOT_A_CUSTOMER
    _set(application, documents, years, years_after(now_ns, years), basis)


def after_screening(application: KycApplication, now_ns: int) -> None:
    """The screening result is kept ten years after this screening."""
    application.screening_retain_until_ns = years_after(now_ns, SANCTIONS_YEARS)


def deletable(application: KycApplication, now_ns: int) -> bool:
    """Whether every retention period of the application and its screening has ended."""
    if application.retain_until_ns is None:
        return False
    ends = (application.retain_until_ns, application.screening_retain_until_ns)
    return all(end <= now_ns for end in ends if end is not None)


def start_after_closing(db: Session, clock: Clock, audit: AuditTrail) -> int:
    """Start the five years of every approved customer whose account is now closed.

    The closing time counted is the time of the run (never earlier than the closing, so
    the period is never cut short); the number of applications started is returned.
    """
    query = (
        select(KycApplication)
        .join(TradingAccount, TradingAccount.id == KycApplication.account_id)
        .where(
            KycApplication.status == Status.APPROVED.value,
            KycApplication.retain_until_ns.is_(None),
            TradingAccount.status == "closed",
        )
    )
    now = clock.now_ns()
    started = 0
    for application in db.scalars(query):
        documents = documents_of(db, application.id)
        end = years_after(now, CIP_YEARS)
        _set(application, documents, CIP_YEARS, end, ACCOUNT_CLOSED)
        facts = {"application_id": application.id, "account_id": application.account_id}
        audit.record(db, "kyc.retention.started", RETENTION, application.id, facts | _ends(end))
        started += 1
    return started


def _ends(end: int) -> dict[str, object]:
    return {"retain_until_ns": end, "basis": ACCOUNT_CLOSED}


def _set(
    application: KycApplication,
    documents: Sequence[KycDocument],
    years: int,
    end: int | None,
    basis: str,
) -> None:
    application.retention_years, application.retain_until_ns = years, end
    application.retention_basis = basis
    for document in documents:
        document.retention_years, document.retain_until_ns = years, end
