"""SAR drafts: FinCEN's SARX schema, what a draft lacks, the filing clock."""

from datetime import date

import pytest
from aml_kit import FILER, schema_errors
from lxml import etree

from tradeguard.aml.fincen_xml import NAMESPACE
from tradeguard.aml.findings import Typology
from tradeguard.aml.sar import (
    FilingState,
    SarDraft,
    continuing_review_due,
    draft_problems,
    filing_deadline,
    filing_state,
    reminder_dates,
)
from tradeguard.aml.sar_xml import build_sar
from tradeguard.aml.transactions import CustomerProfile

SUBJECT = CustomerProfile("C1", "Ana Silva", "1980-01-02", "US", "teacher", 6_000_000, "salary")
NARRATIVE = (
    "Between March 2 and March 9, 2026 the customer deposited cash in four amounts between "
    "$9,200 and $9,900 into two accounts, totalling $38,400, with no trading. The amounts "
    "stay under the currency reporting threshold and are inconsistent with a teacher's salary."
)


def draft(**changes: object) -> SarDraft:
    """A complete draft, with ``changes``."""
    fields: dict[str, object] = {
        "subject": SUBJECT, "accounts": ("A1", "A2"),
        "typologies": (Typology.STRUCTURING, Typology.UNUSUAL_ACTIVITY),
        "activity_from": date(2026, 3, 2), "activity_to": date(2026, 3, 9),
        "amount_cents": 3_840_000, "narrative": NARRATIVE, "detected_on": date(2026, 3, 10),
    }  # fmt: skip
    fields.update(changes)
    return SarDraft(**fields)  # type: ignore[arg-type]


def texts(document: bytes, name: str) -> list[str]:
    """The texts of every ``name`` element."""
    return [e.text or "" for e in etree.fromstring(document).iter(f"{{{NAMESPACE}}}{name}")]


def test_sar_when_complete_then_valid_with_classification_amount_and_dates() -> None:
    document = build_sar(draft(), FILER, date(2026, 3, 20))
    assert schema_errors("SARX", document) == []
    assert texts(document, "SuspiciousActivitySubtypeID") == ["114", "812"]
    assert texts(document, "TotalSuspiciousAmountText") == ["38400"]
    assert texts(document, "SuspiciousActivityFromDateText") == ["20260302"]
    assert texts(document, "AccountNumberText") == ["A1", "A2"]
    assert texts(document, "InitialReportIndicator") == ["Y"]


def test_sar_when_continuing_activity_then_prior_document_and_indicator() -> None:
    document = build_sar(draft(prior_document=31000123456789), FILER, date(2026, 6, 20))
    assert schema_errors("SARX", document) == []
    assert texts(document, "ContinuingActivityReportIndicator") == ["Y"]
    assert texts(document, "EFilingPriorDocumentNumber") == ["31000123456789"]


def test_sar_when_no_suspect_identified_then_subject_information_unavailable() -> None:
    document = build_sar(draft(suspect_identified=False), FILER, date(2026, 3, 20))
    assert schema_errors("SARX", document) == []
    assert texts(document, "AllCriticalSubjectInformationUnavailableIndicator") == ["Y"]
    assert texts(document, "RawEntityIndividualLastName") == []


def test_sar_when_narrative_is_long_and_has_control_characters_then_split_and_valid() -> None:
    long = ("Line one.\n\x1b[31mred\x07 " + "x" * 9000).strip()
    document = build_sar(draft(narrative=long), FILER, date(2026, 3, 20))
    assert schema_errors("SARX", document) == []
    blocks = texts(document, "ActivityNarrativeText")
    assert [len(b) for b in blocks] == [4000, 4000, len(long) - 8000 - 2]
    assert "\x1b" not in "".join(blocks)


def test_sar_when_tampered_then_schema_refuses_it() -> None:
    document = build_sar(draft(), FILER, date(2026, 3, 20))
    assert schema_errors("SARX", document.replace(b">114<", b">1140<"))
    assert schema_errors("SARX", document.replace(b'ActivityCount="1"', b""))


def test_draft_problems_when_complete_then_none() -> None:
    assert draft_problems(draft()) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"narrative": "Cash deposits."}, "narrative"),
        ({"activity_to": date(2026, 3, 1)}, "activity_to"),
        ({"typologies": ()}, "typologies"),
        ({"accounts": ()}, "accounts"),
        ({"amount_cents": -1}, "amount"),
        ({"subject": CustomerProfile("C1", name="  ")}, "subject"),
    ],
)
def test_draft_problems_when_something_is_missing_then_named_by_field(
    changes: dict[str, object], field: str
) -> None:
    assert [p.field for p in draft_problems(draft(**changes))] == [field]


def test_deadline_is_30_days_or_60_without_a_suspect() -> None:
    assert filing_deadline(date(2026, 3, 10), suspect_identified=True) == date(2026, 4, 9)
    assert filing_deadline(date(2026, 3, 10), suspect_identified=False) == date(2026, 5, 9)


def test_filing_state_over_time() -> None:
    deadline = date(2026, 4, 9)
    assert filing_state(deadline, date(2026, 3, 20)) is FilingState.ON_TIME
    assert filing_state(deadline, date(2026, 3, 30)) is FilingState.REMIND
    assert filing_state(deadline, date(2026, 4, 9)) is FilingState.REMIND
    assert filing_state(deadline, date(2026, 4, 10)) is FilingState.OVERDUE
    assert filing_state(deadline, date(2026, 4, 10), date(2026, 4, 1)) is FilingState.FILED


def test_reminders_come_before_the_deadline_and_overdue_after_it() -> None:
    assert reminder_dates(date(2026, 4, 9)) == [
        date(2026, 3, 30), date(2026, 4, 6), date(2026, 4, 8), date(2026, 4, 10),
    ]  # fmt: skip
    assert continuing_review_due(date(2026, 4, 1)) == date(2026, 6, 30)
