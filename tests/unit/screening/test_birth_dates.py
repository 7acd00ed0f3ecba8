"""Dates of birth from remarks and the clearing rule: three years from every date clears."""

from __future__ import annotations

from datetime import date

import pytest

from tradeguard.screening.birth_dates import BirthEvidence, birth_evidence, birth_spans

REMARKS = (
    "DOB 12 Mar 1961; alt. DOB 1963; DOB circa 1950; DOB 1970 to 1972; POB Tehran, Iran; "
    "nationality Iran; DOB Feb 1980"
)


def test_birth_spans_when_remarks_hold_several_forms_then_each_a_span() -> None:
    spans = birth_spans(REMARKS)

    assert [(span.first, span.last, span.precision) for span in spans] == [
        (date(1961, 3, 12), date(1961, 3, 12), "day"),
        (date(1963, 1, 1), date(1963, 12, 31), "year"),
        (date(1949, 1, 1), date(1951, 12, 31), "year"),
        (date(1970, 1, 1), date(1972, 12, 31), "year"),
        (date(1980, 2, 1), date(1980, 2, 29), "month"),
    ]


def test_birth_spans_when_malformed_then_left_out() -> None:
    assert birth_spans("DOB 31 Feb 1961; DOB 12 Foo 1961; DOB unknown") == ()


@pytest.mark.parametrize(
    ("remarks", "screened", "expected"),
    [
        ("DOB 12 Mar 1961", date(1961, 3, 12), BirthEvidence.SAME_DAY),
        ("DOB 12 Mar 1961", date(1961, 12, 3), BirthEvidence.SWAPPED),
        ("DOB 1961", date(1961, 7, 1), BirthEvidence.WITHIN_SPAN),
        ("DOB 12 Mar 1961", date(1962, 3, 12), BirthEvidence.NEAR),
        ("DOB 12 Mar 1961", date(1964, 3, 11), BirthEvidence.NEAR),
        ("DOB 12 Mar 1961", date(1964, 3, 12), BirthEvidence.CLEARS),
        ("DOB 12 Mar 1961", date(1958, 3, 12), BirthEvidence.CLEARS),
        ("DOB 1961", date(1963, 12, 31), BirthEvidence.NEAR),
        ("DOB 1961", date(1964, 1, 1), BirthEvidence.CLEARS),
        ("DOB circa 1961", date(1964, 6, 1), BirthEvidence.NEAR),
        ("DOB 1960 to 1962", date(1964, 6, 1), BirthEvidence.NEAR),
        ("DOB 1960 to 1962", date(1965, 6, 1), BirthEvidence.CLEARS),
        ("DOB 12 Mar 1961; alt. DOB 1975", date(1976, 1, 1), BirthEvidence.NEAR),
        ("POB Tehran", date(1976, 1, 1), BirthEvidence.NONE),
    ],
)
def test_birth_evidence_when_screened_date_then_only_three_years_from_every_date_clears(
    remarks: str, screened: date, expected: BirthEvidence
) -> None:
    assert birth_evidence(screened, birth_spans(remarks))[0] is expected
