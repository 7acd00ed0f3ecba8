"""OFAC's legacy CSV distribution, read exactly as published.

Three files per list, no header row, fields quoted, null written ``-0-`` (often with
a trailing space), the last line a Ctrl-Z: ``sdn.csv`` (``ent_num, SDN_Name, SDN_Type,
Program, Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks``),
``alt.csv`` (``ent_num, alt_num, alt_type, alt_name, alt_remarks``) and ``add.csv``
(``ent_num, add_num, address, city_state_postal, country, add_remarks``). The
consolidated (non-SDN) list uses the same layout in ``cons_prim.csv``,
``cons_alt.csv`` and ``cons_add.csv``. Remarks too long for ``sdn.csv`` continue in
``sdn_comments.csv`` (``cons_comments.csv``) when it is present.

Any malformed line refuses the whole load, naming the file and the line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tradeguard.core.errors import TradeGuardError

NULL = "-0-"
END_OF_FILE = "\x1a"
PRIMARY_COLUMNS = 12
ALIAS_COLUMNS = 5
ADDRESS_COLUMNS = 6
COMMENT_COLUMNS = 2
MAX_FILE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ListFiles:
    """The file names one list is published under."""

    primary: str
    aliases: str
    addresses: str
    comments: str


LIST_FILES: dict[str, ListFiles] = {
    "ofac-sdn": ListFiles("sdn.csv", "alt.csv", "add.csv", "sdn_comments.csv"),
    "ofac-cons": ListFiles("cons_prim.csv", "cons_alt.csv", "cons_add.csv", "cons_comments.csv"),
}


class ListFileError(TradeGuardError):
    """A list file is missing or malformed; nothing was loaded."""

    reason_code = "SCREENING_LIST_INVALID"

    def __init__(self, file: str, line: int | None, problem: str) -> None:
        where = f"{file} line {line}" if line else file
        super().__init__(f"{where}: {problem}")
        self.file, self.line, self.problem = file, line, problem


@dataclass(slots=True)
class OfacEntry:
    """One ``sdn.csv`` row with its aliases and addresses."""

    ent_num: str
    name: str
    sdn_type: str | None
    programs: str | None
    title: str | None
    vessel: dict[str, str]
    remarks: str | None
    aliases: list[OfacAlias] = field(default_factory=list)
    addresses: list[OfacAddress] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OfacAlias:
    """One ``alt.csv`` row."""

    alt_num: str | None
    alt_type: str | None
    name: str
    remarks: str | None


@dataclass(frozen=True, slots=True)
class OfacAddress:
    """One ``add.csv`` row."""

    add_num: str | None
    address: str | None
    city_state_postal: str | None
    country: str | None
    remarks: str | None


@dataclass(frozen=True, slots=True)
class OfacList:
    """A parsed list: its entries in file order and the SHA-256 of each file read."""

    list_name: str
    entries: tuple[OfacEntry, ...]
    file_hashes: dict[str, str]

    @property
    def alias_count(self) -> int:
        """How many aliases the entries carry."""
        return sum(len(entry.aliases) for entry in self.entries)

    @property
    def address_count(self) -> int:
        """How many addresses the entries carry."""
        return sum(len(entry.addresses) for entry in self.entries)


def read_list(directory: Path, list_name: str) -> OfacList:
    """Parse the files of ``list_name`` in ``directory``; ``ListFileError`` names a bad line."""
    files = LIST_FILES.get(list_name)
    if files is None:
        raise ListFileError(list_name, None, f"unknown list; known: {', '.join(LIST_FILES)}")
    hashes: dict[str, str] = {}
    entries = _primary_rows(files.primary, _read(directory, files.primary, hashes))
    _attach_aliases(entries, files.aliases, _read(directory, files.aliases, hashes))
    _attach_addresses(entries, files.addresses, _read(directory, files.addresses, hashes))
    if (directory / files.comments).is_file():
        _attach_comments(entries, files.comments, _read(directory, files.comments, hashes))
    if not entries:
        raise ListFileError(files.primary, None, "no entries")
    return OfacList(list_name, tuple(entries.values()), hashes)


def _read(directory: Path, name: str, hashes: dict[str, str]) -> str:
    """The text of one file, its hash noted; refuses a missing or oversized file."""
    path = directory / name
    if not path.is_file():
        raise ListFileError(name, None, f"missing from {directory}")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ListFileError(name, None, f"larger than {MAX_FILE_BYTES} bytes")
    raw = path.read_bytes()
    hashes[name] = hashlib.sha256(raw).hexdigest()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _rows(file: str, text: str, columns: int) -> Iterator[tuple[int, list[str | None]]]:
    """Each data row of ``text`` with its line number, nulls as ``None``."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for row in reader:
            if not row or (len(row) == 1 and row[0].strip() in ("", END_OF_FILE)):
                continue
            if len(row) != columns:
                raise ListFileError(file, reader.line_num, f"{len(row)} fields, expected {columns}")
            yield reader.line_num, [_value(cell) for cell in row]
    except csv.Error as exc:
        raise ListFileError(file, reader.line_num, f"not valid CSV ({exc})") from None


