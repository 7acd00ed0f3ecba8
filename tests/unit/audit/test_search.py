"""Search and retrieval: filters on indexed columns, answers from the signed records."""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import typer
from audit_kit import AuditKit
from pydantic import ValidationError
from sqlalchemy import select
from typer.testing import CliRunner

from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.records import Actor
from tradeguard.audit.search import (
    CSV_COLUMNS,
    MAX_INT64,
    AuditPage,
    AuditQuery,
    events_csv,
    get_event,
    parse_rfc3339_ns,
    search,
)
from tradeguard.cli.audit_query_commands import register
from tradeguard.cli.main import main
from tradeguard.cli.runtime import command_runtime
from tradeguard.core.clock import datetime_to_ns, ns_to_rfc3339
from tradeguard.db.session import transaction

ALICE = Actor("user", "alice", ip="198.51.100.1", session_id="s-9")
BOB = Actor("staff", "bob")
KEYS = Actor.system("keys")


@dataclass
class Trail:
    """The audit kit plus the timestamp of each recorded event, by sequence number."""

    kit: AuditKit
    ts: dict[int, int]

    def add(
        self,
        event_type: str,
        actor: Actor,
        subject: str | None = None,
        request_id: str | None = None,
        **personal: str,
    ) -> int:
        with transaction(self.kit.sessions) as session:
            recorded = self.kit.trail.record(
                session,
                event_type,
                actor,
                subject,
                {"note": event_type},
                personal=personal or None,
                request_id=request_id,
            )
        self.ts[recorded.seq] = recorded.ts_ns
        self.kit.clock.advance(nanoseconds=1_000)
        return recorded.seq

    def page(self, **filters: object) -> AuditPage:
        with self.kit.sessions() as session:
            return search(session, AuditQuery(**filters))  # type: ignore[arg-type]

    def seqs(self, **filters: object) -> list[int]:
        return [event.seq for event in self.page(**filters).events]


@pytest.fixture
def trail(audit: AuditKit) -> Trail:
    """Eight events of assorted types, actors, subjects and request ids."""
    trail = Trail(audit, {})
    trail.add("order.placed", ALICE, "order:1", "req-1")  # 1
    trail.add("order.cancelled", ALICE, "order:1", "req-2")  # 2
    trail.add("key.signing.created", KEYS, "key_id:a")  # 3
    trail.add("key.keyset.rotated", KEYS, "keyset:pii")  # 4
    trail.add("order.placed", BOB, "order:2", "req-3")  # 5
    trail.add("keyboard.pressed", BOB)  # 6
    trail.add("key_x.done", KEYS)  # 7
    trail.add("keyax.done", KEYS)  # 8
    return trail


# Filters ----------------------------------------------------------------------------------


def test_search_when_no_filter_then_every_event_in_sequence_order(trail: Trail) -> None:
    page = trail.page()
    assert [event.seq for event in page.events] == [1, 2, 3, 4, 5, 6, 7, 8]
    assert page.next_after_seq is None


def test_search_when_exact_type_then_only_that_type(trail: Trail) -> None:
    assert trail.seqs(event_type="order.placed") == [1, 5]
    assert trail.seqs(event_type="order") == []


def test_search_when_type_prefix_then_dotted_descendants_only(trail: Trail) -> None:
    assert trail.seqs(event_type="key.*") == [3, 4]
    assert trail.seqs(event_type="key.signing.*") == [3]


def test_search_when_prefix_has_underscore_then_not_a_wildcard(trail: Trail) -> None:
    assert trail.seqs(event_type="key_x.*") == [7]


def test_search_when_actor_then_only_that_actor(trail: Trail) -> None:
    assert trail.seqs(actor_id="alice") == [1, 2]
    assert trail.seqs(actor_id="nobody") == []


def test_search_when_subject_then_only_that_subject(trail: Trail) -> None:
    assert trail.seqs(subject="order:1") == [1, 2]


def test_search_when_request_id_then_only_that_request(trail: Trail) -> None:
    assert trail.seqs(request_id="req-3") == [5]


