"""The automated checks of a submitted application: each passes or names its reason.

Pure functions of what the application holds; the database facts they need (other
applications with the same tax id, the documents and their MRZ results, the screening
result) are gathered by the workflow and passed in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from tradeguard.kyc.answers import Stored, check_birth_date, margin_refusal
from tradeguard.kyc.models import KycDocument
from tradeguard.kyc.mrz_check import mrz_consistent
from tradeguard.kyc.problems import FieldError, KycReason

IDENTITY_KINDS = frozenset({"passport", "national_id", "drivers_licence"})
MRZ_KINDS = frozenset({"passport", "national_id"})
PROOF_OF_ADDRESS = "proof_of_address"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check: its name, whether it passed and, if not, why."""

    check: str
    passed: bool
    reason_code: str | None = None

    def to_json(self) -> dict[str, Any]:
        """As stored and shown to reviewers."""
        return {"check": self.check, "passed": self.passed, "reason_code": self.reason_code}


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the checks read besides the answers."""

    today: date
    duplicate_tax_ids: int
    documents: list[KycDocument]
    screening_clear: bool


def run_checks(stored: Stored, evidence: Evidence) -> list[CheckResult]:
    """Every automated check, in a fixed order."""
    return [
        _from_error("age", _age(stored, evidence.today)),
        _from_error("margin_eligibility", margin_refusal(stored)),
        _passed_if("duplicate_tax_id", evidence.duplicate_tax_ids == 0, "KYC_DUPLICATE_TAX_ID"),
        _passed_if("identity_document", _has_identity(evidence.documents), "KYC_DOCUMENT_MISSING"),
        _passed_if("proof_of_address", _has_proof(evidence.documents), "KYC_DOCUMENT_MISSING"),
        _passed_if("mrz", _mrz_ok(evidence.documents), KycReason.MRZ_MISMATCH.value),
        _passed_if("sanctions", evidence.screening_clear, "KYC_SANCTIONS_REVIEW"),
    ]


def _age(stored: Stored, today: date) -> FieldError | None:
    born = stored.answers.get("date_of_birth")
    checked = check_birth_date(born, today) if born else None
    return checked if isinstance(checked, FieldError) else None


def _from_error(name: str, error: FieldError | None) -> CheckResult:
    return CheckResult(name, error is None, None if error is None else error.reason.value)


def _passed_if(name: str, passed: bool, reason: str) -> CheckResult:  # noqa: FBT001 - the outcome
    return CheckResult(name, passed, None if passed else reason)


def _has_identity(documents: list[KycDocument]) -> bool:
    return any(doc.kind in IDENTITY_KINDS and doc.side == "front" for doc in documents)


def _has_proof(documents: list[KycDocument]) -> bool:
    return any(doc.kind == PROOF_OF_ADDRESS for doc in documents)


def _mrz_ok(documents: list[KycDocument]) -> bool:
    """Every passport or ID card front has a consistent MRZ; a passport must have one."""
    fronts = [doc for doc in documents if doc.kind in MRZ_KINDS and doc.side == "front"]
    for doc in fronts:
        result = json.loads(doc.mrz_result)
        if (doc.kind == "passport" or result) and not mrz_consistent(result):
            return False
    return True
