"""The verification workflow: automated checks, then approval or the review queue.

``evaluate`` runs when an application is submitted: the checks, sanctions screening and
the risk rating are stored with the application and audited. A low-risk application
whose checks all pass is approved at once (``kyc_auto_approve``); any other goes to the
review queue. ``approve`` opens the trading account of the chosen kind: an associated
person's account is an ``employee`` account, everyone else's a ``client`` one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from tradeguard.audit.records import Actor
from tradeguard.identity.models import User
from tradeguard.identity.notices import Notices, VerifiedAddress, address_of
from tradeguard.kyc.answers import is_associated_person
from tradeguard.kyc.checks import Evidence, run_checks
from tradeguard.kyc.models import KycApplication
from tradeguard.kyc.mrz_check import refresh_mrz
from tradeguard.kyc.records import Status, documents_of, duplicate_tax_ids, stored_of
from tradeguard.kyc.retention import after_rejection, after_screening, until_account_closes
from tradeguard.kyc.risk import RiskLevel, RiskPolicy, RiskRating, rate
from tradeguard.risk.model import AccountKind
from tradeguard.services import Services
from tradeguard.trading.orders.accounts import AccountExistsError, account_of_user, open_account

AUTOMATIC = Actor.system("kyc")
SANCTIONS_MATCH_REASON = "KYC_SANCTIONS_MATCH"


@dataclass(frozen=True, slots=True)
class ScreeningOutcome:
    """What sanctions screening found for an applicant."""

    clear: bool
    near_miss: bool
    evidence: dict[str, Any] = field(default_factory=dict)


class ApplicantScreening(Protocol):
    """Screens an applicant's name, birth date and countries against the sanctions lists."""

    def screen_application(
        self, db: Session, application: KycApplication, answers: dict[str, Any]
    ) -> ScreeningOutcome:
        """The outcome for this applicant (a potential match is not clear)."""
        ...


class ScreeningUnavailable:
    """No screening configured: nothing is clear, so every application is reviewed."""

    def screen_application(
        self, db: Session, application: KycApplication, answers: dict[str, Any]
    ) -> ScreeningOutcome:
        """Not clear: a person must screen the applicant."""
        del db, application, answers
        return ScreeningOutcome(clear=False, near_miss=False, evidence={"status": "unavailable"})


