"""Dates of birth written in a list entry's remarks, and what a screened date says about them.

OFAC writes them inside ``Remarks``: ``DOB 12 Mar 1961``, ``DOB Mar 1961``, ``DOB 1961``,
``DOB circa 1961``, ``DOB 1960 to 1962``, ``alt. DOB 01 Jan 1958``; several per entry.
Each becomes a span of days. A screened date three or more years from every span
clears the entry (a different person); a nearer one, a year-only agreement or a day
and month swapped does not.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

MONTHS = {name.upper(): number for number, name in enumerate(calendar.month_abbr) if name}
CLEARING_YEARS = 3
CIRCA_YEARS = 1
_DATE = r"(?:(\d{1,2})\s+)?(?:([A-Za-z]{3})[a-z]*\.?\s+)?(\d{4})"
_DOB = re.compile(
    rf"\bDOB\s+(circa\s+|c\.\s*|approximately\s+)?{_DATE}(?:\s*(?:to|-)\s*{_DATE})?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class BirthSpan:
    """The days a date of birth on the list may be: one day, a month, a year or a range."""

    first: date
    last: date
    text: str
    precision: str = "day"
    """``day``, ``month`` or ``year``: what the list wrote; distances count in it."""

    @property
    def is_day(self) -> bool:
        """Whether the list gives the exact day."""
        return self.first == self.last


class BirthEvidence(StrEnum):
    """What a screened date of birth says about a list entry."""

    SAME_DAY = "same-day"
    SWAPPED = "day-month-swapped"
    WITHIN_SPAN = "within-span"
    NEAR = "near"
    CLEARS = "clears"
    NONE = "none"


def birth_spans(remarks: str) -> tuple[BirthSpan, ...]:
    """Every date of birth in ``remarks``; malformed ones are left out."""
    spans = []
    for found in _DOB.finditer(remarks):
        span = _span(found)
        if span is not None:
            spans.append(span)
    return tuple(spans)


def _span(found: re.Match[str]) -> BirthSpan | None:
    """The span one ``DOB`` mention covers, widened for ``circa``."""
    circa, day, month, year, day_to, month_to, year_to = found.groups()
    try:
        first = _first_day(day, month, year)
        last = _last_day(day_to, month_to, year_to) if year_to else _last_day(day, month, year)
    except ValueError:
        return None
    if circa:
        first, last = _years_from(first, -CIRCA_YEARS), _years_from(last, CIRCA_YEARS)
    precision = "day" if day and month else "month" if month else "year"
    return BirthSpan(first, last, found.group().strip(), precision) if first <= last else None


def _first_day(day: str | None, month: str | None, year: str) -> date:
    number = _month(month)
    return date(int(year), number or 1, int(day) if day and number else 1)


def _last_day(day: str | None, month: str | None, year: str) -> date:
    number = _month(month) or 12
    if day and month:
        return date(int(year), number, int(day))
    return date(int(year), number, calendar.monthrange(int(year), number)[1])


def _month(month: str | None) -> int | None:
    """The month number of an abbreviation; ``ValueError`` when it is not one."""
    if month is None:
        return None
    return MONTHS[month[:3].upper()] if month[:3].upper() in MONTHS else _not_a_month(month)


def _not_a_month(month: str) -> int:
    raise ValueError(month)


def _years_from(day: date, years: int) -> date:
    """``day`` moved by whole years (29 February becomes the 28th)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def birth_evidence(screened: date, spans: tuple[BirthSpan, ...]) -> tuple[BirthEvidence, str]:
    """The strongest agreement of ``screened`` with the spans, and the span it concerns."""
    if not spans:
        return BirthEvidence.NONE, ""
    found = [(_evidence(screened, span), span.text) for span in spans]
    return min(found, key=lambda item: _RANK[item[0]])


_RANK = {kind: rank for rank, kind in enumerate(BirthEvidence)}
"""Stronger agreement first: one span that agrees outweighs others that clear."""


def _evidence(screened: date, span: BirthSpan) -> BirthEvidence:
    if span.precision == "day" and span.is_day and screened == span.first:
        return BirthEvidence.SAME_DAY
    if span.is_day and _swapped(screened) == span.first:
        return BirthEvidence.SWAPPED
    if span.first <= screened <= span.last:
        return BirthEvidence.WITHIN_SPAN
    return BirthEvidence.CLEARS if _cleared(screened, span) else BirthEvidence.NEAR


def _cleared(screened: date, span: BirthSpan) -> bool:
    """Three or more years from the span, counted in the span's own precision."""
    if span.precision == "year":
        years = CLEARING_YEARS
        return screened.year >= span.last.year + years or screened.year <= span.first.year - years
    if span.precision == "month":
        months = CLEARING_YEARS * 12
        return (
            _month_index(screened) >= _month_index(span.last) + months
            or _month_index(screened) <= _month_index(span.first) - months
        )
    later = _years_from(span.last, CLEARING_YEARS)
    return screened >= later or screened <= _years_from(span.first, -CLEARING_YEARS)


def _month_index(day: date) -> int:
    return day.year * 12 + day.month


def _swapped(day: date) -> date | None:
    """``day`` with day and month exchanged, when that is a date."""
    try:
        return date(day.year, day.day, day.month)
    except ValueError:
        return None
