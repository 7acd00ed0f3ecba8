"""The staff side: the review queue and the decisions of reviewers with ``kyc:review``.

A reviewer decides the version of the application they read (a changed one is
``409 KYC_VERSION_CHANGED``), never their own application (``403 KYC_SELF_REVIEW``). A
high-risk application needs enhanced due diligence: two approvals by two different
reviewers (maker/checker). Opening an application or one of its documents is staff
access to personal data and is audited; so is every decision, with the reviewer and
the reason.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.kyc.models import KycApplication, KycDocument
from tradeguard.kyc.problems import KycReason, conflict, forbidden, not_found
from tradeguard.kyc.records import (
    HELD_ACCOUNT,
    IN_REVIEW,
    Status,
    application_by_id,
    document_json,
    documents_of,
)
from tradeguard.kyc.risk import RiskLevel
from tradeguard.kyc.sanctions_alerts import SanctionsAlerts
from tradeguard.kyc.schemas import Decision, QueueItem, Rejection, ReviewView
from tradeguard.kyc.workflow import Workflow
from tradeguard.risk.model import AccountStatus
from tradeguard.trading.controls.restrictions import SANCTIONS
from tradeguard.trading.desk_port import TradingControlsPort


class Review:
    """What reviewers see and decide."""

    def __init__(
        self, workflow: Workflow, controls: TradingControlsPort, alerts: SanctionsAlerts
    ) -> None:
        self._workflow = workflow
        self._controls = controls
        self._alerts = alerts

    def queue(self, db: Session, status: Status | None) -> list[QueueItem]:
        """Applications waiting for a reviewer (or in ``status``), oldest submission first."""
        wanted = [status.value] if status else [state.value for state in IN_REVIEW]
        query = select(KycApplication).where(KycApplication.status.in_(wanted))
        query = query.order_by(KycApplication.submitted_at_ns, KycApplication.id)
        return [_queue_item(application) for application in db.scalars(query)]

    def open(self, db: Session, caller: Caller, application_id: str) -> ReviewView:
        """Everything about one application, side by side (audited staff access)."""
        application = application_by_id(db, application_id)
        documents = documents_of(db, application.id)
        self._workflow.record(
            db, "kyc.application.viewed", caller.actor, application, caller.request_id
        )
        return _review_view(application, documents)

    def document(
        self, db: Session, caller: Caller, application_id: str, document_id: str
    ) -> KycDocument:
        """One document's file of an application (audited staff access)."""
        application = application_by_id(db, application_id)
        document = db.get(KycDocument, document_id)
        if document is None or document.application_id != application.id:
            raise not_found("document")
        self._workflow.record(
            db,
            "kyc.document.viewed",
            caller.actor,
            application,
            caller.request_id,
            document_id=document.id,
        )
        return document

    def approve(
        self, db: Session, caller: Caller, application_id: str, decision: Decision
    ) -> KycApplication:
        """Approve; a high-risk application's first approval waits for a second reviewer."""
        application = self._decidable(db, caller, application_id, decision.version)
        _require_screened(application)
        if application.risk_level == RiskLevel.HIGH.value and not self._second(application, caller):
            application.first_approval_by = caller.user_id
            application.status = Status.PENDING_SECOND_REVIEW.value
            application.version += 1
            self._workflow.record(
                db,
                "kyc.application.first_approval",
                caller.actor,
                application,
                caller.request_id,
                note_length=len(decision.note),
            )
            return application
        self._workflow.approve(db, application, caller.actor, caller.request_id)
        return application

    def _second(self, application: KycApplication, caller: Caller) -> bool:
        """Whether this approval is the second one of a high-risk application."""
        first = application.first_approval_by
        if first is None:
            return False
        if first == caller.user_id:
            raise forbidden(
                KycReason.SECOND_REVIEWER,
                "a high-risk application needs a second reviewer: another person must approve",
            )
        return True

    def reject(
        self, db: Session, caller: Caller, application_id: str, rejection: Rejection
    ) -> KycApplication:
        """Reject with a reason code; no account is opened, an open one is suspended.

        A confirmed sanctions match (``KYC_SANCTIONS_MATCH``) also opens a compliance case
        holding its alerts, and compliance is emailed.
        """
        application = self._decidable(db, caller, application_id, rejection.version)
        if application.account_id is not None:
            self._controls.change_standing(
                caller,
                application.account_id,
                f"onboarding: {rejection.reason_code}",
                status=AccountStatus.SUSPENDED,
            )
        application.decision_note = rejection.note
        self._workflow.reject(
            db, application, caller.actor, rejection.reason_code, caller.request_id
        )
        if rejection.reason_code == KycReason.SANCTIONS_MATCH.value:
            found = json.loads(application.screening).get("decision") or {}
            case = self._alerts.confirmed(db, application, found, caller.actor)
            entry = f"{found.get('list_name')} #{found.get('ent_num')}"
            self._workflow.tell_compliance(db, application, entry, case.id)
        return application

    def clear_screening(
        self, db: Session, caller: Caller, application_id: str, decision: Decision
    ) -> KycApplication:
        """A potential match is a false positive for this applicant and this list entry.

        Remembered: a rescreen that finds the same entry with the same name raises nothing.
        A customer put back in review by a rescreen is approved again.
        """
        application = self._decidable(db, caller, application_id, decision.version)
        screening = json.loads(application.screening)
        found = screening.get("decision")
        if not found or not found.get("match"):
            raise conflict(KycReason.NO_POTENTIAL_MATCH, "there is no potential match to clear")
        keys = (found["key"], *found.get("also_keys", []))  # the namesakes shown with it too
        screening["cleared"] = sorted({*screening.get("cleared", []), *keys})
        screening["clear"] = True
        held = screening.pop(HELD_ACCOUNT, None)
        application.screening = json.dumps(screening)
        application.checks = json.dumps(_sanctions_passed(json.loads(application.checks)))
        if application.status == Status.SCREENING_REVIEW:
            application.status = Status.APPROVED.value
        if held is not None:
            self._release(db, caller, held)
        application.version += 1
        self._workflow.record(
            db,
            "kyc.screening.cleared",
            caller.actor,
            application,
            caller.request_id,
            cleared=found["key"],
            note_length=len(decision.note),
        )
        return application

    def _release(self, db: Session, caller: Caller, account_id: str) -> None:
        """Lift the rescreen's sanctions restriction once the clearance commits.

        Only that one: the account stays restricted while another restriction stands, and
        a suspended or closed account stays as it is.
        """
        controls = self._controls

        def release(_session: Session) -> None:
            controls.change_standing(
                caller,
                account_id,
                "sanctions: potential match cleared",
                status=AccountStatus.ACTIVE,
                restriction=SANCTIONS,
            )

        event.listen(db, "after_commit", release, once=True)

    def request_information(
        self, db: Session, caller: Caller, application_id: str, decision: Decision
    ) -> KycApplication:
        """Reopen the application; the applicant is emailed and sees the note on their page."""
        application = self._decidable(db, caller, application_id, decision.version)
        self._workflow.request_information(
            db, application, caller.actor, decision.note, caller.request_id
        )
        return application

    def _decidable(
        self, db: Session, caller: Caller, application_id: str, version: int
    ) -> KycApplication:
        application = application_by_id(db, application_id, lock=True)
        if application.user_id == caller.user_id:
            raise forbidden(KycReason.SELF_REVIEW, "nobody reviews their own application")
        if Status(application.status) not in IN_REVIEW:
            raise conflict(
                KycReason.NOT_SUBMITTED, f"the application is {application.status}, not in review"
            )
        if application.version != version:
            raise conflict(
                KycReason.VERSION_CHANGED,
                f"the application changed (version {application.version}): read it again",
            )
        return application


