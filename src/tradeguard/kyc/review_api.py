"""Routes of reviewers (``kyc:review``): the queue, one application, its documents, decisions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from tradeguard.access.caller import Caller
from tradeguard.core.permissions import Permission
from tradeguard.core.principal import Principal
from tradeguard.db.session import DbSession
from tradeguard.kyc.records import Status
from tradeguard.kyc.review import Review
from tradeguard.kyc.schemas import Decision, QueueItem, Rejection, ReviewView
from tradeguard.web.provide import provided
from tradeguard.web.routing import require

Reviewer = Annotated[Principal, require(Permission.KYC_REVIEW)]
ReviewDep = Annotated[Review, provided(Review)]
ApplicationId = Annotated[str, Path(min_length=1, max_length=64)]
DocumentId = Annotated[str, Path(min_length=1, max_length=64)]
PROBLEMS: dict[int | str, dict[str, str]] = {
    401: {"description": "No valid access token (problem+json, AUTH_*)"},
    403: {"description": "Not a reviewer, own application, or a second reviewer is needed"},
    404: {"description": "No such application or document (problem+json, NOT_FOUND)"},
    409: {"description": "Not in review, or changed since it was read (KYC_VERSION_CHANGED)"},
}

router = APIRouter(prefix="/v1/staff/kyc", tags=["onboarding review"], responses=PROBLEMS)


@router.get("/applications", summary="The review queue")
def review_queue(
    reviewer: Reviewer,  # noqa: ARG001 - declares the permission
    db: DbSession,
    review: ReviewDep,
    state: Annotated[Status | None, Query(alias="status")] = None,
) -> list[QueueItem]:
    """Applications waiting for a reviewer, oldest first (or those in ``status``)."""
    return review.queue(db, state)


@router.get("/applications/{application_id}", summary="One application, everything side by side")
def review_application(
    application_id: ApplicationId,
    reviewer: Reviewer,
    request: Request,
    db: DbSession,
    review: ReviewDep,
) -> ReviewView:
    """Answers, documents and MRZ results, checks, screening and risk factors (audited)."""
    return review.open(db, Caller.of(reviewer, request), application_id)


@router.get(
    "/applications/{application_id}/documents/{document_id}",
    summary="A document's file",
    response_class=Response,
)
def review_document(
    application_id: ApplicationId,
    document_id: DocumentId,
    reviewer: Reviewer,
    request: Request,
    db: DbSession,
    review: ReviewDep,
) -> Response:
    """The file as stored (images without their metadata); audited."""
    caller = Caller.of(reviewer, request)
    document = review.document(db, caller, application_id, document_id)
    return Response(
        document.content,
        media_type=document.media_type,
        headers={"Content-Disposition": "inline", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/applications/{application_id}/approve", summary="Approve (opens the account)")
def approve_application(
    application_id: ApplicationId,
    body: Decision,
    reviewer: Reviewer,
    request: Request,
    db: DbSession,
    review: ReviewDep,
) -> ReviewView:
    """Approve the version read; a high-risk application needs a second reviewer."""
    caller = Caller.of(reviewer, request)
    review.approve(db, caller, application_id, body)
    return review.open(db, caller, application_id)


@router.post("/applications/{application_id}/reject", summary="Reject with a reason code")
def reject_application(
    application_id: ApplicationId,
    body: Rejection,
    reviewer: Reviewer,
    request: Request,
    db: DbSession,
    review: ReviewDep,
) -> ReviewView:
    """Close the application without an account."""
    caller = Caller.of(reviewer, request)
    review.reject(db, caller, application_id, body)
    return review.open(db, caller, application_id)


@router.post(
    "/applications/{application_id}/request-information",
    summary="Ask the applicant for more information (the application reopens)",
)
def request_information(
    application_id: ApplicationId,
    body: Decision,
    reviewer: Reviewer,
    request: Request,
    db: DbSession,
    review: ReviewDep,
) -> ReviewView:
    """The applicant is emailed; the note shows on their application page."""
    caller = Caller.of(reviewer, request)
    review.request_information(db, caller, application_id, body)
    return review.open(db, caller, application_id)


@router.post(
    "/applications/{application_id}/clear-screening",
    summary="Clear a sanctions potential match as a false positive for this applicant",
)
def clear_screening(
    application_id: ApplicationId,
    body: Decision,
    reviewer: Reviewer,
    request: Request,
    db: DbSession,
    review: ReviewDep,
) -> ReviewView:
    """Remembered for this applicant and list entry; a rescreened customer is approved again."""
    caller = Caller.of(reviewer, request)
    review.clear_screening(db, caller, application_id, body)
    return review.open(db, caller, application_id)
