"""Instrument reference data from CSV: parse, validate every row, then load all or nothing.

The file has the header ``symbol,name,tier,tick_size,lot_size,reference_price,restricted,
threshold,easy_to_borrow,status`` (``status`` may be left out; columns in any order).
Prices are decimal strings parsed with ``Price`` (never float), flags ``true``/``false``.
Every bad row is reported with its line number and nothing is loaded unless every row is
good. Loading inserts new symbols, updates changed ones and records one
``instruments.loaded`` audit event (file digest, counts, flag changes) in the caller's
transaction. The file is read line by line, so large universes stream through.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import astuple, dataclass, field
from importlib import resources
from typing import IO, TYPE_CHECKING, Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.core.clock import Clock
from tradeguard.core.errors import TradeGuardError
from tradeguard.core.money import Price
from tradeguard.trading.models import SYMBOL_LENGTH, InstrumentRow

if TYPE_CHECKING:
    from _csv import Reader

T = TypeVar("T")

REQUIRED_COLUMNS = (
    "symbol",
    "name",
    "tier",
    "tick_size",
    "lot_size",
    "reference_price",
    "restricted",
    "threshold",
    "easy_to_borrow",
)
COLUMNS = (*REQUIRED_COLUMNS, "status")
STATUSES = ("active", "halted", "inactive")
DEFAULT_STATUS = "active"
TIERS = (1, 2)
NAME_LENGTH = 120
MAX_LOT_SIZE = 1_000_000
MAX_LINE_BYTES = 4096
LOOKUP_CHUNK = 500
SUB_PENNY_CEILING = Price.parse("1.00").units
"""Reg NMS Rule 612: ticks finer than a cent only for prices under one dollar."""
PENNY = Price.parse("0.01").units
SYMBOL = re.compile(rf"[A-Z0-9][A-Z0-9.-]{{0,{SYMBOL_LENGTH - 1}}}")
FLAGS = {"true": True, "false": False}
WATCHED_FIELDS = ("restricted", "threshold", "status")
"""Changes to these are listed, before and after, in the audit event of a load."""
UNFLAGGED: dict[str, Any] = {"restricted": False, "threshold": False, "status": DEFAULT_STATUS}
"""A new symbol is listed only where it differs from these."""
SAMPLE_PACKAGE = "tradeguard.trading"
SAMPLE_FILE = "sample_universe.csv"


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """One valid row of the file: an instrument's reference data in integer units."""

    symbol: str
    name: str
    tier: int
    tick_size: int
    lot_size: int
    reference_price: int
    restricted: bool
    threshold: bool
    easy_to_borrow: bool
    status: str


@dataclass(frozen=True, slots=True)
class RowProblem:
    """Why a line of the file was refused."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class ReferenceDataError(TradeGuardError):
    """The file has bad rows; nothing was loaded. ``problems`` lists every one."""

    def __init__(self, problems: Iterable[RowProblem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda problem: problem.line))
        lines = len({problem.line for problem in self.problems})
        listed = "; ".join(str(problem) for problem in self.problems)
        super().__init__(f"{lines} bad line(s), nothing loaded: {listed}")


@dataclass(frozen=True, slots=True)
class InstrumentFile:
    """A fully validated file: its instruments in file order and the SHA-256 of its bytes."""

    instruments: tuple[InstrumentSpec, ...]
    sha256: str


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load did: counts, the file digest and the watched fields that changed."""

    added: int
    updated: int
    unchanged: int
    sha256: str
    flag_changes: tuple[dict[str, Any], ...] = field(default=())


def parse_instruments(stream: IO[bytes]) -> InstrumentFile:
    """Read and validate a whole instruments CSV; raise ``ReferenceDataError`` if any row is bad."""
    lines = _HashedLines(stream)
    reader = csv.reader(lines, strict=True)
    instruments: list[InstrumentSpec] = []
    try:
        _read_rows(reader, instruments, lines.problems)
    except csv.Error as exc:
        lines.problems.append(RowProblem(reader.line_num, f"not readable as CSV: {exc}"))
    if lines.problems:
        raise ReferenceDataError(lines.problems)
    return InstrumentFile(tuple(instruments), lines.sha256())


