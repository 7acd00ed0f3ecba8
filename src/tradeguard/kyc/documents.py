"""Identity documents and proofs of address: upload, MRZ entry, and the refreshed MRZ check.

A file is checked (``tradeguard.kyc.uploads``) before anything is stored and is kept only
encrypted under the applicant's ``documents`` key; its content is never logged or
audited (the audit trail names the document's kind, side, type and size). Uploading a
kind and side again replaces the earlier file. Documents belong to the applicant's
application: another user's document id answers 404.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from tradeguard.access.caller import Caller
from tradeguard.core.errors import ProblemError
from tradeguard.core.ids import new_id
from tradeguard.kyc.models import KycDocument
from tradeguard.kyc.mrz_check import MrzFacts, cross_check, parse_mrz
from tradeguard.kyc.problems import (
    TOO_LARGE,
    FieldError,
    KycReason,
    conflict,
    invalid_fields,
    not_found,
    refused,
)
from tradeguard.kyc.records import EDITABLE, Status, documents_of
from tradeguard.kyc.service import Onboarding
from tradeguard.kyc.uploads import UploadRefused, clean_upload
from tradeguard.services import Services

SIDES = {
    "passport": ("front",),
    "national_id": ("front", "back"),
    "drivers_licence": ("front", "back"),
    "proof_of_address": ("front",),
}
"""The kinds of document and the sides each has (a passport's data page is its front)."""
MRZ_KINDS = frozenset({"passport", "national_id"})


class Documents:
    """The applicant's documents."""

    def __init__(self, services: Services, onboarding: Onboarding) -> None:
        self._services = services
        self._onboarding = onboarding

    def upload(
        self, db: Session, caller: Caller, kind: str, side: str, content: bytes
    ) -> KycDocument:
        """Check and store one file, replacing an earlier one of the same kind and side."""
        _check_kind(kind, side)
        settings = self._services.settings
        try:
            clean = clean_upload(
                content,
                max_bytes=settings.kyc_document_max_bytes,
                max_pixels=settings.kyc_document_max_pixels,
            )
        except UploadRefused as refusal:
            raise _upload_problem(refusal) from None
        application = self._onboarding.own(db, caller, lock=True)
        _require_editable(application.status)
        for old in documents_of(db, application.id):
            if (old.kind, old.side) == (kind, side):
                db.delete(old)
        document = KycDocument(
            id=str(new_id(self._services.clock)),
            application_id=application.id,
            user_id=caller.user_id,
            kind=kind,
            side=side,
            media_type=clean.media_type,
            size=len(clean.content),
            content=clean.content,
            mrz_result="{}",
            uploaded_at_ns=self._services.clock.now_ns(),
            retention_years=application.retention_years,
        )
        db.add(document)
        self._record(db, "kyc.document.uploaded", caller, document)
        return document

    def enter_mrz(self, db: Session, caller: Caller, document_id: str, text: str) -> KycDocument:
        """Check the MRZ of a passport or ID card and compare it with the application."""
        document = self.own(db, caller, document_id)
        application = self._onboarding.own(db, caller, lock=True)
        _require_editable(application.status)
        if document.kind not in MRZ_KINDS or document.side != "front":
            raise refused(KycReason.DOCUMENT_KIND, "only a passport or ID card front has an MRZ")
        facts = parse_mrz(text, document.kind)
        if isinstance(facts, FieldError):
            raise invalid_fields([facts])
        today = self._services.clock.now().date()
        if facts.expiry < today:
            raise refused(KycReason.DOCUMENT_EXPIRED, "the document has expired")
        document.mrz = text.strip().upper()
        document.mrz_result = json.dumps(_result(facts, application.answers, today))
        self._record(db, "kyc.document.mrz_checked", caller, document)
        return document

    def own(self, db: Session, caller: Caller, document_id: str) -> KycDocument:
        """One of the caller's documents; anyone else's answers 404."""
        document = db.get(KycDocument, document_id)
        if document is None or document.user_id != caller.user_id:
            raise not_found("document")
        return document

    def _record(self, db: Session, event_type: str, caller: Caller, document: KycDocument) -> None:
        data = {
            "application_id": document.application_id,
            "document_id": document.id,
            "kind": document.kind,
            "side": document.side,
            "media_type": document.media_type,
            "size": document.size,
            "mrz": json.loads(document.mrz_result),
        }
        self._services.audit.record(
            db,
            event_type,
            caller.actor,
            document.application_id,
            data,
            request_id=caller.request_id,
        )


def _result(facts: MrzFacts, answers_json: str, today: date) -> dict[str, Any]:
    return cross_check(facts, json.loads(answers_json), today)


def _check_kind(kind: str, side: str) -> None:
    if side not in SIDES.get(kind, ()):
        raise refused(
            KycReason.DOCUMENT_KIND,
            "kind is passport, national_id, drivers_licence or proof_of_address; side is "
            "front (or back, for an ID card or driver's licence)",
        )


def _require_editable(status: str) -> None:
    if Status(status) not in EDITABLE:
        raise conflict(KycReason.NOT_EDITABLE, f"the application is {status}")


def _upload_problem(refusal: UploadRefused) -> ProblemError:
    if refusal.reason is KycReason.DOCUMENT_TOO_LARGE:
        return ProblemError(TOO_LARGE, refusal.reason, refusal.message)
    return refused(refusal.reason, refusal.message)
