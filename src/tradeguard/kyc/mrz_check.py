"""Machine-readable zones of passports (TD3) and ID cards (TD1): check digits and cross-checks.

The MRZ text is entered by the applicant (read from the document; no OCR here). Its check
digits are verified with the ``mrz`` package; a wrong one is ``KYC_MRZ_CHECK_DIGIT``. The
holder's name and date of birth are then compared with the application, and the expiry
with today: an expired document is refused (``KYC_DOCUMENT_EXPIRED``), a mismatch is
recorded for the reviewer and keeps the application from automatic approval.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from mrz.checker.td1 import TD1CodeChecker
from mrz.checker.td3 import TD3CodeChecker

from tradeguard.kyc.models import KycDocument
from tradeguard.kyc.problems import FieldError, KycReason

TD3_LINE, TD1_LINE = 44, 30
FIELD = "mrz"
EXPIRY_PIVOT = 70
"""A two-digit expiry year from this on is 19xx (a document of the last century)."""
NOT_LETTERS = re.compile(r"[^A-Z]+")


@dataclass(frozen=True, slots=True)
class MrzFacts:
    """What a valid MRZ says that the application is checked against."""

    document_format: str
    document_type: str
    surname: str
    given_names: str
    birth_date: str
    expiry: date


def parse_mrz(text: str, kind: str) -> MrzFacts | FieldError:
    """The MRZ's facts if its layout fits ``kind`` and every check digit is right."""
    lines = [line.replace(" ", "").upper() for line in text.strip().splitlines() if line.strip()]
    layout = _layout(lines, kind)
    if layout is None:
        return FieldError(FIELD, KycReason.MRZ_INVALID, _layout_help(kind))
    try:
        checker = layout("\n".join(lines))
    except Exception:  # noqa: BLE001 - the mrz package raises bare errors for malformed zones
        return FieldError(FIELD, KycReason.MRZ_INVALID, "the MRZ could not be read")
    if not bool(checker):
        failed = sorted(name for name, _ in checker.report.falses)
        return FieldError(
            FIELD, KycReason.MRZ_CHECK_DIGIT, f"check digit(s) wrong: {', '.join(failed)}"
        )
    return _facts(checker, "TD3" if layout is TD3CodeChecker else "TD1")


def _layout(lines: list[str], kind: str) -> Any:  # noqa: ANN401 - an untyped checker class
    widths = [len(line) for line in lines]
    if kind == "passport" and widths == [TD3_LINE, TD3_LINE] and lines[0].startswith("P"):
        return TD3CodeChecker
    if kind == "national_id" and widths == [TD1_LINE] * 3 and lines[0][0] in "IAC":
        return TD1CodeChecker
    return None


def _layout_help(kind: str) -> str:
    if kind == "passport":
        return "a passport's MRZ is two lines of 44 characters, the first starting with P"
    return "an ID card's MRZ is three lines of 30 characters"


def _facts(checker: TD3CodeChecker | TD1CodeChecker, layout: str) -> MrzFacts | FieldError:
    fields = checker.fields()
    try:
        expiry = _expiry(fields.expiry_date)
    except ValueError:
        return FieldError(FIELD, KycReason.MRZ_INVALID, "the expiry date is not a date")
    return MrzFacts(
        layout,
        fields.document_type,
        _letters(fields.surname),
        _letters(fields.name),
        fields.birth_date,
        expiry,
    )


def _expiry(yymmdd: str) -> date:
    year = int(yymmdd[:2])
    century = 1900 if year >= EXPIRY_PIVOT else 2000
    return date(century + year, int(yymmdd[2:4]), int(yymmdd[4:6]))


def _letters(text: str) -> str:
    return " ".join(NOT_LETTERS.sub(" ", text.upper()).split())


def cross_check(facts: MrzFacts, answers: dict[str, Any], today: date) -> dict[str, Any]:
    """The comparison with the application: expiry, name and date of birth (no values)."""
    name = answers.get("legal_name", {})
    born = answers.get("date_of_birth", "")
    return {
        "format": facts.document_format,
        "check_digits": "valid",
        "expired": facts.expiry < today,
        "surname_matches": facts.surname == _letters(name.get("family", "")),
        "given_names_match": _given_matches(facts.given_names, name.get("given", "")),
        "birth_date_matches": born[2:].replace("-", "") == facts.birth_date,
    }


def _given_matches(mrz_given: str, given: str) -> bool:
    wanted = _letters(given).split()
    return bool(wanted) and mrz_given.split()[: len(wanted)] == wanted


def mrz_consistent(result: dict[str, Any]) -> bool:
    """Whether a stored MRZ result is valid, current and matches the application."""
    keys = ("surname_matches", "given_names_match", "birth_date_matches")
    return (
        result.get("check_digits") == "valid"
        and not result.get("expired", True)
        and all(result.get(key) for key in keys)
    )


def refresh_mrz(documents: list[KycDocument], answers: dict[str, Any], today: date) -> None:
    """Compare every stored MRZ with the answers as they are now (a name may have changed)."""
    for document in documents:
        if document.mrz is None:
            continue
        facts = parse_mrz(document.mrz, document.kind)
        if isinstance(facts, MrzFacts):
            document.mrz_result = json.dumps(cross_check(facts, answers, today))
