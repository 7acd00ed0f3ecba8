"""Periodic reports: figures from the signed records, the trail's verification, a signature."""

from __future__ import annotations

import copy
import json
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import typer
from audit_kit import TRADER, AuditKit
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from tradeguard.audit.records import Actor
from tradeguard.audit.report import (
    Period,
    PeriodKind,
    ReportContext,
    build_report,
    period_containing,
    previous_period,
    render_text,
    signed_report,
    verify_report,
)
from tradeguard.cli.audit_query_commands import register
from tradeguard.cli.main import main
from tradeguard.cli.runtime import command_runtime
from tradeguard.core.clock import datetime_to_ns
from tradeguard.crypto.signing import SigningPurpose
from tradeguard.db.session import transaction

DAY_ONE = date(2026, 11, 21)  # the frozen clock starts at 09:30 on this day
DAY_TWO = date(2026, 11, 22)
KEYS = Actor.system("keys")


def _record(audit: AuditKit, event_type: str, actor: Actor = TRADER) -> None:
    with transaction(audit.sessions) as session:
        audit.trail.record(session, event_type, actor, "order:1", {"qty": 1})
    audit.clock.advance(nanoseconds=1_000)


@pytest.fixture
def two_days(audit: AuditKit) -> AuditKit:
    """Day one: seq 1-5 (checkpoint at 5), the last a nanosecond before midnight.

    Day two: seq 6-8, the first at midnight exactly, then a checkpoint at 8.
    """
    for event_type in ("order.placed", "order.placed", "order.cancelled", "order.placed"):
        _record(audit, event_type)
    midnight = datetime(2026, 11, 22, tzinfo=UTC)
    audit.clock.set(datetime_to_ns(midnight) - 1)
    _record(audit, "order.filled")
    audit.clock.set(midnight)
    _record(audit, "order.placed")
    audit.clock.set(midnight + timedelta(minutes=10))
    _record(audit, "key.signing.rotated", KEYS)
    _record(audit, "order.placed")
    with transaction(audit.sessions) as session:
        audit.trail.checkpoint(session)
    audit.clock.set(datetime(2026, 11, 23, 8, tzinfo=UTC))
    return audit


def _context(audit: AuditKit, retention_years: int = 7) -> ReportContext:
    return ReportContext(
        engine=audit.engine,
        witness=audit.witness,
        signing=audit.crypto.signing,
        retention_years=retention_years,
        now_ns=audit.clock.now_ns(),
    )


def _signed(audit: AuditKit, day: date) -> dict[str, Any]:
    with audit.sessions() as session:
        return signed_report(session, _context(audit), period_containing(PeriodKind.DAY, day))


def _public_key(audit: AuditKit, key_id: str) -> bytes:
    with audit.sessions() as session:
        key = audit.crypto.signing.public_key(session, key_id, purpose=SigningPurpose.AUDIT)
    return key.public_bytes


# Figures ----------------------------------------------------------------------------------


def test_report_when_day_one_then_counts_by_type_and_bounds(two_days: AuditKit) -> None:
    events = _signed(two_days, DAY_ONE)["report"]["events"]
    assert events == {
        "count": 5,
        "by_type": {"order.cancelled": 1, "order.filled": 1, "order.placed": 3},
        "first_seq": 1,
        "last_seq": 5,
        "first_ts": "2026-11-21T09:30:00.000000000Z",
        "last_ts": "2026-11-21T23:59:59.999999999Z",
        "skipped_rows": 0,
    }


def test_report_when_day_two_then_midnight_event_belongs_to_it(two_days: AuditKit) -> None:
    report = _signed(two_days, DAY_TWO)["report"]
    assert report["events"]["by_type"] == {"key.signing.rotated": 1, "order.placed": 2}
    assert (report["events"]["first_seq"], report["events"]["last_seq"]) == (6, 8)
    assert report["events"]["first_ts"] == "2026-11-22T00:00:00.000000000Z"
    assert report["period"] == {
        "kind": "day",
        "label": "2026-11-22",
        "start": "2026-11-22T00:00:00.000000000Z",
        "end": "2026-11-23T00:00:00.000000000Z",
        "start_ns": datetime_to_ns(datetime(2026, 11, 22, tzinfo=UTC)),
        "end_ns": datetime_to_ns(datetime(2026, 11, 23, tzinfo=UTC)),
    }


