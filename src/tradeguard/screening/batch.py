"""Batch screening: ``id,name,dob,country`` rows in, one JSON line per row out, in input order.

The input is checked whole before anything is screened: a missing column, a date that
is not ``YYYY-MM-DD`` or a country that is not two letters refuses the file, naming the
line. Output lines carry ``id``, ``match``, ``score``, ``ent_num``, ``matched_name`` and
``reasons`` (``docs/screening.md``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from tradeguard.core.errors import TradeGuardError
from tradeguard.screening.decisions import ScreeningDecision, ScreeningSubject

COLUMNS = ("id", "name", "dob", "country")
MAX_NAME = 500
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")


class BatchFileError(TradeGuardError):
    """The batch input cannot be screened; nothing was written."""


@dataclass(frozen=True, slots=True)
class BatchRow:
    """One input row: its id and the subject to screen."""

    row_id: str
    subject: ScreeningSubject


def read_batch(text: str) -> list[BatchRow]:
    """Every row of a batch file, checked; ``BatchFileError`` names the first bad line."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    missing = [column for column in COLUMNS if column not in (reader.fieldnames or ())]
    if missing:
        raise BatchFileError(f"line 1: the header lacks {', '.join(missing)}")
    try:
        rows = [_row(record, reader.line_num) for record in reader]
    except csv.Error as exc:
        raise BatchFileError(f"line {reader.line_num}: not valid CSV ({exc})") from None
    return rows


def _row(record: dict[str, str | None], line: int) -> BatchRow:
    name = (record.get("name") or "").strip()
    if len(name) > MAX_NAME:
        raise BatchFileError(f"line {line}: the name is longer than {MAX_NAME} characters")
    subject = ScreeningSubject(name, _dob(record.get("dob"), line), _country(record, line))
    return BatchRow((record.get("id") or "").strip(), subject)


def _dob(value: str | None, line: int) -> date | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text) if len(text) == 10 else _bad_dob(text, line)  # noqa: PLR2004
    except ValueError:
        return _bad_dob(text, line)


def _bad_dob(text: str, line: int) -> date:
    raise BatchFileError(f"line {line}: dob {text!r} is not a YYYY-MM-DD date")


def _country(record: dict[str, str | None], line: int) -> str | None:
    text = (record.get("country") or "").strip()
    if text and not _COUNTRY.match(text):
        raise BatchFileError(f"line {line}: country {text!r} is not an ISO 3166 alpha-2 code")
    return text.upper() or None


def screened_lines(
    rows: list[BatchRow], screen: Callable[[ScreeningSubject], ScreeningDecision]
) -> Iterator[str]:
    """One JSON line per row, in input order."""
    for row in rows:
        yield json.dumps(result_line(row.row_id, screen(row.subject)), ensure_ascii=False)


def result_line(row_id: str, decision: ScreeningDecision) -> dict[str, object]:
    """The contract's output fields for one row."""
    return {
        "id": row_id,
        "match": decision.match,
        "score": round(decision.score, 4),
        "ent_num": decision.ent_num,
        "matched_name": decision.matched_name,
        "reasons": decision.reasons,
    }