def test_search_when_filters_combined_then_all_must_hold(trail: Trail) -> None:
    assert trail.seqs(event_type="order.*", actor_id="alice", subject="order:1") == [1, 2]
    assert trail.seqs(event_type="order.placed", actor_id="alice") == [1]
    assert trail.seqs(event_type="order.placed", request_id="req-2") == []


def test_search_when_time_range_then_half_open(trail: Trail) -> None:
    assert trail.seqs(since_ns=trail.ts[2], until_ns=trail.ts[4]) == [2, 3]
    assert trail.seqs(since_ns=trail.ts[2] + 1, until_ns=trail.ts[4] + 1) == [3, 4]
    assert trail.seqs(since_ns=trail.ts[8]) == [8]
    assert trail.seqs(until_ns=trail.ts[1]) == []
    assert trail.seqs(since_ns=trail.ts[3], until_ns=trail.ts[3]) == []


def test_search_when_event_found_then_decoded_from_the_signed_record(trail: Trail) -> None:
    [event] = trail.page(request_id="req-1").events
    assert (event.seq, event.event_type, event.subject, event.request_id) == (
        1,
        "order.placed",
        "order:1",
        "req-1",
    )
    assert event.actor == ALICE
    assert event.ts_ns == trail.ts[1]
    assert event.data == {"note": "order.placed"}
    assert event.personal is None


def test_search_when_event_has_personal_data_then_ciphertext_returned_as_is(trail: Trail) -> None:
    seq = trail.add("account.updated", ALICE, "user:alice", address="12 Elm Street")
    [event] = trail.page(subject="user:alice").events
    assert event.seq == seq
    assert event.personal is not None
    assert event.personal["subject"] == "user:alice"
    assert "12 Elm Street" not in json.dumps(event.to_json())
    with trail.kit.sessions() as session:
        stored = session.scalar(select(AuditEventRow.record).where(AuditEventRow.seq == seq))
    assert stored is not None
    assert json.loads(stored)["personal"] == event.personal


# Pagination -------------------------------------------------------------------------------


def test_search_when_paged_then_cursor_walks_every_event_exactly_once(trail: Trail) -> None:
    seen: list[int] = []
    cursors: list[int | None] = []
    after = 0
    while True:
        page = trail.page(after_seq=after, limit=3)
        seen += [event.seq for event in page.events]
        cursors.append(page.next_after_seq)
        if page.next_after_seq is None:
            break
        after = page.next_after_seq
    assert seen == [1, 2, 3, 4, 5, 6, 7, 8]
    assert cursors == [3, 6, None]


def test_search_when_last_page_is_full_then_no_cursor(trail: Trail) -> None:
    assert trail.page(limit=8).next_after_seq is None
    assert trail.page(limit=4, after_seq=4).next_after_seq is None
    assert trail.page(limit=7).next_after_seq == 7


def test_search_when_filtered_and_paged_then_cursor_follows_matches(trail: Trail) -> None:
    first = trail.page(event_type="order.*", limit=1)
    second = trail.page(event_type="order.*", limit=1, after_seq=first.next_after_seq)
    third = trail.page(event_type="order.*", limit=1, after_seq=second.next_after_seq)
    assert [event.seq for event in (*first.events, *second.events, *third.events)] == [1, 2, 5]
    assert (first.next_after_seq, second.next_after_seq, third.next_after_seq) == (1, 2, None)


# Retrieval --------------------------------------------------------------------------------


def test_get_event_when_present_then_that_event(trail: Trail) -> None:
    with trail.kit.sessions() as session:
        event = get_event(session, 4)
    assert event is not None
    assert (event.seq, event.event_type, event.subject) == (4, "key.keyset.rotated", "keyset:pii")


@pytest.mark.parametrize("seq", [0, -1, 9, 10**6, MAX_INT64, MAX_INT64 + 1])
def test_get_event_when_absent_then_none(trail: Trail, seq: int) -> None:
    with trail.kit.sessions() as session:
        assert get_event(session, seq) is None


# Tampering --------------------------------------------------------------------------------