def test_report_when_day_empty_then_zero_counts_and_no_checkpoints(two_days: AuditKit) -> None:
    report = _signed(two_days, date(2026, 11, 20))["report"]
    assert report["events"]["count"] == 0
    assert report["events"]["by_type"] == {}
    assert report["events"]["first_seq"] is None
    assert report["checkpoints"] == []


def test_report_when_month_then_both_days_counted(two_days: AuditKit) -> None:
    with two_days.sessions() as session:
        period = period_containing(PeriodKind.MONTH, DAY_ONE)
        report = build_report(session, _context(two_days), period)
    assert report["period"]["label"] == "2026-11"
    assert report["events"]["count"] == 8
    assert report["events"]["by_type"]["order.placed"] == 5
    assert [item["tree_size"] for item in report["checkpoints"]] == [5, 8]


def test_report_when_checkpoints_fall_in_period_then_listed(two_days: AuditKit) -> None:
    day_one = _signed(two_days, DAY_ONE)["report"]["checkpoints"]
    day_two = _signed(two_days, DAY_TWO)["report"]["checkpoints"]
    assert [item["tree_size"] for item in day_one] == [5]
    assert [item["tree_size"] for item in day_two] == [8]
    assert len(day_one[0]["root"]) == 64
    assert day_one[0]["key_id"].startswith("sk-audit-")


def test_report_when_trail_intact_then_verification_ok(two_days: AuditKit) -> None:
    verification = _signed(two_days, DAY_ONE)["report"]["verification"]
    assert verification == {
        "ok": True,
        "events": 8,
        "checkpoints": 2,
        "first_bad_seq": None,
        "problem": None,
        "repairable": False,
    }


def test_report_when_checkpoint_unpublished_then_verification_says_repairable(
    two_days: AuditKit,
) -> None:
    two_days.witness.path.unlink()
    verification = _signed(two_days, DAY_ONE)["report"]["verification"]
    assert (verification["ok"], verification["repairable"]) == (False, True)
    assert "run `tradeguard audit checkpoint`" in verification["problem"]


def test_report_when_trail_tampered_then_verification_names_the_event(two_days: AuditKit) -> None:
    two_days.tamper("UPDATE audit_events SET actor_id = 'mallory' WHERE seq = 7")
    verification = _signed(two_days, DAY_ONE)["report"]["verification"]
    assert verification["ok"] is False
    assert verification["first_bad_seq"] == 7
    assert "searchable columns differ" in verification["problem"]


def test_report_when_type_column_forged_then_counts_follow_the_record(two_days: AuditKit) -> None:
    two_days.tamper("UPDATE audit_events SET event_type = 'order.placed' WHERE seq = 3")
    events = _signed(two_days, DAY_ONE)["report"]["events"]
    assert events["by_type"]["order.cancelled"] == 1
    assert events["by_type"]["order.placed"] == 3


def test_report_when_time_column_forged_then_row_skipped_not_counted(two_days: AuditKit) -> None:
    day_one_noon = datetime_to_ns(datetime(2026, 11, 21, 12, tzinfo=UTC))
    two_days.tamper("UPDATE audit_events SET ts_ns = :ts WHERE seq = 7", ts=day_one_noon)
    events = _signed(two_days, DAY_ONE)["report"]["events"]
    assert events["count"] == 5
    assert events["skipped_rows"] == 1


def test_report_when_generated_then_retention_stated(two_days: AuditKit) -> None:
    retention = _signed(two_days, DAY_ONE)["report"]["retention"]
    assert retention == {
        "years": 7,
        "purge_before": "2019-11-23",
        "policy": "never purged by the API",
    }


def test_report_when_generated_on_leap_day_then_purge_date_is_28_february(audit: AuditKit) -> None:
    audit.clock.set(datetime(2028, 2, 29, 12, tzinfo=UTC))
    with audit.sessions() as session:
        report = build_report(
            session, _context(audit, 10), period_containing(PeriodKind.DAY, DAY_ONE)
        )
    assert report["retention"]["purge_before"] == "2018-02-28"
    assert report["generated_at"] == "2028-02-29T12:00:00.000000000Z"


# Signature --------------------------------------------------------------------------------


def test_signature_when_checked_with_published_key_then_valid(two_days: AuditKit) -> None:
    document = _signed(two_days, DAY_ONE)
    assert verify_report(document, _public_key(two_days, document["key_id"]))
    round_tripped = json.loads(json.dumps(document))
    assert verify_report(round_tripped, _public_key(two_days, document["key_id"]))


