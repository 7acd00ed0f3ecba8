"""Export ranges: either end a sequence number or a UTC time, omitted ends the whole trail,
and a range that is not all in the trail refused saying where the trail ends."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from audit_kit import AuditKit

from tradeguard.audit.export import BundleError, export_bundle
from tradeguard.audit.export_range import RangeError, export_range
from tradeguard.db.session import transaction

EVENTS = 23
"""Recorded one microsecond apart from the frozen start, so event N is at start + (N - 1) µs."""


@pytest.fixture
def trail(audit: AuditKit) -> AuditKit:
    audit.record_many(EVENTS)
    return audit


def _at(trail: AuditKit, seq: int) -> str:
    """The UTC time of event ``seq``, as an auditor would write it."""
    start = trail.clock.now() - timedelta(microseconds=EVENTS)
    return (start + timedelta(microseconds=seq - 1)).isoformat()


def _range(trail: AuditKit, start: str | None, end: str | None) -> tuple[int, int]:
    with trail.sessions() as session:
        return export_range(session, start, end)


def _export(trail: AuditKit, first: int, last: int, tmp_path: Path) -> None:
    with transaction(trail.sessions) as session:
        export_bundle(session, trail.trail, first, last, tmp_path / "bundle")


def test_range_when_both_ends_omitted_then_the_whole_trail(trail: AuditKit) -> None:
    assert _range(trail, None, None) == (1, EVENTS)


def test_range_when_one_end_omitted_then_from_the_first_or_to_the_head(trail: AuditKit) -> None:
    assert _range(trail, "5", None) == (5, EVENTS)
    assert _range(trail, None, "7") == (1, 7)


def test_range_when_sequence_numbers_then_both_included(trail: AuditKit) -> None:
    assert _range(trail, "3", "9") == (3, 9)


def test_range_when_times_then_start_included_and_end_excluded(trail: AuditKit) -> None:
    assert _range(trail, _at(trail, 3), _at(trail, 10)) == (3, 9)


def test_range_when_kinds_mixed_then_each_end_resolved_on_its_own(trail: AuditKit) -> None:
    assert _range(trail, "4", _at(trail, 10)) == (4, 9)
    assert _range(trail, _at(trail, 6), "12") == (6, 12)


def test_range_when_times_beyond_what_the_trail_holds_then_the_whole_trail(
    trail: AuditKit,
) -> None:
    assert _range(trail, "1900-01-01", "2999-01-01") == (1, EVENTS)


def test_range_when_times_name_no_event_then_range_error_naming_them(trail: AuditKit) -> None:
    with pytest.raises(RangeError, match="no audit events between 2001-01-01 and 2001-01-02"):
        _range(trail, "2001-01-01", "2001-01-02")
    with pytest.raises(RangeError, match="no audit events between 2099-01-01 and the head"):
        _range(trail, "2099-01-01", None)


def test_range_when_an_end_is_neither_kind_then_range_error(trail: AuditKit) -> None:
    with pytest.raises(RangeError, match="'last week' is neither a sequence number nor a date"):
        _range(trail, None, "last week")


def test_export_when_end_past_the_head_then_refused_naming_the_head_and_what_to_do(
    trail: AuditKit, tmp_path: Path
) -> None:
    with pytest.raises(BundleError) as refused:
        _export(trail, 1, 999, tmp_path)
    assert str(refused.value) == (
        "cannot export up to 999: event 999 is past the head of the audit trail (sequence 23);"
        " end the range at 23 or earlier, or leave the end out to export up to the head"
    )
    assert not (tmp_path / "bundle").exists()


@pytest.mark.parametrize(
    ("first", "last", "problem"),
    [
        (0, 5, "sequence numbers start at 1, not 0"),
        (30, 40, "nothing to export: event 30 is past the head of the audit trail (sequence 23)"),
        (9, 5, "nothing to export: the range starts at 9, after its end at 5"),
    ],
)
def test_export_when_range_names_no_event_then_refused_saying_why(
    trail: AuditKit, tmp_path: Path, first: int, last: int, problem: str
) -> None:
    with pytest.raises(BundleError) as refused:
        _export(trail, first, last, tmp_path)
    assert str(refused.value) == problem


def test_export_when_trail_empty_then_refused(audit: AuditKit, tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="nothing to export: the audit trail is empty"):
        _export(audit, 1, 1, tmp_path)