def _read_rows(reader: Reader, into: list[InstrumentSpec], problems: list[RowProblem]) -> None:
    """Validate the header, then every row; good rows go ``into``, bad ones to ``problems``."""
    columns = _checked_header(next(reader, None), problems)
    if columns is None:
        return
    first_line: dict[str, int] = {}
    for cells in reader:
        if not cells:
            continue  # a blank line
        spec, reasons = _row_spec(columns, cells)
        if spec is not None and spec.symbol in first_line:
            reasons = [f"symbol {spec.symbol} already on line {first_line[spec.symbol]}"]
            spec = None
        problems.extend(RowProblem(reader.line_num, reason) for reason in reasons)
        if spec is not None:
            first_line[spec.symbol] = reader.line_num
            into.append(spec)


class _HashedLines:
    """The decoded lines of a byte stream, hashed as read; a bad line is noted and left blank."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._digest = hashlib.sha256()
        self.problems: list[RowProblem] = []

    def sha256(self) -> str:
        """The hex SHA-256 of every byte read so far."""
        return self._digest.hexdigest()

    def __iter__(self) -> Iterator[str]:
        number = 0
        while raw := self._read(MAX_LINE_BYTES + 1):
            number += 1
            if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                self._skip_rest_of_line()
                self.problems.append(RowProblem(number, f"longer than {MAX_LINE_BYTES} bytes"))
                yield "\n"  # a blank line, which the row loop skips
                continue
            try:
                yield raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                self.problems.append(RowProblem(number, "not UTF-8 text"))
                yield "\n"

    def _read(self, limit: int) -> bytes:
        raw = self._stream.readline(limit)
        self._digest.update(raw)
        return raw

    def _skip_rest_of_line(self) -> None:
        while rest := self._read(MAX_LINE_BYTES):
            if rest.endswith(b"\n"):
                return


def _checked_header(header: list[str] | None, problems: list[RowProblem]) -> list[str] | None:
    """The header's column names, or None (with the problems) when it cannot be used."""
    if header is None:
        problems.append(RowProblem(1, f"empty file: expected the header {','.join(COLUMNS)}"))
        return None
    columns = [name.strip().lower() for name in header]
    reasons = [f"unknown column {name!r}" for name in columns if name not in COLUMNS]
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    reasons += [f"column {name!r} appears more than once" for name in repeated]
    reasons += [f"missing column {name!r}" for name in REQUIRED_COLUMNS if name not in columns]
    problems.extend(RowProblem(1, reason) for reason in reasons)
    return None if reasons else columns


class _Cells:
    """One row's cells by column, collecting a reason for each cell that does not parse."""

    def __init__(self, columns: list[str], cells: list[str]) -> None:
        self._values = dict(zip(columns, (cell.strip() for cell in cells), strict=True))
        self.reasons: list[str] = []

    def take(self, column: str, parse: Callable[[str], T], fallback: T) -> T:
        """The parsed cell, or ``fallback`` after noting why it was refused."""
        try:
            return parse(self._values.get(column, ""))
        except ValueError as exc:
            self.reasons.append(f"{column} {exc}")
            return fallback


def _row_spec(columns: list[str], cells: list[str]) -> tuple[InstrumentSpec | None, list[str]]:
    """The row as an instrument, or None with the reasons it was refused."""
    if len(cells) != len(columns):
        return None, [f"expected {len(columns)} fields, found {len(cells)}"]
    row = _Cells(columns, cells)
    spec = InstrumentSpec(
        symbol=row.take("symbol", parse_symbol, ""),
        name=row.take("name", parse_name, ""),
        tier=row.take("tier", parse_tier, 0),
        tick_size=row.take("tick_size", parse_positive_price, 0),
        lot_size=row.take("lot_size", parse_lot_size, 0),
        reference_price=row.take("reference_price", parse_positive_price, 0),
        restricted=row.take("restricted", parse_flag, False),  # noqa: FBT003 - a fallback value
        threshold=row.take("threshold", parse_flag, False),  # noqa: FBT003
        easy_to_borrow=row.take("easy_to_borrow", parse_flag, False),  # noqa: FBT003
        status=row.take("status", parse_status, DEFAULT_STATUS),
    )
    reasons = row.reasons or _price_grid_reasons(spec)
    return (None if reasons else spec), reasons


