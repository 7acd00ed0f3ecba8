"""List versions in the database: write a parsed list as the current version, read it back."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from tradeguard.screening.birth_dates import BirthSpan, birth_spans
from tradeguard.screening.entry_facts import (
    alias_kind,
    country_tokens,
    entry_kind,
    weak_aliases,
)
from tradeguard.screening.models import (
    ListAddressRow,
    ListBirthDateRow,
    ListEntryRow,
    ListNameRow,
    ListVersionRow,
)
from tradeguard.screening.ofac_csv import OfacEntry, OfacList
from tradeguard.screening.watchlist import ListedName, ListEntry, NameKind, Watchlist

CURRENT = "current"
SUPERSEDED = "superseded"
_CHILDREN = (ListNameRow, ListAddressRow, ListBirthDateRow)
_BATCH = 2000


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """A version as written: its id and what it replaced."""

    version_id: str
    replaced: str | None


def store_version(
    session: Session, parsed: OfacList, version_id: str, loaded_at_ns: int, loaded_by: str
) -> StoredVersion:
    """Write ``parsed`` as the current version of its list, dropping the previous one's rows."""
    previous = current_version(session, parsed.list_name)
    if previous is not None:
        _supersede(session, previous.id)
    session.add(_version_row(parsed, version_id, loaded_at_ns, loaded_by))
    session.flush()
    _insert(session, ListEntryRow, (_entry_row(version_id, entry) for entry in parsed.entries))
    _insert(session, ListNameRow, _name_rows(version_id, parsed.entries))
    _insert(session, ListAddressRow, _address_rows(version_id, parsed.entries))
    _insert(session, ListBirthDateRow, _birth_rows(version_id, parsed.entries))
    return StoredVersion(version_id, previous.id if previous else None)


def _supersede(session: Session, version_id: str) -> None:
    """Mark a version superseded and delete its entries, names, addresses and dates."""
    for table in (*_CHILDREN, ListEntryRow):
        rows = cast("Table", table.__table__)
        session.execute(delete(rows).where(rows.c.version_id == version_id))
    versions = cast("Table", ListVersionRow.__table__)
    session.execute(update(versions).where(versions.c.id == version_id).values(status=SUPERSEDED))


def _version_row(
    parsed: OfacList, version_id: str, loaded_at_ns: int, loaded_by: str
) -> ListVersionRow:
    return ListVersionRow(
        id=version_id,
        list_name=parsed.list_name,
        status=CURRENT,
        loaded_at_ns=loaded_at_ns,
        loaded_by=loaded_by,
        entry_count=len(parsed.entries),
        alias_count=parsed.alias_count,
        address_count=parsed.address_count,
        file_hashes=json.dumps(parsed.file_hashes, sort_keys=True),
    )


