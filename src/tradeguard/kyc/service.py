"""The applicant's side of onboarding: save and resume a draft, submit it.

Only a signed-in trader with a verified email (and, by the gateway, a second factor)
applies, and only to their own application: it is found by the caller, never by an id
they send. A draft can change until it is submitted; after that only a reviewer's
request for more information reopens it. Every change is audited with the names of
the fields it changed, never their values.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.core.ids import new_id
from tradeguard.identity.models import User
from tradeguard.kyc.answers import Normalised, check_birth_date, margin_refusal, missing, normalised
from tradeguard.kyc.models import KycApplication
from tradeguard.kyc.problems import (
    FieldError,
    KycReason,
    conflict,
    forbidden,
    invalid_fields,
    not_found,
    refused,
)
from tradeguard.kyc.records import EDITABLE, Status, application_of_user, stored_of
from tradeguard.kyc.schemas import ApplicationDraft
from tradeguard.kyc.workflow import Workflow
from tradeguard.services import Services

SECTIONS = frozenset({"legal_name", "employment", "affiliations"})
"""Answers made of parts: a draft that sends some parts keeps the others."""


class Onboarding:
    """Drafts and submissions of account applications."""

    def __init__(self, services: Services, workflow: Workflow) -> None:
        self._services = services
        self.workflow = workflow

    def own(self, db: Session, caller: Caller, *, lock: bool = False) -> KycApplication:
        """The caller's application; 404 if they have not started one."""
        found = application_of_user(db, caller.user_id, lock=lock)
        if found is None:
            raise not_found("application")
        return found

    def save(self, db: Session, caller: Caller, draft: ApplicationDraft) -> KycApplication:
        """Save the fields ``draft`` sends (all or nothing); the draft is created on first save."""
        self._applicant(db, caller)
        changes = normalised(draft, self._services.clock.now().date())
        if changes.errors:
            raise invalid_fields(changes.errors)
        application = application_of_user(db, caller.user_id, lock=True) or self._new(db, caller)
        _require_editable(application)
        self._apply(application, changes)
        self.workflow.record(
            db,
            "kyc.application.saved",
            caller.actor,
            application,
            caller.request_id,
            fields=changes.changed_fields(),
        )
        return application

    def submit(self, db: Session, caller: Caller) -> KycApplication:
        """Submit a complete application: the automated checks run at once."""
        self._applicant(db, caller)
        application = self.own(db, caller, lock=True)
        _require_editable(application)
        self._require_complete(application)
        now = self._services.clock.now_ns()
        application.status = Status.PENDING_REVIEW.value
        application.submitted_at_ns = application.updated_at_ns = now
        application.decision_note = None
        application.version += 1
        self.workflow.record(
            db, "kyc.application.submitted", caller.actor, application, caller.request_id
        )
        self.workflow.evaluate(db, application, caller.request_id)
        return application

    def _applicant(self, db: Session, caller: Caller) -> User:
        user = db.get(User, caller.user_id)
        if user is None or user.email_verified_at_ns is None:
            raise forbidden(KycReason.EMAIL_UNVERIFIED, "verify your email address first")
        return user

    def _new(self, db: Session, caller: Caller) -> KycApplication:
        now = self._services.clock.now_ns()
        application = KycApplication(
            id=str(new_id(self._services.clock)),
            user_id=caller.user_id,
            status=Status.DRAFT.value,
            version=0,
            answers="{}",
            agreements="[]",
            checks="[]",
            risk_factors="[]",
            screening="{}",
            retention_years=5,
            created_at_ns=now,
            updated_at_ns=now,
        )
        db.add(application)
        return application

    def _apply(self, application: KycApplication, changes: Normalised) -> None:
        answers = json.loads(application.answers)
        for name, value in changes.answers.items():
            answers[name] = _merged(answers.get(name), value) if name in SECTIONS else value
        application.answers = json.dumps(answers, sort_keys=True)
        if changes.tax_id is not None:
            application.tax_id = changes.tax_id
        if changes.account_kind is not None:
            application.account_kind = changes.account_kind
        if changes.agreements is not None:
            application.agreements = json.dumps(self._accepted(changes.agreements))
        application.version += 1
        application.updated_at_ns = self._services.clock.now_ns()

    def _accepted(self, agreements: list[dict[str, str]]) -> list[dict[str, Any]]:
        """Each agreement with the time it was accepted (now)."""
        at = self._services.clock.now().isoformat().replace("+00:00", "Z")
        return [{**item, "accepted_at": at} for item in agreements]

    def _require_complete(self, application: KycApplication) -> None:
        stored = stored_of(application)
        lacking = missing(stored)
        if lacking:
            raise refused(
                KycReason.INCOMPLETE,
                f"{len(lacking)} answer(s) are missing.",
                missing=lacking,
            )
        today = self._services.clock.now().date()
        errors = [margin_refusal(stored), _age_error(stored.answers["date_of_birth"], today)]
        found = [error for error in errors if error is not None]
        if found:
            raise invalid_fields(found)


def _age_error(born: str, today: Any) -> FieldError | None:  # noqa: ANN401 - a date
    checked = check_birth_date(born, today)
    return checked if isinstance(checked, FieldError) else None


def _merged(old: Any, new: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN401 - a JSON value
    return {**(old if isinstance(old, dict) else {}), **new}


def _require_editable(application: KycApplication) -> None:
    if Status(application.status) not in EDITABLE:
        raise conflict(
            KycReason.NOT_EDITABLE,
            f"the application is {application.status}: it can no longer be changed",
        )