def parse_symbol(text: str) -> str:
    """A ticker: 1-16 characters of A-Z, 0-9, ``.`` and ``-``, starting with a letter or digit."""
    if not SYMBOL.fullmatch(text):
        raise ValueError(
            f"{text!r} is not 1-{SYMBOL_LENGTH} characters of A-Z, 0-9, '.' and '-' "
            "starting with a letter or digit"
        )
    return text


def parse_name(text: str) -> str:
    """The instrument's name: not empty, at most 120 printable characters."""
    if not text:
        raise ValueError("is empty")
    if len(text) > NAME_LENGTH:
        raise ValueError(f"is longer than {NAME_LENGTH} characters")
    if not text.isprintable():
        raise ValueError(f"{text!r} has control characters")
    return text


def parse_tier(text: str) -> int:
    """The instrument tier: 1 (S&P 500 and the like) or 2 (everything else)."""
    if text not in {str(tier) for tier in TIERS}:
        raise ValueError(f"must be 1 or 2, not {text!r}")
    return int(text)


def parse_positive_price(text: str) -> int:
    """A decimal price above zero, in 1/10,000 dollar units."""
    try:
        units = Price.parse(text).units
    except ValueError as exc:
        raise ValueError(f"is not a price: {exc}") from None
    if units <= 0:
        raise ValueError(f"must be above zero, not {text!r}")
    return units


def parse_lot_size(text: str) -> int:
    """Shares per lot: a whole number from 1 to 1,000,000."""
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_LOT_SIZE:
        raise ValueError(f"must be a whole number from 1 to {MAX_LOT_SIZE}, not {text!r}")
    return int(text)


def parse_flag(text: str) -> bool:
    """``true`` or ``false`` (any letter case)."""
    flag = FLAGS.get(text.lower())
    if flag is None:
        raise ValueError(f"must be true or false, not {text!r}")
    return flag


def parse_status(text: str) -> str:
    """``active`` (also when empty or the column is absent), ``halted`` or ``inactive``."""
    status = text.lower() or DEFAULT_STATUS
    if status not in STATUSES:
        raise ValueError(f"must be one of {', '.join(STATUSES)}, not {text!r}")
    return status


def _price_grid_reasons(spec: InstrumentSpec) -> list[str]:
    """The reference price sits on the tick grid; sub-penny ticks only below one dollar."""
    tick, price = Price(spec.tick_size), Price(spec.reference_price)
    if spec.reference_price % spec.tick_size:
        return [f"reference_price {price} is not a multiple of the tick_size {tick}"]
    if spec.tick_size < PENNY and spec.reference_price >= SUB_PENNY_CEILING:
        return [f"tick_size {tick} is finer than 0.01 for a price of 1.00 or more (Reg NMS 612)"]
    return []


def load_instruments(  # noqa: PLR0913 - the unit of work, its record and what is loaded
    db: Session,
    audit: AuditTrail,
    clock: Clock,
    actor: Actor,
    parsed: InstrumentFile,
    *,
    source: str,
) -> LoadReport:
    """Upsert every instrument of ``parsed`` and record ``instruments.loaded``, in ``db``'s txn."""
    now = clock.now_ns()
    existing = _existing_rows(db, [spec.symbol for spec in parsed.instruments])
    added = updated = 0
    changes: list[dict[str, Any]] = []
    for spec in parsed.instruments:
        row = existing.get(spec.symbol)
        change = _watched_change(row, spec)
        if change:
            changes.append(change)
        if row is None:
            db.add(_new_row(spec, now))
            added += 1
        elif _apply(row, spec, now):
            updated += 1
    db.flush()
    unchanged = len(parsed.instruments) - added - updated
    report = LoadReport(added, updated, unchanged, parsed.sha256, tuple(changes))
    _record_load(db, audit, actor, report, source)
    return report


