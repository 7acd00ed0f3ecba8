"""Onboarding's side of sanctions screening: applicants screened, hits put up for review.

``KycScreening`` screens an applicant's legal name with their date of birth and
citizenship through the one decision function (``SanctionsScreening.screen``). No list
loaded means nobody can be cleared: the application waits for a reviewer. It is also the
``ScreenedParties`` of a list load: every submitted or approved application is screened
again, and a potential match that a reviewer has not cleared for that list entry puts
the application (an open customer's too) back in the review queue, audited, and raises
a ``sanctions.rescreen_hit`` alert in the alert store. An open customer's active account
is restricted (orders that reduce positions only; no withdrawals) once the rescreen has
committed, until a reviewer clears the match (the sanctions restriction is lifted: the
account is active again unless another restriction stands) or confirms it (the account
is suspended).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import Any

import pycountry
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.audit.recorder import AuditTrail
from tradeguard.core.errors import ProblemError
from tradeguard.kyc.models import KycApplication
from tradeguard.kyc.records import HELD_ACCOUNT, Status
from tradeguard.kyc.retention import after_screening
from tradeguard.kyc.review import applicant_name
from tradeguard.kyc.sanctions_alerts import SanctionsAlerts
from tradeguard.kyc.workflow import AUTOMATIC, ScreeningOutcome
from tradeguard.risk.model import AccountStatus
from tradeguard.screening.decisions import ScreeningDecision, ScreeningSubject
from tradeguard.screening.parties import ScreenedParty
from tradeguard.screening.service import SanctionsScreening
from tradeguard.trading.controls.restrictions import SANCTIONS
from tradeguard.trading.desk_port import TradingControlsPort

HOLD_REASON = "sanctions rescreen: potential match under review"

RESCREENED = frozenset(
    {
        Status.PENDING_REVIEW,
        Status.PENDING_SECOND_REVIEW,
        Status.SCREENING_REVIEW,
        Status.APPROVED,
    }
)


def subject_of(answers: dict[str, Any]) -> ScreeningSubject:
    """What is screened of an applicant: legal name, date of birth, citizenship."""
    born = answers.get("date_of_birth")
    return ScreeningSubject(
        name=applicant_name(answers),
        dob=date.fromisoformat(born) if born else None,
        country=alpha2(answers.get("citizenship")),
    )


def alpha2(alpha3: str | None) -> str | None:
    """The two-letter code of a three-letter one (None for codes ISO does not list)."""
    found = pycountry.countries.get(alpha_3=alpha3) if alpha3 else None
    return None if found is None else str(found.alpha_2)


def hit_key(decision: ScreeningDecision) -> str:
    """What a clearance is remembered by: list, entry, matched name, entry fingerprint.

    A changed entry (a new date of birth, alias or country) is put up for review again.
    """
    return (
        f"{decision.list_name}|{decision.ent_num}|{decision.matched_name}|{decision.entry_digest}"
    )


def hit_keys(decision: ScreeningDecision) -> list[str]:
    """The keys a clearance must hold: the named entry's, then each namesake's that matches.

    A false positive cleared for one listed person does not clear another person of the
    same name on the list: each must have been seen and cleared.
    """
    others = (
        f"{decision.list_name}|{other.ent_num}|{other.matched_name}|{other.entry_digest}"
        for other in decision.also_matched
    )
    return [hit_key(decision), *others]


def evidence_of(decision: ScreeningDecision) -> dict[str, Any]:
    """A decision as stored with the application and shown to reviewers."""
    return {
        "match": decision.match,
        "score": f"{decision.score:.4f}",
        "list_name": decision.list_name,
        "list_version": decision.list_version,
        "ent_num": decision.ent_num,
        "matched_name": decision.matched_name,
        "reasons": list(decision.reasons),
        "key": hit_key(decision),
        "also_keys": hit_keys(decision)[1:],
    }


class KycScreening:
    """Screens applicants at submission and rescreens them when a list is loaded."""

    def __init__(
        self,
        screening: SanctionsScreening,
        audit: AuditTrail,
        alerts: SanctionsAlerts,
        controls: TradingControlsPort,
    ) -> None:
        self._screening = screening
        self._audit = audit
        self._alerts = alerts
        self._controls = controls

    def screen_application(
        self, db: Session, application: KycApplication, answers: dict[str, Any]
    ) -> ScreeningOutcome:
        """Clear, a near miss (a risk factor) or a potential match for review."""
        del db
        try:
            decision = self._screening.screen(subject_of(answers))
        except ProblemError as refused:
            return ScreeningOutcome(
                clear=False, near_miss=False, evidence={"status": refused.reason_code}
            )
        evidence = {"status": "screened", "decision": evidence_of(decision)}
        if decision.match and _all_cleared(application, decision):
            return ScreeningOutcome(
                clear=True, near_miss=True, evidence=evidence | {"cleared_before": True}
            )
        near_miss = not decision.match and decision.ent_num is not None
        return ScreeningOutcome(clear=not decision.match, near_miss=near_miss, evidence=evidence)

    def parties(self, session: Session) -> Iterable[ScreenedParty]:
        """Every application past its draft that could still be, or is, a customer."""
        states = [status.value for status in RESCREENED]
        query = select(KycApplication).where(KycApplication.status.in_(states))
        applications = list(session.scalars(query))  # read whole: hits write as we go
        for application in applications:
            yield ScreenedParty(application.id, subject_of(json.loads(application.answers)))

    def raise_hit(self, session: Session, party_id: str, decision: ScreeningDecision) -> None:
        """Put a new potential match up for review and alert compliance.

        One cleared for the same entry stays cleared.
        """
        application = session.get(KycApplication, party_id, with_for_update=True)
        if application is None or _all_cleared(application, decision):
            return
        screening = json.loads(application.screening)
        screening |= {"clear": False, "status": "screened", "decision": evidence_of(decision)}
        if application.status == Status.APPROVED:
            application.status = Status.SCREENING_REVIEW.value
            screening |= self._hold(session, application.account_id)
        application.screening = json.dumps(screening)
        application.version += 1
        self._audit.record(
            session,
            "kyc.screening.hit",
            AUTOMATIC,
            application.id,
            {
                "application_id": application.id,
                "status": application.status,
                **evidence_of(decision),
            },
        )
        after_screening(application, self._alerts.clock.now_ns())
        self._alerts.rescreen_hit(session, application, evidence_of(decision))

    def _hold(self, session: Session, account_id: str | None) -> dict[str, str]:
        """Place the sanctions restriction once the hit commits; what to remember of it.

        An account already restricted for another reason holds this one too, so lifting
        the other does not free it; a suspended or closed one stays as it is.
        """
        if account_id is None:
            return {}
        status = self._controls.standing(session, account_id).view.status
        if status in {AccountStatus.SUSPENDED, AccountStatus.CLOSED}:
            return {}  # never loosened here
        controls = self._controls

        def restrict(_session: Session) -> None:
            controls.change_standing(
                Caller.automatic("screening"),
                account_id,
                HOLD_REASON,
                status=AccountStatus.RESTRICTED,
                restriction=SANCTIONS,
            )

        event.listen(session, "after_commit", restrict, once=True)
        return {HELD_ACCOUNT: account_id}


def _all_cleared(application: KycApplication, decision: ScreeningDecision) -> bool:
    return set(hit_keys(decision)) <= _cleared(application)


def _cleared(application: KycApplication) -> set[str]:
    return set(json.loads(application.screening).get("cleared", []))