@pytest.mark.parametrize(
    ("path", "forged"),
    [
        (("events", "count"), 4),
        (("events", "by_type", "order.placed"), 2),
        (("events", "last_seq"), 4),
        (("events", "first_ts"), "2026-11-21T09:31:00.000000000Z"),
        (("verification", "ok"), False),
        (("verification", "events"), 9),
        (("checkpoints", 0, "tree_size"), 6),
        (("period", "label"), "2026-11-20"),
        (("retention", "years"), 1),
        (("generated_at",), "2030-01-01T00:00:00.000000000Z"),
        (("events", "count"), 5.0),
    ],
)
def test_signature_when_any_figure_edited_then_invalid(
    two_days: AuditKit, path: tuple[str | int, ...], forged: object
) -> None:
    document = _signed(two_days, DAY_ONE)
    public_key = _public_key(two_days, document["key_id"])
    edited = copy.deepcopy(document)
    target = edited["report"]
    for step in path[:-1]:
        target = target[step]
    assert target[path[-1]] != forged or type(target[path[-1]]) is not type(forged)
    target[path[-1]] = forged
    assert not verify_report(edited, public_key)
    assert verify_report(document, public_key)


def test_signature_when_another_key_or_garbage_then_invalid(two_days: AuditKit) -> None:
    document = _signed(two_days, DAY_ONE)
    stranger = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    assert not verify_report(document, stranger)
    assert not verify_report(document, b"short")
    public_key = _public_key(two_days, document["key_id"])
    assert not verify_report({**document, "signature": "not base64!"}, public_key)
    assert not verify_report({**document, "signature": document["signature"][:-8]}, public_key)
    assert not verify_report({"report": document["report"]}, public_key)


def test_signature_when_audit_key_rotated_then_new_key_signs_old_report_still_verifies(
    two_days: AuditKit,
) -> None:
    before = _signed(two_days, DAY_ONE)
    with transaction(two_days.sessions) as session:
        two_days.crypto.signing.rotate(session, SigningPurpose.AUDIT)
    after = _signed(two_days, DAY_ONE)
    assert after["key_id"] != before["key_id"]
    assert verify_report(before, _public_key(two_days, before["key_id"]))
    assert verify_report(after, _public_key(two_days, after["key_id"]))
    assert not verify_report(before, _public_key(two_days, after["key_id"]))


# Text rendering ---------------------------------------------------------------------------


def test_render_text_when_rendered_then_contains_every_figure(two_days: AuditKit) -> None:
    document = _signed(two_days, DAY_ONE)
    text = render_text(document)
    lines = text.splitlines()
    assert lines[0] == "TradeGuard audit report: day 2026-11-21"
    for expected in (
        "period: 2026-11-21T00:00:00.000000000Z (inclusive) to 2026-11-22T00:00:00.000000000Z",
        "generated: 2026-11-23T08:00:00.000000000Z",
        "events: 5",
        "first: seq 1 at 2026-11-21T09:30:00.000000000Z",
        "last: seq 5 at 2026-11-21T23:59:59.999999999Z",
        "  order.placed: 3",
        "  order.cancelled: 1",
        "  order.filled: 1",
        "checkpoints in period: 1",
        "verification: audit trail intact: 8 events, 2 checkpoints verified",
        "retention: 7 years; events before 2019-11-23 may be purged (never purged by the API)",
    ):
        assert expected in text, expected
    checkpoint = document["report"]["checkpoints"][0]
    assert f"  tree size 5 at {checkpoint['ts']} root {checkpoint['root']}" in text
    assert lines[-1] == f"signature: Ed25519 key {document['key_id']} {document['signature']}"


def test_render_text_when_trail_tampered_then_says_not_intact(two_days: AuditKit) -> None:
    two_days.tamper("DELETE FROM audit_events WHERE seq = 4")
    text = render_text(_signed(two_days, DAY_ONE))
    assert "verification: audit trail NOT intact at sequence 4: event 4 is missing" in text
    assert "events: 4" in text