def _insert(session: Session, table: Any, rows: Iterable[dict[str, Any]]) -> None:  # noqa: ANN401 - a mapped class
    """Insert ``rows`` in batches (one statement per batch)."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH:
            session.execute(insert(table), batch)
            batch = []
    if batch:
        session.execute(insert(table), batch)


def _entry_row(version_id: str, entry: OfacEntry) -> dict[str, Any]:
    return {
        "version_id": version_id,
        "ent_num": entry.ent_num,
        "kind": entry_kind(entry.sdn_type).value,
        "name": entry.name,
        "programs": entry.programs,
        "title": entry.title,
        "vessel": json.dumps(entry.vessel, sort_keys=True) if entry.vessel else None,
        "remarks": entry.remarks,
    }


def _name_rows(version_id: str, entries: Sequence[OfacEntry]) -> Iterable[dict[str, Any]]:
    """The primary name, the aliases of ``alt.csv`` and the weak aliases of the remarks."""
    for entry in entries:
        owner = {"version_id": version_id, "ent_num": entry.ent_num}
        yield _name(**owner, alt_num=None, kind=NameKind.PRIMARY, name=entry.name, remarks=None)
        for alias in entry.aliases:
            kind = alias_kind(alias.alt_type, alias.remarks)
            yield _name(
                **owner, alt_num=alias.alt_num, kind=kind, name=alias.name, remarks=alias.remarks
            )
        for weak in weak_aliases(entry.remarks):
            yield _name(**owner, alt_num=None, kind=NameKind.WEAK, name=weak, remarks="in remarks")


def _name(  # noqa: PLR0913 - the columns of a name row
    *,
    version_id: str,
    ent_num: str,
    alt_num: str | None,
    kind: NameKind,
    name: str,
    remarks: str | None,
) -> dict[str, Any]:
    return {
        "version_id": version_id,
        "ent_num": ent_num,
        "alt_num": alt_num,
        "kind": kind.value,
        "name": name,
        "remarks": remarks,
    }


def _address_rows(version_id: str, entries: Sequence[OfacEntry]) -> Iterable[dict[str, Any]]:
    for entry in entries:
        for address in entry.addresses:
            yield {
                "version_id": version_id,
                "ent_num": entry.ent_num,
                "add_num": address.add_num,
                "address": address.address,
                "city_state_postal": address.city_state_postal,
                "country": address.country,
                "remarks": address.remarks,
            }


def _birth_rows(version_id: str, entries: Sequence[OfacEntry]) -> Iterable[dict[str, Any]]:
    for entry in entries:
        for span in birth_spans(entry.remarks or ""):
            yield {
                "version_id": version_id,
                "ent_num": entry.ent_num,
                "text": span.text,
                "first_day": span.first,
                "last_day": span.last,
                "precision": span.precision,
            }


def current_version(session: Session, list_name: str) -> ListVersionRow | None:
    """The current version of ``list_name``, if one was loaded."""
    return session.scalars(
        select(ListVersionRow).where(
            ListVersionRow.list_name == list_name, ListVersionRow.status == CURRENT
        )
    ).one_or_none()


def current_versions(session: Session) -> list[ListVersionRow]:
    """The current version of every loaded list, by list name."""
    query = select(ListVersionRow).where(ListVersionRow.status == CURRENT)
    return list(session.scalars(query.order_by(ListVersionRow.list_name)))


def all_versions(session: Session, limit: int) -> list[ListVersionRow]:
    """Versions newest first, superseded ones included."""
    query = select(ListVersionRow).order_by(ListVersionRow.loaded_at_ns.desc()).limit(limit)
    return list(session.scalars(query))


def read_watchlist(session: Session, version: ListVersionRow) -> Watchlist:
    """The stored version as a screening-ready ``Watchlist``."""
    tables = (ListEntryRow, ListNameRow, ListAddressRow, ListBirthDateRow)
    entries, names, addresses, births = (_stored(session, table, version.id) for table in tables)
    return _watchlist(version.list_name, version.id, (entries, names, addresses, births))


def watchlist_of(parsed: OfacList, version: str) -> Watchlist:
    """A parsed list as a ``Watchlist`` without storing it (what a load would screen with)."""
    rows = (
        [_entry_row(version, entry) for entry in parsed.entries],
        list(_name_rows(version, parsed.entries)),
        list(_address_rows(version, parsed.entries)),
        list(_birth_rows(version, parsed.entries)),
    )
    return _watchlist(parsed.list_name, version, rows)


Rows = Sequence[Mapping[str, Any]]


def _stored(session: Session, table: Any, version_id: str) -> Rows:  # noqa: ANN401 - a mapped class
    columns = table.__table__
    query = select(columns).where(columns.c.version_id == version_id)
    if "id" in columns.c:
        query = query.order_by(columns.c.id)
    return [dict(row) for row in session.execute(query).mappings()]


def _watchlist(list_name: str, version: str, rows: tuple[Rows, Rows, Rows, Rows]) -> Watchlist:
    """Entries assembled from their rows: entries, names, addresses, birth dates."""
    entries, names, addresses, births = rows
    by_names, by_addresses, by_births = (_by_entry(group) for group in (names, addresses, births))
    listed = [
        _list_entry(
            row, by_names[row["ent_num"]], by_addresses[row["ent_num"]], by_births[row["ent_num"]]
        )
        for row in entries
    ]
    return Watchlist(list_name, version, listed)


def _by_entry(rows: Rows) -> dict[str, list[Mapping[str, Any]]]:
    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row["ent_num"]].append(row)
    return grouped


def _list_entry(row: Mapping[str, Any], names: Rows, addresses: Rows, births: Rows) -> ListEntry:
    vessel = json.loads(row["vessel"]) if row["vessel"] else {}
    places = [address["country"] for address in addresses] + [vessel.get("vessel_flag")]
    return ListEntry(
        ent_num=row["ent_num"],
        kind=entry_kind(row["kind"]),
        names=tuple(ListedName(name["name"], NameKind(name["kind"])) for name in names),
        programs=row["programs"] or "",
        births=tuple(
            BirthSpan(b["first_day"], b["last_day"], b["text"], b["precision"]) for b in births
        ),
        country_tokens=country_tokens(row["remarks"], places),
    )