def _require_screened(application: KycApplication) -> None:
    """Approval needs a screening that found nothing, or a match a reviewer cleared."""
    screening = json.loads(application.screening)
    if not screening.get("clear"):
        raise conflict(
            KycReason.SCREENING_UNRESOLVED,
            "sanctions screening has not cleared the applicant: clear the potential match, "
            "or load the lists and ask for the application again",
        )


def _sanctions_passed(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**check, "passed": True, "reason_code": None} if check["check"] == "sanctions" else check
        for check in checks
    ]


def applicant_name(answers: dict[str, Any]) -> str:
    """The applicant's legal name as one string."""
    name = answers.get("legal_name", {})
    parts = (name.get("given"), name.get("middle"), name.get("family"))
    return " ".join(part for part in parts if part)


def _queue_item(application: KycApplication) -> QueueItem:
    checks = json.loads(application.checks)
    return QueueItem(
        id=application.id,
        status=application.status,
        version=application.version,
        applicant=applicant_name(json.loads(application.answers)),
        risk_level=application.risk_level,
        account_kind=application.account_kind,
        account_class=application.account_class,
        submitted_at=_time(application.submitted_at_ns),
        failed_checks=[check["check"] for check in checks if not check["passed"]],
    )


def _review_view(application: KycApplication, documents: list[KycDocument]) -> ReviewView:
    return ReviewView(
        id=application.id,
        user_id=application.user_id,
        status=application.status,
        version=application.version,
        answers=json.loads(application.answers),
        tax_id=application.tax_id,
        account_kind=application.account_kind,
        account_class=application.account_class,
        agreements=json.loads(application.agreements),
        checks=json.loads(application.checks),
        risk_level=application.risk_level,
        risk_factors=json.loads(application.risk_factors),
        screening=json.loads(application.screening),
        documents=[{**document_json(doc), "mrz_text": doc.mrz} for doc in documents],
        first_approval_by=application.first_approval_by,
        decided_by=application.decided_by,
        decision_reason=application.decision_reason,
        account_id=application.account_id,
        retention_years=application.retention_years,
        retain_until=_time(application.retain_until_ns),
        retention_basis=application.retention_basis,
        screening_retain_until=_time(application.screening_retain_until_ns),
        submitted_at=_time(application.submitted_at_ns),
    )


def _time(ns: int | None) -> str | None:
    return None if ns is None else ns_to_rfc3339(ns)