# Periods (no database) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "day", "start", "end", "label"),
    [
        (PeriodKind.DAY, date(2026, 12, 31), date(2026, 12, 31), date(2027, 1, 1), "2026-12-31"),
        (PeriodKind.MONTH, date(2026, 12, 31), date(2026, 12, 1), date(2027, 1, 1), "2026-12"),
        (PeriodKind.MONTH, date(2028, 2, 29), date(2028, 2, 1), date(2028, 3, 1), "2028-02"),
        (PeriodKind.MONTH, date(2026, 1, 31), date(2026, 1, 1), date(2026, 2, 1), "2026-01"),
        (PeriodKind.YEAR, date(2026, 7, 4), date(2026, 1, 1), date(2027, 1, 1), "2026"),
    ],
)
def test_period_containing_when_day_given_then_calendar_bounds(
    kind: PeriodKind, day: date, start: date, end: date, label: str
) -> None:
    period = period_containing(kind, day)
    assert (period.start, period.end, period.label) == (start, end, label)


@pytest.mark.parametrize(
    ("kind", "today", "label"),
    [
        (PeriodKind.DAY, date(2026, 3, 1), "2026-02-28"),
        (PeriodKind.MONTH, date(2026, 1, 15), "2025-12"),
        (PeriodKind.MONTH, date(2026, 11, 1), "2026-10"),
        (PeriodKind.YEAR, date(2026, 1, 1), "2025"),
    ],
)
def test_previous_period_when_today_given_then_last_complete_period(
    kind: PeriodKind, today: date, label: str
) -> None:
    assert previous_period(kind, today).label == label


@pytest.mark.parametrize("year", [1969, 2262, 9999])
def test_period_containing_when_year_unrepresentable_then_refused(year: int) -> None:
    with pytest.raises(ValueError, match="reports cover"):
        period_containing(PeriodKind.DAY, date(year, 6, 1))


def test_period_when_last_supported_year_then_end_fits_64_bits() -> None:
    period: Period = period_containing(PeriodKind.YEAR, date(2261, 6, 1))
    assert period.end_ns < 2**63


# Command line (SQLite database made by `tradeguard init`) ---------------------------------


@pytest.fixture
def initialised(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["tradeguard", "init"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code in {0, None}, capsys.readouterr().err
    with command_runtime() as runtime, transaction(runtime.sessions) as session:
        runtime.audit.record(session, "order.placed", TRADER, "order:1", {"n": 1})


def _cli(*args: str) -> tuple[int, str, str]:
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


@pytest.mark.usefixtures("initialised")
def test_cli_report_when_json_then_signed_document_that_verifies() -> None:
    code, out, err = _cli("report", "--period", "day", "--date", _today(), "--json")
    assert code == 0, err
    document = json.loads(out)
    assert document["report"]["events"]["by_type"]["order.placed"] == 1
    assert document["report"]["verification"]["ok"] is True
    with command_runtime() as runtime, runtime.sessions() as session:
        key = runtime.crypto.signing.public_key(session, document["key_id"])
    assert verify_report(document, key.public_bytes)


@pytest.mark.usefixtures("initialised")
def test_cli_report_when_text_then_figures_and_signature_line() -> None:
    code, out, _ = _cli("report", "--period", "month", "--date", _today())
    assert code == 0
    assert out.startswith(f"TradeGuard audit report: month {_today()[:7]}\n")
    assert "  order.placed: 1" in out
    assert "verification: audit trail intact" in out
    assert out.splitlines()[-1].startswith("signature: Ed25519 key sk-audit-")


@pytest.mark.usefixtures("initialised")
def test_cli_report_when_no_date_then_previous_complete_period() -> None:
    code, out, _ = _cli("report", "--period", "day", "--json")
    assert code == 0
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    assert json.loads(out)["report"]["period"]["label"] == yesterday.isoformat()


@pytest.mark.usefixtures("initialised")
def test_cli_report_when_period_has_not_begun_then_usage_error_and_nothing_signed() -> None:
    next_year = str(datetime.now(UTC).year + 1)
    code, out, err = _cli("report", "--period", "year", "--date", f"{next_year}-06-01")
    assert code == 2
    assert out == ""
    assert f"the year {next_year} has not begun yet" in " ".join(err.replace("│", " ").split())


@pytest.mark.parametrize(
    "args",
    [
        ["--period", "week"],
        ["--period", "day", "--date", "2026-11-31"],
        ["--period", "day", "--date", "21/11/2026"],
        ["--period", "day", "--date", "9999-01-01"],
        ["--date", "2026-11-21"],
    ],
)
def test_cli_report_when_input_invalid_then_usage_error(args: list[str]) -> None:
    code, _, _ = _cli("report", *args)
    assert code == 2
