"""Reason codes of onboarding and the problem documents that carry them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tradeguard.core.errors import VALIDATION_FAILED, ProblemError, ProblemType

CONFLICT = ProblemType("kyc-conflict", "The application cannot change that way now", 409)
FORBIDDEN = ProblemType("kyc-forbidden", "Not allowed to decide this application", 403)
NOT_FOUND = ProblemType("not-found", "Not Found", 404)
TOO_LARGE = ProblemType("kyc-document-too-large", "Document too large", 413)


class KycReason(StrEnum):
    """Stable reason codes of refused onboarding requests and failed checks."""

    NAME_INVALID = "KYC_NAME_INVALID"
    DOB_INVALID = "KYC_DOB_INVALID"
    UNDERAGE = "KYC_UNDERAGE"
    TAX_ID_INVALID = "KYC_TAX_ID_INVALID"
    ADDRESS_INVALID = "KYC_ADDRESS_INVALID"
    ADDRESS_PO_BOX = "KYC_ADDRESS_PO_BOX"
    COUNTRY_INVALID = "KYC_COUNTRY_INVALID"
    RESIDENCE_UNSUPPORTED = "KYC_RESIDENCE_UNSUPPORTED"
    PHONE_INVALID = "KYC_PHONE_INVALID"
    AGREEMENT_VERSION = "KYC_AGREEMENT_VERSION"
    MARGIN_INELIGIBLE = "KYC_MARGIN_INELIGIBLE"
    INCOMPLETE = "KYC_APPLICATION_INCOMPLETE"
    NOT_EDITABLE = "KYC_APPLICATION_LOCKED"
    NOT_SUBMITTED = "KYC_NOT_IN_REVIEW"
    VERSION_CHANGED = "KYC_VERSION_CHANGED"
    SELF_REVIEW = "KYC_SELF_REVIEW"
    SECOND_REVIEWER = "KYC_SECOND_REVIEWER_REQUIRED"
    EMAIL_UNVERIFIED = "KYC_EMAIL_UNVERIFIED"
    SCREENING_UNRESOLVED = "KYC_SCREENING_UNRESOLVED"
    SANCTIONS_MATCH = "KYC_SANCTIONS_MATCH"
    NO_POTENTIAL_MATCH = "KYC_NO_POTENTIAL_MATCH"
    DOCUMENT_TYPE = "KYC_DOCUMENT_TYPE"
    DOCUMENT_TOO_LARGE = "KYC_DOCUMENT_TOO_LARGE"
    DOCUMENT_UNREADABLE = "KYC_DOCUMENT_UNREADABLE"
    DOCUMENT_KIND = "KYC_DOCUMENT_KIND"
    DOCUMENT_EXPIRED = "KYC_DOCUMENT_EXPIRED"
    MRZ_INVALID = "KYC_MRZ_INVALID"
    MRZ_CHECK_DIGIT = "KYC_MRZ_CHECK_DIGIT"
    MRZ_MISMATCH = "KYC_MRZ_MISMATCH"
    NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field refused: where, why (a reason code) and what to do."""

    field: str
    reason: KycReason
    message: str

    def to_json(self) -> dict[str, Any]:
        """The error as a problem document lists it (never with the value sent)."""
        return {
            "location": ["body", *self.field.split(".")],
            "message": self.message,
            "type": "kyc",
            "reason_code": self.reason.value,
        }


def invalid_fields(errors: list[FieldError]) -> ProblemError:
    """422 listing every refused field; the first one's reason is the problem's."""
    return ProblemError(
        VALIDATION_FAILED,
        errors[0].reason,
        _summary(errors),
        extensions={"errors": [error.to_json() for error in errors]},
    )


def _summary(errors: list[FieldError]) -> str:
    first = f"{errors[0].field}: {errors[0].message}"
    more = len(errors) - 1
    return first if not more else f"{first} (and {more} more field(s); see errors)"


def refused(reason: KycReason, detail: str, **extensions: Any) -> ProblemError:  # noqa: ANN401 - problem extensions are JSON of any shape
    """422 for one reason that is not a single field's."""
    return ProblemError(VALIDATION_FAILED, reason, detail, extensions)


def conflict(reason: KycReason, detail: str) -> ProblemError:
    """409: the application is not in a state that allows this."""
    return ProblemError(CONFLICT, reason, detail)


def forbidden(reason: KycReason, detail: str) -> ProblemError:
    """403: this reviewer may not take this decision."""
    return ProblemError(FORBIDDEN, reason, detail)


def not_found(what: str) -> ProblemError:
    """404 for an application or document that is not the caller's (or does not exist)."""
    return ProblemError(NOT_FOUND, KycReason.NOT_FOUND, f"No such {what}.")