def test_search_when_actor_column_forged_then_not_returned_for_the_forged_actor(
    trail: Trail,
) -> None:
    trail.kit.tamper("UPDATE audit_events SET actor_id = 'mallory' WHERE seq = 2")
    assert trail.seqs(actor_id="mallory") == []
    assert trail.seqs(event_type="order.cancelled") == [2]
    with trail.kit.sessions() as session:
        event = get_event(session, 2)
    assert event is not None
    assert event.actor.id == "alice"


def test_search_when_type_column_forged_then_not_returned_for_the_forged_type(
    trail: Trail,
) -> None:
    trail.kit.tamper("UPDATE audit_events SET event_type = 'key.signing.created' WHERE seq = 1")
    assert trail.seqs(event_type="key.*") == [3, 4]
    assert trail.seqs(event_type="key.signing.created") == [3]


def test_search_when_time_column_forged_then_not_returned_for_the_forged_range(
    trail: Trail,
) -> None:
    trail.kit.tamper("UPDATE audit_events SET ts_ns = :ts WHERE seq = 1", ts=trail.ts[6])
    assert trail.seqs(since_ns=trail.ts[6], until_ns=trail.ts[6] + 1) == [6]


def test_search_when_record_moved_to_another_row_then_neither_search_nor_get_returns_it(
    trail: Trail,
) -> None:
    trail.kit.tamper(
        "UPDATE audit_events SET record = (SELECT record FROM audit_events WHERE seq = 1) "
        "WHERE seq = 5"
    )
    assert trail.seqs(actor_id="bob") == [6]
    assert trail.seqs(event_type="order.placed") == [1]
    with trail.kit.sessions() as session:
        assert get_event(session, 5) is None


def test_search_when_record_is_garbage_then_row_dropped(trail: Trail) -> None:
    trail.kit.tamper("UPDATE audit_events SET record = :junk WHERE seq = 3", junk=b"\xff{")
    assert trail.seqs(event_type="key.*") == [4]
    with trail.kit.sessions() as session:
        assert get_event(session, 3) is None


# Query validation (no database) -----------------------------------------------------------


@pytest.mark.parametrize("limit", [1, 100, 1000])
def test_query_when_limit_in_bounds_then_accepted(limit: int) -> None:
    assert AuditQuery(limit=limit).limit == limit


@pytest.mark.parametrize("limit", [0, -5, 1001, 10**9])
def test_query_when_limit_out_of_bounds_then_refused(limit: int) -> None:
    with pytest.raises(ValidationError, match="limit"):
        AuditQuery(limit=limit)


def test_query_when_defaults_then_first_hundred() -> None:
    query = AuditQuery()
    assert (query.limit, query.after_seq, query.event_type) == (100, 0, None)


@pytest.mark.parametrize(
    "filters",
    [
        {"event_type": "key*"},
        {"event_type": "*"},
        {"event_type": "key.%"},
        {"event_type": "order placed"},
        {"event_type": ".*"},
        {"actor_id": "ali\x00ce"},
        {"actor_id": ""},
        {"subject": "s" * 129},
        {"since_ns": -1},
        {"until_ns": MAX_INT64 + 1},
        {"after_seq": -1},
        {"limit": "10"},
        {"unknown": 1},
    ],
)
def test_query_when_filter_invalid_then_refused(filters: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        AuditQuery(**filters)  # type: ignore[arg-type]


# Time text and CSV (no database) ----------------------------------------------------------

MOMENT_NS = datetime_to_ns(datetime(2026, 11, 21, 9, 30, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-21T09:30:00Z", MOMENT_NS),
        ("2026-11-21T09:30:00.000000001Z", MOMENT_NS + 1),
        ("2026-11-21T09:30:00.5z", MOMENT_NS + 500_000_000),
        ("2026-11-21T10:30:00+01:00", MOMENT_NS),
        ("2026-11-21T04:00:00.123456-05:30", MOMENT_NS + 123_456_000),
    ],
)
def test_parse_rfc3339_when_valid_then_exact_nanoseconds(text: str, expected: int) -> None:
    assert parse_rfc3339_ns(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-21",
        "yesterday",
        "2026-11-21T09:30:00",
        "2026-13-01T00:00:00Z",
        "2026-11-21T09:30:00.1234567890Z",
        "2026-11-21T25:00:00Z",
        "2026-11-21T09:30:00+24:00",
        "2026-02-30T09:30:00Z",
        "2026-11-21T09:30:60Z",
        "",
    ],
)
def test_parse_rfc3339_when_invalid_then_value_error(text: str) -> None:
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_rfc3339_ns(text)