def _value(cell: str) -> str | None:
    value = cell.strip()
    return None if value in (NULL, "") else value


_ENT_NUM = re.compile(r"^\d{1,12}$")


def _ent_num(file: str, line: int, value: str | None) -> str:
    if value is None or not _ENT_NUM.match(value):
        raise ListFileError(file, line, f"ent_num {value!r} is not a number")
    return value


def _primary_rows(file: str, text: str) -> dict[str, OfacEntry]:
    entries: dict[str, OfacEntry] = {}
    for line, row in _rows(file, text, PRIMARY_COLUMNS):
        ent_num = _ent_num(file, line, row[0])
        if ent_num in entries:
            raise ListFileError(file, line, f"ent_num {ent_num} appears twice")
        if not row[1]:
            raise ListFileError(file, line, "the name is empty")
        entries[ent_num] = _entry(ent_num, row)
    return entries


_VESSEL_FIELDS = ("call_sign", "vessel_type", "tonnage", "grt", "vessel_flag", "vessel_owner")


def _entry(ent_num: str, row: list[str | None]) -> OfacEntry:
    vessel = {key: value for key, value in zip(_VESSEL_FIELDS, row[5:11], strict=True) if value}
    name = row[1] or ""
    return OfacEntry(ent_num, name, row[2], row[3], row[4], vessel, row[11])


def _owner(entries: dict[str, OfacEntry], file: str, line: int, value: str | None) -> OfacEntry:
    ent_num = _ent_num(file, line, value)
    if ent_num not in entries:
        raise ListFileError(file, line, f"ent_num {ent_num} is not in the list's primary file")
    return entries[ent_num]


def _attach_aliases(entries: dict[str, OfacEntry], file: str, text: str) -> None:
    for line, row in _rows(file, text, ALIAS_COLUMNS):
        owner = _owner(entries, file, line, row[0])
        if not row[3]:
            raise ListFileError(file, line, "the alias is empty")
        owner.aliases.append(OfacAlias(row[1], row[2], row[3], row[4]))


def _attach_addresses(entries: dict[str, OfacEntry], file: str, text: str) -> None:
    for line, row in _rows(file, text, ADDRESS_COLUMNS):
        owner = _owner(entries, file, line, row[0])
        owner.addresses.append(OfacAddress(row[1], row[2], row[3], row[4], row[5]))


def _attach_comments(entries: dict[str, OfacEntry], file: str, text: str) -> None:
    for line, row in _rows(file, text, COMMENT_COLUMNS):
        owner = _owner(entries, file, line, row[0])
        if row[1]:
            owner.remarks = f"{owner.remarks} {row[1]}" if owner.remarks else row[1]
