"""Instrument reference data: parsing and validating the CSV, and loading it all or nothing."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from support import TestDatabase
from tradeguard.audit.checkpoints import Witness
from tradeguard.audit.recorder import AuditTrail, CheckpointPolicy
from tradeguard.audit.records import Actor
from tradeguard.audit.search import AuditEvent, AuditQuery, search
from tradeguard.core.clock import FixedClock
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.fields import FIELD_CRYPTO_KEY
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.crypto.runtime import crypto_over, provision_keys
from tradeguard.db.session import session_factory, transaction
from tradeguard.trading.models import InstrumentRow
from tradeguard.trading.reference_data import (
    MAX_LINE_BYTES,
    InstrumentFile,
    InstrumentSpec,
    LoadReport,
    ReferenceDataError,
    RowProblem,
    all_instruments,
    load_instruments,
    load_sample_if_empty,
    parse_instruments,
)

HEADER = (
    "symbol,name,tier,tick_size,lot_size,reference_price,restricted,threshold,easy_to_borrow,status"
)
APPLE = "AAPL,Apple Inc.,1,0.01,1,187.25,false,false,true,active"
PENNY = "ZOM,Zomedica Corp.,2,0.0001,100,0.1420,false,true,false,halted"
OPERATOR = Actor("staff", "cli:ops")


def csv_bytes(*rows: str, header: str = HEADER, newline: str = "\n") -> bytes:
    return newline.join([header, *rows]).encode() + newline.encode()


def parse(data: bytes) -> InstrumentFile:
    return parse_instruments(io.BytesIO(data))


def problems_of(data: bytes) -> list[RowProblem]:
    with pytest.raises(ReferenceDataError) as refused:
        parse(data)
    return list(refused.value.problems)


# --- parsing ---------------------------------------------------------------------------------


def test_parse_when_rows_good_then_integer_units_and_flags() -> None:
    apple, zomedica = parse(csv_bytes(APPLE, PENNY)).instruments

    assert apple == InstrumentSpec(
        symbol="AAPL",
        name="Apple Inc.",
        tier=1,
        tick_size=100,
        lot_size=1,
        reference_price=1_872_500,
        restricted=False,
        threshold=False,
        easy_to_borrow=True,
        status="active",
    )
    assert (zomedica.tick_size, zomedica.lot_size, zomedica.reference_price) == (1, 100, 1_420)
    assert (zomedica.threshold, zomedica.easy_to_borrow, zomedica.status) == (True, False, "halted")


def test_parse_when_done_then_digest_is_sha256_of_the_bytes() -> None:
    data = csv_bytes(APPLE, PENNY)
    assert parse(data).sha256 == hashlib.sha256(data).hexdigest()


def test_parse_when_status_column_absent_or_empty_then_active() -> None:
    without = csv_bytes(APPLE.rsplit(",", 1)[0], header=HEADER.rsplit(",", 1)[0])
    empty = csv_bytes("AAPL,Apple Inc.,1,0.01,1,187.25,false,false,true,")

    assert parse(without).instruments[0].status == "active"
    assert parse(empty).instruments[0].status == "active"


def test_parse_when_spreadsheet_export_then_accepted() -> None:
    """A BOM, CRLF line ends, shuffled columns, quoted names, upper-case flags, blank lines."""
    header = (
        "name,symbol,tier,tick_size,lot_size,reference_price,easy_to_borrow,threshold,restricted"
    )
    data = b"\xef\xbb\xbf" + csv_bytes(
        '"Amazon.com, Inc.",AMZN,1,0.01,1,231.03,TRUE,False,false',
        "",
        header=header,
        newline="\r\n",
    )

    (amazon,) = parse(data).instruments

    assert (amazon.symbol, amazon.name, amazon.easy_to_borrow) == ("AMZN", "Amazon.com, Inc.", True)


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("aapl,Apple Inc.,1,0.01,1,187.25,false,false,true,active", "symbol 'aapl' is not"),
        ("ABCDEFGHIJKLMNOPQ,Long,1,0.01,1,187.25,false,false,true,active", "symbol 'ABCDEFGHIJ"),
        ("AA PL,Apple Inc.,1,0.01,1,187.25,false,false,true,active", "symbol 'AA PL' is not"),
        (".A,Dot,1,0.01,1,187.25,false,false,true,active", "symbol '.A' is not"),
        (",Nameless,1,0.01,1,187.25,false,false,true,active", "symbol '' is not"),
        ("AAPL,,1,0.01,1,187.25,false,false,true,active", "name is empty"),
        (f"AAPL,{'x' * 121},1,0.01,1,187.25,false,false,true,active", "name is longer than 120"),
        ("AAPL,Apple\x1b[2J,1,0.01,1,187.25,false,false,true,active", "has control characters"),
        ("AAPL,Apple Inc.,3,0.01,1,187.25,false,false,true,active", "tier must be 1 or 2, not '3'"),
        ("AAPL,Apple Inc.,1.0,0.01,1,187.25,false,false,true,active", "tier must be 1 or 2"),
        ("AAPL,Apple Inc.,1,0,1,187.25,false,false,true,active", "tick_size must be above zero"),
        ("AAPL,Apple Inc.,1,-0.01,1,187.25,false,false,true,active", "tick_size must be above"),
        ("AAPL,Apple Inc.,1,1e-2,1,187.25,false,false,true,active", "tick_size is not a price"),
        ("AAPL,Apple Inc.,1,0.00001,1,187.25,false,false,true,active", "more than 4 decimal"),
        ("AAPL,Apple Inc.,1,0.01,0,187.25,false,false,true,active", "lot_size must be a whole"),
        ("AAPL,Apple Inc.,1,0.01,1.5,187.25,false,false,true,active", "lot_size must be a whole"),
        ("AAPL,Apple Inc.,1,0.01,1000001,187.25,false,false,true,active", "from 1 to 1000000"),
        ("AAPL,Apple Inc.,1,0.01,1,,false,false,true,active", "reference_price is not a price"),
        ("AAPL,Apple Inc.,1,0.01,1,0,false,false,true,active", "reference_price must be above"),
        ("AAPL,Apple Inc.,1,0.01,1,NaN,false,false,true,active", "reference_price is not a price"),
        ("AAPL,Apple Inc.,1,0.05,1,187.27,false,false,true,active", "not a multiple of the tick"),
        ("AAPL,Apple Inc.,1,0.0001,1,187.2501,false,false,true,active", "finer than 0.01"),
        ("AAPL,Apple Inc.,1,0.01,1,187.25,yes,false,true,active", "restricted must be true or"),
        ("AAPL,Apple Inc.,1,0.01,1,187.25,false,1,true,active", "threshold must be true or"),
        ("AAPL,Apple Inc.,1,0.01,1,187.25,false,false,,active", "easy_to_borrow must be true"),
        ("AAPL,Apple Inc.,1,0.01,1,187.25,false,false,true,open", "status must be one of"),
        ("AAPL,Apple Inc.,1,0.01,1,187.25,false,false,true", "expected 10 fields, found 9"),
        ("AAPL,Apple Inc.,1,0.01,1,187.25,false,false,true,active,x", "expected 10 fields"),
    ],
)
def test_parse_when_row_bad_then_refused_naming_line_and_reason(row: str, reason: str) -> None:
    problems = problems_of(csv_bytes(PENNY, row))

    assert [problem.line for problem in problems] == [3]
    assert reason in problems[0].reason


def test_parse_when_symbol_repeated_then_later_line_refused_naming_the_first() -> None:
    problems = problems_of(csv_bytes(APPLE, PENNY, APPLE))
    assert problems == [RowProblem(4, "symbol AAPL already on line 2")]


def test_parse_when_row_has_several_faults_then_each_is_reported() -> None:
    problems = problems_of(csv_bytes("aapl,,3,0.01,1,187.25,false,false,true,active"))
    assert [problem.reason.split()[0] for problem in problems] == ["symbol", "name", "tier"]


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (HEADER + ",sector", "unknown column 'sector'"),
        (HEADER.replace("tier,", ""), "missing column 'tier'"),
        (HEADER + ",tier", "column 'tier' appears more than once"),
    ],
)
def test_parse_when_header_bad_then_refused_on_line_one(header: str, reason: str) -> None:
    assert problems_of(csv_bytes(APPLE, header=header)) == [RowProblem(1, reason)]


def test_parse_when_file_empty_then_refused() -> None:
    (problem,) = problems_of(b"")
    assert (problem.line, problem.reason.split(":")[0]) == (1, "empty file")


def test_parse_when_line_not_utf8_then_refused_and_other_lines_still_checked() -> None:
    data = csv_bytes(APPLE, "ZOM,Zomedica \xff,2,0.0001,1,0.1420,false,false,true,active")
    data = data.replace("\xff".encode(), b"\xff") + b"BAD,Bad,9,0.01,1,1.00,false,false,true,\n"

    problems = problems_of(data)

    assert [(problem.line, problem.reason[:12]) for problem in problems] == [
        (3, "not UTF-8 te"),
        (4, "tier must be"),
    ]


def test_parse_when_line_too_long_then_refused_without_reading_it_whole() -> None:
    data = csv_bytes(APPLE, "X" * (3 * MAX_LINE_BYTES), PENNY)

    problems = problems_of(data)

    assert problems == [RowProblem(3, f"longer than {MAX_LINE_BYTES} bytes")]


def test_parse_when_quote_never_closed_then_refused() -> None:
    (problem,) = problems_of(csv_bytes(APPLE, 'ZOM,"Zomedica,2,0.0001,1,0.1420,false,false,true,'))
    assert problem.reason.startswith("not readable as CSV")


def test_parse_when_bad_rows_then_message_lists_each_line() -> None:
    with pytest.raises(ReferenceDataError) as refused:
        parse(csv_bytes(APPLE.replace(",1,", ",7,", 1), PENNY, PENNY))
    assert str(refused.value) == (
        "2 bad line(s), nothing loaded: line 2: tier must be 1 or 2, not '7'; "
        "line 4: symbol ZOM already on line 3"
    )


# --- loading ---------------------------------------------------------------------------------


@dataclass
class Loader:
    sessions: sessionmaker[Session]
    trail: AuditTrail
    clock: FixedClock

    def load(self, *rows: str) -> LoadReport:
        parsed = parse(csv_bytes(*rows))
        with transaction(self.sessions) as db:
            return load_instruments(db, self.trail, self.clock, OPERATOR, parsed, source="t.csv")

    def load_file(self, data: bytes) -> LoadReport:
        """Parse and load like the command does: nothing is written unless all rows are good."""
        with transaction(self.sessions) as db:
            parsed = parse(data)
            return load_instruments(db, self.trail, self.clock, OPERATOR, parsed, source="t.csv")

    def rows(self) -> dict[str, InstrumentRow]:
        with self.sessions() as db:
            return {row.symbol: row for row in all_instruments(db)}

    def load_events(self) -> list[AuditEvent]:
        with self.sessions() as db:
            return list(search(db, AuditQuery(event_type="instruments.loaded")).events)


@pytest.fixture
def loader(clean_database: TestDatabase, clock: FixedClock, tmp_path: Path) -> Loader:
    crypto = crypto_over(
        LocalKek(generate_master_key(clock, "development")), clock, MemoryKeyEventRecorder()
    )
    sessions = session_factory(clean_database.engine, {FIELD_CRYPTO_KEY: crypto.field_crypto})
    with transaction(sessions) as db:
        provision_keys(crypto, db)
    witness = Witness(tmp_path / "witness.jsonl")
    trail = AuditTrail(clock, crypto.subjects, crypto.signing, witness, CheckpointPolicy())
    return Loader(sessions, trail, clock)


def test_load_when_new_then_added_stamped_and_audited(loader: Loader, clock: FixedClock) -> None:
    report = loader.load(APPLE, PENNY)

    assert (report.added, report.updated, report.unchanged) == (2, 0, 0)
    apple = loader.rows()["AAPL"]
    assert (apple.reference_price, apple.tick_size, apple.status) == (1_872_500, 100, "active")
    assert apple.reference_at_ns == apple.updated_at_ns == clock.now_ns()
    (event,) = loader.load_events()
    assert event.actor == OPERATOR
    assert event.subject == "instruments"
    assert event.data == {
        "source": "t.csv",
        "sha256": hashlib.sha256(csv_bytes(APPLE, PENNY)).hexdigest(),
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "flag_changes": [
            {
                "symbol": "ZOM",
                "threshold": {"before": None, "after": True},
                "status": {"before": None, "after": "halted"},
            }
        ],
    }


def test_load_when_same_file_again_then_all_unchanged_and_rows_untouched(
    loader: Loader, clock: FixedClock
) -> None:
    loader.load(APPLE, PENNY)
    before = {symbol: row.updated_at_ns for symbol, row in loader.rows().items()}
    clock.advance(seconds=60)

    report = loader.load(APPLE, PENNY)

    assert (report.added, report.updated, report.unchanged) == (0, 0, 2)
    assert {symbol: row.updated_at_ns for symbol, row in loader.rows().items()} == before
    second = loader.load_events()[1]
    assert (second.data["unchanged"], second.data["flag_changes"]) == (2, [])


def test_load_when_flags_change_then_audited_with_before_and_after(
    loader: Loader, clock: FixedClock
) -> None:
    loader.load(APPLE, PENNY)
    clock.advance(seconds=60)

    report = loader.load(
        APPLE.replace("false,false,true", "true,false,true"),
        PENNY.replace("false,true,false,halted", "false,false,false,active"),
    )

    assert (report.added, report.updated, report.unchanged) == (0, 2, 0)
    assert loader.load_events()[1].data["flag_changes"] == [
        {"symbol": "AAPL", "restricted": {"before": False, "after": True}},
        {
            "symbol": "ZOM",
            "threshold": {"before": True, "after": False},
            "status": {"before": "halted", "after": "active"},
        },
    ]
    assert loader.rows()["AAPL"].restricted is True


def test_load_when_only_name_changes_then_updated_but_reference_stamp_kept(
    loader: Loader, clock: FixedClock
) -> None:
    loader.load(APPLE, PENNY)
    loaded_at = clock.now_ns()
    clock.advance(seconds=60)

    report = loader.load(APPLE.replace("Apple Inc.", "Apple Inc. (new)"), PENNY)

    apple = loader.rows()["AAPL"]
    assert (report.updated, report.unchanged, report.flag_changes) == (1, 1, ())
    assert (apple.name, apple.updated_at_ns, apple.reference_at_ns) == (
        "Apple Inc. (new)",
        clock.now_ns(),
        loaded_at,
    )


def test_load_when_reference_price_changes_then_its_stamp_moves(
    loader: Loader, clock: FixedClock
) -> None:
    loader.load(APPLE)
    clock.advance(seconds=60)

    loader.load(APPLE.replace("187.25", "190.00"))

    apple = loader.rows()["AAPL"]
    assert (apple.reference_price, apple.reference_at_ns) == (1_900_000, clock.now_ns())


def test_load_when_one_row_bad_then_nothing_loaded(loader: Loader) -> None:
    loader.load(APPLE)
    changed_apple = APPLE.replace("187.25", "190.00")

    with pytest.raises(ReferenceDataError):
        loader.load_file(csv_bytes(changed_apple, PENNY, "BAD,Bad,1,0.01,1,1.005,true,x,y,"))

    assert {symbol: row.reference_price for symbol, row in loader.rows().items()} == {
        "AAPL": 1_872_500
    }
    assert len(loader.load_events()) == 1


def test_load_when_thousands_of_rows_then_all_stored_in_one_event(loader: Loader) -> None:
    rows = [f"S{n:05d},Stock {n},2,0.01,100,{n}.25,false,false,true," for n in range(1, 5_201)]
    loader.load(*rows[:1_000])

    report = loader.load_file(csv_bytes(*rows))

    assert (report.added, report.updated, report.unchanged) == (4_200, 0, 1_000)
    with loader.sessions() as db:
        assert db.scalar(select(func.count()).select_from(InstrumentRow)) == 5_200
    assert [event.data["added"] for event in loader.load_events()] == [1_000, 4_200]


def test_load_sample_when_table_empty_then_loaded_once(loader: Loader) -> None:
    system = Actor.system("cli")
    with transaction(loader.sessions) as db:
        first = load_sample_if_empty(db, loader.trail, loader.clock, system)
    with transaction(loader.sessions) as db:
        second = load_sample_if_empty(db, loader.trail, loader.clock, system)

    assert first is not None
    assert first.added == len(loader.rows()) >= 40
    assert second is None
    assert [event.actor for event in loader.load_events()] == [system]


def test_sample_universe_when_read_then_realistic(loader: Loader) -> None:
    with transaction(loader.sessions) as db:
        load_sample_if_empty(db, loader.trail, loader.clock, Actor.system("cli"))
    rows = list(loader.rows().values())

    assert {row.tier for row in rows} == {1, 2}
    assert sum(row.restricted for row in rows) >= 2
    assert sum(row.threshold for row in rows) >= 2
    assert sum(row.easy_to_borrow for row in rows) > len(rows) / 2
    assert all(_tick_fits(row) for row in rows)


def _tick_fits(row: InstrumentRow) -> bool:
    one_dollar = 10_000
    assert row.reference_price is not None
    return row.tick_size == (1 if row.reference_price < one_dollar else 100)