def test_ns_to_rfc3339_when_formatted_then_nine_digits_and_parses_back() -> None:
    assert ns_to_rfc3339(MOMENT_NS + 7) == "2026-11-21T09:30:00.000000007Z"
    assert ns_to_rfc3339(0) == "1970-01-01T00:00:00.000000000Z"
    assert parse_rfc3339_ns(ns_to_rfc3339(MOMENT_NS + 123_456_789)) == MOMENT_NS + 123_456_789


def test_events_csv_when_written_then_header_and_one_row_per_event(trail: Trail) -> None:
    events = trail.page(actor_id="alice").events
    rows = list(csv.DictReader(io.StringIO(events_csv(events))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [row["seq"] for row in rows] == ["1", "2"]
    first = rows[0]
    assert first["ts"] == ns_to_rfc3339(trail.ts[1])
    assert (first["actor_kind"], first["actor_id"], first["actor_ip"]) == (
        "user",
        "alice",
        "198.51.100.1",
    )
    assert json.loads(first["data"]) == {"note": "order.placed"}
    assert first["data"] == '{"note":"order.placed"}'


# Command line (SQLite database made by `tradeguard init`) ---------------------------------


@pytest.fixture
def initialised(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["tradeguard", "init"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code in {0, None}, capsys.readouterr().err
    with command_runtime() as runtime, transaction(runtime.sessions) as session:
        for number, actor in enumerate((ALICE, BOB, ALICE)):
            runtime.audit.record(
                session, "order.placed", actor, f"order:{number}", {"n": number}, request_id="r-1"
            )


def _cli(*args: str) -> tuple[int, str, str]:
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.usefixtures("initialised")
def test_cli_search_when_filtered_then_json_lines_of_matching_events() -> None:
    code, out, _ = _cli("search", "--type", "order.*", "--actor", "alice")
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert [event["subject"] for event in events] == ["order:0", "order:2"]
    assert {event["actor"]["id"] for event in events} == {"alice"}


@pytest.mark.usefixtures("initialised")
def test_cli_search_when_csv_then_parsable_with_header() -> None:
    code, out, _ = _cli("search", "--type", "order.placed", "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [row["actor_id"] for row in rows] == ["alice", "bob", "alice"]


@pytest.mark.usefixtures("initialised")
def test_cli_search_when_more_than_limit_then_cursor_on_stderr() -> None:
    code, out, err = _cli("search", "--type", "order.placed", "--limit", "2")
    assert code == 0
    assert len(out.splitlines()) == 2
    cursor = int(err.strip().rsplit(" ", 1)[1])
    code, out, err = _cli("search", "--type", "order.placed", "--after-seq", str(cursor))
    assert [json.loads(line)["subject"] for line in out.splitlines()] == ["order:2"]
    assert err == ""


@pytest.mark.usefixtures("initialised")
def test_cli_search_when_key_prefix_then_key_events_from_init() -> None:
    code, out, _ = _cli("search", "--type", "key.*", "--limit", "1000")
    assert code == 0
    types = {json.loads(line)["type"] for line in out.splitlines()}
    assert types
    assert all(name.startswith("key.") for name in types)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--from", "yesterday"], "--from"),
        (["--to", "2026-11-21"], "--to"),
        (["--type", "order placed"], "--type"),
        (["--limit", "0"], "--limit"),
        (["--limit", "1001"], "--limit"),
    ],
)
def test_cli_search_when_input_invalid_then_usage_error_naming_the_option(
    args: list[str], option: str
) -> None:
    code, _, err = _cli("search", *args)
    assert code == 2
    assert option in err
