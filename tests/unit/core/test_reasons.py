"""``Reason`` keeps what people write and refuses what would disguise or rewrite it."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from tradeguard.core.reasons import MAX_REASON, Reason

REASON: TypeAdapter[str] = TypeAdapter(Reason)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("  ticket 4711  ", "ticket 4711"),
        ("ticket 12\nrm -rf / please", "ticket 12\nrm -rf / please"),
        ("see\tthe runbook", "see\tthe runbook"),
        ("Überweisung prüfen", "Überweisung prüfen"),
    ],
)
def test_reason_when_written_text_then_kept(given: str, kept: str) -> None:
    assert REASON.validate_python(given) == kept


@pytest.mark.parametrize(
    "given",
    [
        "ab",  # too short
        "x" * (MAX_REASON + 1),
        "   \n ",
        "clear\x1b[2J the screen",  # terminal escape
        "invoice \u202etxt.exe",  # right-to-left override
        "zero\u200bwidth",  # zero-width space
        "carriage\rreturn",
        "nul\x00byte",
    ],
)
def test_reason_when_control_or_format_characters_then_refused(given: str) -> None:
    with pytest.raises(ValidationError):
        REASON.validate_python(given)
