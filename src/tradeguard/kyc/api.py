"""Routes of the applicant (``kyc:apply``): the application, its submission, its documents.

The application is always the caller's own (``/v1/kyc/application``, no id to guess);
a document id of another user's answers 404. Uploads are the raw file as the request
body (``Content-Type`` is not trusted: the content decides), with the document's kind
and side in the query.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, status
from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.kyc.answers import missing
from tradeguard.kyc.documents import Documents
from tradeguard.kyc.models import KycApplication
from tradeguard.kyc.records import (
    EDITABLE,
    Status,
    document_json,
    documents_of,
    masked_tax_id,
    stored_of,
)
from tradeguard.kyc.schemas import ApplicationDraft, ApplicationOut, MrzIn
from tradeguard.kyc.service import Onboarding
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

Applicant = Annotated[Principal, require(Permission.KYC_APPLY)]
OnboardingDep = Annotated[Onboarding, provided(Onboarding)]
DocumentsDep = Annotated[Documents, provided(Documents)]
DocumentId = Annotated[str, Path(min_length=1, max_length=64)]
Choice = Annotated[str, Query(min_length=1, max_length=24)]
PROBLEMS: dict[int | str, dict[str, str]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "Not an applicant, or the email is not verified (KYC_EMAIL_UNVERIFIED)"},
    404: {"description": "No application or document of the caller's (problem+json, NOT_FOUND)"},
    409: {"description": "The application can no longer change (KYC_APPLICATION_LOCKED)"},
    422: {"description": "A field refused: reason code per field (KYC_*)"},
}

router = APIRouter(prefix="/v1/kyc", tags=["onboarding"], responses=PROBLEMS)


async def raw_file(request: Request) -> bytes:
    """The request body, as sent: the file of an upload."""
    return await request.body()


def application_out(db: Session, application: KycApplication) -> ApplicationOut:
    """The applicant's own view of their application."""
    stored = stored_of(application)
    note = application.decision_note if application.status == Status.INFO_REQUESTED else None
    editable = Status(application.status) in EDITABLE
    return ApplicationOut(
        id=application.id,
        status=application.status,
        version=application.version,
        answers=stored.answers,
        tax_id=masked_tax_id(application.tax_id),
        account_kind=application.account_kind,
        agreements=stored.agreements,
        missing=missing(stored) if editable else [],
        documents=[document_json(doc) for doc in documents_of(db, application.id)],
        information_requested=note,
        account_id=application.account_id,
        created_at=ns_to_rfc3339(application.created_at_ns),
        updated_at=ns_to_rfc3339(application.updated_at_ns),
        submitted_at=_time(application.submitted_at_ns),
        decided_at=_time(application.decided_at_ns),
    )


def _time(ns: int | None) -> str | None:
    return None if ns is None else ns_to_rfc3339(ns)


@router.get("/application", summary="Your account application")
def get_application(
    applicant: Applicant, request: Request, db: DbSession, onboarding: OnboardingDep
) -> ApplicationOut:
    """The saved answers (tax id masked), what is missing, documents and status."""
    application = onboarding.own(db, Caller.of(applicant, request))
    return application_out(db, application)


@router.put("/application", summary="Save your application as a draft (any part of it)")
def save_application(
    body: ApplicationDraft,
    applicant: Applicant,
    request: Request,
    db: DbSession,
    onboarding: OnboardingDep,
) -> ApplicationOut:
    """Fields sent replace the saved ones; all are checked, and none is saved if one fails."""
    application = onboarding.save(db, Caller.of(applicant, request), body)
    db.flush()
    return application_out(db, application)


@router.post("/application/submit", summary="Submit your application for verification")
def submit_application(
    applicant: Applicant, request: Request, db: DbSession, onboarding: OnboardingDep
) -> ApplicationOut:
    """Run the automated checks: approved at once (account open) or queued for review."""
    application = onboarding.submit(db, Caller.of(applicant, request))
    return application_out(db, application)


@router.post(
    "/application/documents",
    status_code=status.HTTP_201_CREATED,
    summary="Upload an identity document or proof of address (JPEG, PNG or PDF body)",
    responses={413: {"description": "The file is too large (KYC_DOCUMENT_TOO_LARGE)"}},
)
def upload_document(
    kind: Choice,
    side: Choice,
    content: Annotated[bytes, Depends(raw_file)],
    applicant: Applicant,
    request: Request,
    db: DbSession,
    documents: DocumentsDep,
) -> dict[str, object]:
    """Store the file encrypted; its type is read from its content."""
    document = documents.upload(db, Caller.of(applicant, request), kind, side, content)
    db.flush()
    return document_json(document)


@router.put("/application/documents/{document_id}/mrz", summary="Enter a document's MRZ")
def enter_mrz(
    document_id: DocumentId,
    body: MrzIn,
    applicant: Applicant,
    request: Request,
    db: DbSession,
    documents: DocumentsDep,
) -> dict[str, object]:
    """Check digits verified, then name, birth date and expiry compared with the application."""
    document = documents.enter_mrz(db, Caller.of(applicant, request), document_id, body.mrz)
    return {**document_json(document), "mrz": json.loads(document.mrz_result)}