def _existing_rows(db: Session, symbols: list[str]) -> dict[str, InstrumentRow]:
    rows: dict[str, InstrumentRow] = {}
    for start in range(0, len(symbols), LOOKUP_CHUNK):
        chunk = symbols[start : start + LOOKUP_CHUNK]
        found = db.scalars(select(InstrumentRow).where(InstrumentRow.symbol.in_(chunk)))
        rows.update((row.symbol, row) for row in found)
    return rows


def _stored_spec(row: InstrumentRow) -> InstrumentSpec:
    return InstrumentSpec(
        symbol=row.symbol,
        name=row.name,
        tier=row.tier,
        tick_size=row.tick_size,
        lot_size=row.lot_size,
        reference_price=row.reference_price or 0,
        restricted=row.restricted,
        threshold=row.threshold,
        easy_to_borrow=row.easy_to_borrow,
        status=row.status,
    )


def _new_row(spec: InstrumentSpec, now: int) -> InstrumentRow:
    row = InstrumentRow(symbol=spec.symbol, reference_at_ns=now, updated_at_ns=now)
    _copy(spec, row)
    return row


def _apply(row: InstrumentRow, spec: InstrumentSpec, now: int) -> bool:
    """Bring ``row`` to ``spec``; False when nothing differs (the row is left untouched)."""
    if astuple(_stored_spec(row)) == astuple(spec):
        return False
    if row.reference_price != spec.reference_price:
        row.reference_at_ns = now  # the stamp says how old the price is, not the row
    _copy(spec, row)
    row.updated_at_ns = now
    return True


def _copy(spec: InstrumentSpec, row: InstrumentRow) -> None:
    row.name, row.tier, row.status = spec.name, spec.tier, spec.status
    row.tick_size, row.lot_size, row.reference_price = (
        spec.tick_size,
        spec.lot_size,
        spec.reference_price,
    )
    row.restricted, row.threshold, row.easy_to_borrow = (
        spec.restricted,
        spec.threshold,
        spec.easy_to_borrow,
    )


def _watched_change(row: InstrumentRow | None, spec: InstrumentSpec) -> dict[str, Any]:
    """The watched fields that differ, before and after; a new symbol's ``before`` is null."""
    baseline = UNFLAGGED if row is None else {name: getattr(row, name) for name in WATCHED_FIELDS}
    changed = {
        name: {"before": None if row is None else baseline[name], "after": getattr(spec, name)}
        for name in WATCHED_FIELDS
        if getattr(spec, name) != baseline[name]
    }
    return {"symbol": spec.symbol, **changed} if changed else {}


def _record_load(
    db: Session, audit: AuditTrail, actor: Actor, report: LoadReport, source: str
) -> None:
    audit.record(
        db,
        "instruments.loaded",
        actor,
        subject="instruments",
        data={
            "source": source,
            "sha256": report.sha256,
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "flag_changes": list(report.flag_changes),
        },
    )


def sample_universe() -> AbstractContextManager[IO[bytes]]:
    """The sample universe shipped with the package, opened for reading as bytes."""
    return resources.files(SAMPLE_PACKAGE).joinpath(SAMPLE_FILE).open("rb")


def has_instruments(db: Session) -> bool:
    """Whether any instrument is stored."""
    return db.scalar(select(InstrumentRow.symbol).limit(1)) is not None


def load_sample_if_empty(
    db: Session, audit: AuditTrail, clock: Clock, actor: Actor
) -> LoadReport | None:
    """Load the sample universe into an empty instruments table; None when it had rows."""
    if has_instruments(db):
        return None
    with sample_universe() as stream:
        parsed = parse_instruments(stream)
    return load_instruments(db, audit, clock, actor, parsed, source=SAMPLE_FILE)


def all_instruments(db: Session) -> list[InstrumentRow]:
    """Every stored instrument, by symbol."""
    return list(db.scalars(select(InstrumentRow).order_by(InstrumentRow.symbol)))