class Workflow:
    """Runs the automated checks and takes the decisions that change an application."""

    def __init__(self, services: Services, notices: Notices, screening: ApplicantScreening) -> None:
        self._services = services
        self._notices = notices
        self.screening = screening
        settings = services.settings
        self.policy = RiskPolicy(
            frozenset(settings.kyc_high_risk_countries),
            settings.kyc_risk_medium_score,
            settings.kyc_risk_high_score,
        )

    def evaluate(self, db: Session, application: KycApplication, request_id: str | None) -> None:
        """Check, screen and rate a submitted application; approve it or queue it."""
        db.flush()  # the tax id's blind index is computed on flush
        stored = stored_of(application)
        documents = documents_of(db, application.id)
        refresh_mrz(documents, stored.answers, self._services.clock.now().date())
        outcome = self.screening.screen_application(db, application, stored.answers)
        evidence = Evidence(
            self._services.clock.now().date(),
            duplicate_tax_ids(db, application),
            documents,
            outcome.clear,
        )
        results = run_checks(stored, evidence)
        rating = rate(
            stored.answers, application.account_kind, self.policy, near_miss=outcome.near_miss
        )
        self._store(application, [result.to_json() for result in results], rating, outcome)
        after_screening(application, self._services.clock.now_ns())
        self.record(db, "kyc.application.checked", AUTOMATIC, application, request_id)
        if self._automatic(results, rating):
            self.approve(db, application, AUTOMATIC, request_id)
        else:
            application.status = Status.PENDING_REVIEW.value
            self.record(db, "kyc.application.queued", AUTOMATIC, application, request_id)

    def _automatic(self, results: list[Any], rating: RiskRating) -> bool:
        clean = all(result.passed for result in results)
        return self._services.settings.kyc_auto_approve and clean and rating.level is RiskLevel.LOW

    def _store(
        self,
        application: KycApplication,
        checks: list[dict[str, Any]],
        rating: RiskRating,
        outcome: ScreeningOutcome,
    ) -> None:
        application.checks = json.dumps(checks)
        application.risk_level = rating.level.value
        application.risk_factors = json.dumps(rating.factors_json())
        application.screening = json.dumps(
            {"clear": outcome.clear, "near_miss": outcome.near_miss, **outcome.evidence}
        )

    def approve(
        self, db: Session, application: KycApplication, actor: Actor, request_id: str | None
    ) -> None:
        """Approve and open the trading account (or adopt one staff opened before)."""
        answers = json.loads(application.answers)
        application.account_class = "employee" if is_associated_person(answers) else "client"
        application.account_id = self._open(db, application, actor)
        self._decided(application, Status.APPROVED, actor)
        until_account_closes(application, documents_of(db, application.id))
        self.record(db, "kyc.application.approved", actor, application, request_id)
        self._tell(db, application, "kyc.approved", "Your brokerage account is open")

    def _open(self, db: Session, application: KycApplication, actor: Actor) -> str:
        services = self._services
        try:
            account = open_account(
                db,
                services.audit,
                services.clock,
                actor,
                user_id=application.user_id,
                kind=AccountKind(application.account_kind or AccountKind.CASH.value),
            )
        except AccountExistsError:
            existing = account_of_user(db, application.user_id)
            assert existing is not None  # noqa: S101 - AccountExistsError says it exists
            return existing.id
        return account.id

    def reject(
        self,
        db: Session,
        application: KycApplication,
        actor: Actor,
        reason: str,
        request_id: str | None,
    ) -> None:
        """Close the application without an account, for ``reason``."""
        application.decision_reason = reason
        self._decided(application, Status.REJECTED, actor)
        after_rejection(
            application,
            documents_of(db, application.id),
            self._services.clock.now_ns(),
            sanctions_match=reason == SANCTIONS_MATCH_REASON,
        )
        self.record(db, "kyc.application.rejected", actor, application, request_id)
        self._tell(db, application, "kyc.rejected", "Your account application was declined")

    def tell_compliance(
        self, db: Session, application: KycApplication, entry: str, case_id: str
    ) -> None:
        """Tell compliance that a reviewer confirmed a sanctions match (ids only, no answers)."""
        address = VerifiedAddress(self._services.settings.compliance_email)
        text = (
            f"A reviewer confirmed a sanctions match on application {application.id} "
            f"(list entry {entry}); account {application.account_id or 'none'}. Case "
            f"{case_id} is open for compliance with the screening evidence: "
            f"{self._notices.link(f'/v1/compliance/cases/{case_id}')}"
        )
        self._notices.email(
            db, address, "kyc.sanctions_confirmed", "Sanctions match confirmed", text
        )

    def request_information(
        self,
        db: Session,
        application: KycApplication,
        actor: Actor,
        note: str,
        request_id: str | None,
    ) -> None:
        """Reopen the application for the applicant, saying what is needed."""
        application.decision_note = note
        application.first_approval_by = None
        application.status = Status.INFO_REQUESTED.value
        application.version += 1
        application.updated_at_ns = self._services.clock.now_ns()
        self.record(db, "kyc.application.information_requested", actor, application, request_id)
        self._tell(db, application, "kyc.information_requested", "We need more information")

    def _decided(self, application: KycApplication, status: Status, actor: Actor) -> None:
        now = self._services.clock.now_ns()
        application.status = status.value
        application.decided_by = actor.id
        application.decided_at_ns = now
        application.updated_at_ns = now
        application.version += 1

    def _tell(self, db: Session, application: KycApplication, kind: str, subject: str) -> None:
        """Email the applicant that their application changed; the details are on the page."""
        user = db.get(User, application.user_id)
        if user is None:
            return
        link = self._notices.link("/onboarding")
        text = f"{subject}.\n\nSign in to see your application: {link}"
        self._notices.email(db, address_of(user), kind, subject, text)

    def record(
        self,
        db: Session,
        event_type: str,
        actor: Actor,
        application: KycApplication,
        request_id: str | None,
        **extra: Any,  # noqa: ANN401 - facts of the event
    ) -> None:
        """Audit one change of ``application`` (its facts, never the applicant's answers)."""
        data = {
            "application_id": application.id,
            "user_id": application.user_id,
            "status": application.status,
            "version": application.version,
            "risk_level": application.risk_level,
            "account_kind": application.account_kind,
            "account_id": application.account_id,
            "retain_until_ns": application.retain_until_ns,
            **extra,
        }
        if event_type == "kyc.application.checked":
            data |= {
                "checks": json.loads(application.checks),
                "risk_factors": json.loads(application.risk_factors),
            }
        self._services.audit.record(
            db, event_type, actor, application.id, data, request_id=request_id
        )
