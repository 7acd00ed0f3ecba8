"""Audit search and retrieval: find rows by the indexed columns, trust only the signed record.

The indexed columns of ``audit_events`` only locate rows. Every row found is decoded
from its canonical ``record`` (the bytes that are hashed and signed) and checked again
against the query, so a row whose columns were edited to lie about its record is
dropped rather than returned as a wrong event. Personal data stays ciphertext.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tradeguard.audit.models import AuditEventRow
from tradeguard.audit.records import RECORD_VERSION, Actor, EventRecord
from tradeguard.core.canonical_json import CanonicalJSONError, canonical_dumps, canonical_loads
from tradeguard.core.clock import datetime_to_ns, ns_to_rfc3339
from tradeguard.logs import get_logger

MAX_INT64 = 2**63 - 1
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
PREFIX_SUFFIX = ".*"
EVENT_TYPE_FILTER = r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*(\.\*)?$"
MAX_TIME_TEXT = 40
RFC3339_EXPECTED = "must be an RFC 3339 date-time such as 2026-11-21T09:30:00Z"
CSV_COLUMNS = (
    "seq",
    "event_id",
    "ts",
    "ts_ns",
    "type",
    "actor_kind",
    "actor_id",
    "actor_ip",
    "subject",
    "request_id",
    "data",
)
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_T = TypeVar("_T")
log = get_logger("tradeguard.audit.search")


class MalformedRecordError(ValueError):
    """A stored record is not a readable version-1 audit record."""


def _no_nul(value: str) -> str:
    # No column can hold NUL, and PostgreSQL refuses it as a parameter.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _ns_of_rfc3339(value: object) -> int:
    """Epoch nanoseconds of an RFC 3339 date-time string (numbers are not times here)."""
    if not isinstance(value, str) or len(value) > MAX_TIME_TEXT:
        raise ValueError(RFC3339_EXPECTED)
    try:
        return parse_rfc3339_ns(value)
    except ValueError:
        raise ValueError(RFC3339_EXPECTED) from None  # the text is not echoed back


Rfc3339Ns = Annotated[
    int,
    BeforeValidator(_ns_of_rfc3339),
    WithJsonSchema({"type": "string", "format": "date-time", "examples": ["2026-11-21T20:00:00Z"]}),
]
"""An RFC 3339 date-time with its offset, as epoch nanoseconds."""
NonNegativeInt64 = Annotated[int, Field(ge=0, le=MAX_INT64)]
PageLimit = Annotated[int, Field(ge=1, le=MAX_LIMIT)]
EventTypeFilter = Annotated[str, StringConstraints(max_length=98, pattern=EVENT_TYPE_FILTER)]
ActorIdFilter = Annotated[
    str, StringConstraints(min_length=1, max_length=96), AfterValidator(_no_nul)
]
SubjectFilter = Annotated[
    str, StringConstraints(min_length=1, max_length=128), AfterValidator(_no_nul)
]
RequestIdFilter = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(_no_nul)
]


class AuditQuery(BaseModel):
    """What to look for: a half-open time range, exact filters, a type prefix, a page."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    since_ns: NonNegativeInt64 | None = Field(default=None, description="From (inclusive)")
    until_ns: NonNegativeInt64 | None = Field(default=None, description="To (exclusive)")
    event_type: EventTypeFilter | None = Field(default=None, description="Exact, or `key.*`")
    actor_id: ActorIdFilter | None = None
    subject: SubjectFilter | None = None
    request_id: RequestIdFilter | None = None
    after_seq: NonNegativeInt64 = Field(default=0, description="Cursor: events after it")
    limit: PageLimit = DEFAULT_LIMIT
    hidden_prefixes: tuple[str, ...] = Field(
        default=(), description="Event types the reader may not see (e.g. SARs without aml:sar)"
    )

    @property
    def type_prefix(self) -> str | None:
        """The prefix (with its trailing dot) when ``event_type`` ends in ``.*``."""
        if self.event_type is None or not self.event_type.endswith(PREFIX_SUFFIX):
            return None
        return self.event_type[:-1]

    def matches(self, event: AuditEvent) -> bool:
        """Whether the event's signed record satisfies every filter."""
        wanted = (
            (self.actor_id, event.actor.id),
            (self.subject, event.subject),
            (self.request_id, event.request_id),
        )
        return (
            event.seq > self.after_seq
            and self._in_range(event.ts_ns)
            and self._type_matches(event.event_type)
            and all(want is None or want == got for want, got in wanted)
        )

    def _in_range(self, ts_ns: int) -> bool:
        after_start = self.since_ns is None or ts_ns >= self.since_ns
        return after_start and (self.until_ns is None or ts_ns < self.until_ns)

    def _type_matches(self, event_type: str) -> bool:
        prefix = self.type_prefix
        if prefix is not None:
            return event_type.startswith(prefix)
        return self.event_type is None or event_type == self.event_type


@dataclass(frozen=True, slots=True)
class AuditEvent(EventRecord):
    """One event as its signed record states it, at its place; ``personal`` is still ciphertext."""

    seq: int

    @classmethod
    def from_record(cls, record: bytes) -> AuditEvent:
        """Decode canonical record bytes; MalformedRecordError if they are not a record."""
        try:
            document = canonical_loads(record)
        except CanonicalJSONError as exc:
            raise MalformedRecordError(f"record is not canonical JSON ({exc})") from None
        if not isinstance(document, dict) or document.get("v") != RECORD_VERSION:
            raise MalformedRecordError("record is not a version-1 audit record")
        return cls(
            seq=_member(document, "seq", int),
            event_id=_member(document, "event_id", str),
            ts_ns=_member(document, "ts_ns", int),
            event_type=_member(document, "type", str),
            actor=_actor(_member(document, "actor", dict)),
            subject=_optional(document, "subject", str),
            request_id=_optional(document, "request_id", str),
            data=_member(document, "data", dict),
            personal=_optional(document, "personal", dict),
        )

    @property
    def ts(self) -> str:
        """The timestamp as RFC 3339 UTC with nanoseconds."""
        return ns_to_rfc3339(self.ts_ns)

    def to_json(self) -> dict[str, Any]:
        """The event as the API and the CLI show it: the record's members and ``ts``."""
        shown = self.document(self.seq)
        del shown["v"]
        return {**shown, "ts": self.ts}

    def csv_row(self) -> list[str | int]:
        """The event as one CSV row, in ``CSV_COLUMNS`` order; absent values are empty."""
        return [
            self.seq,
            self.event_id,
            self.ts,
            self.ts_ns,
            self.event_type,
            self.actor.kind,
            self.actor.id,
            self.actor.ip or "",
            self.subject or "",
            self.request_id or "",
            canonical_dumps(self.data).decode("utf-8"),
        ]


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of results; ``next_after_seq`` is the cursor for the next page, None at the end."""

    events: tuple[AuditEvent, ...]
    next_after_seq: int | None


def search(session: Session, query: AuditQuery) -> AuditPage:
    """Events matching ``query`` in sequence order, one page at a time."""
    statement = (
        select(AuditEventRow.seq, AuditEventRow.record)
        .where(*_conditions(query))
        .order_by(AuditEventRow.seq)
        .limit(query.limit + 1)
    )
    rows = session.execute(statement).all()
    page = rows[: query.limit]
    events = tuple(_matching(page, query))
    next_after_seq = page[-1].seq if len(rows) > query.limit else None
    return AuditPage(events, next_after_seq)


def get_event(session: Session, seq: int) -> AuditEvent | None:
    """The event with sequence number ``seq``, or None (absent, or its record is not its own)."""
    if not 1 <= seq <= MAX_INT64:
        return None
    record = session.scalar(select(AuditEventRow.record).where(AuditEventRow.seq == seq))
    if record is None:
        return None
    event = trusted_event(seq, bytes(record))
    if event is None:
        _warn_disagreement(seq)
    return event


def trusted_event(seq: int, record: bytes) -> AuditEvent | None:
    """The decoded record of row ``seq``, or None when it is malformed or names another seq."""
    try:
        event = AuditEvent.from_record(record)
    except MalformedRecordError:
        return None
    return event if event.seq == seq else None


def events_csv(events: Iterable[AuditEvent]) -> str:
    """RFC 4180 CSV: a header row, then one row per event."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(event.csv_row() for event in events)
    return buffer.getvalue()


def parse_rfc3339_ns(text: str) -> int:
    """Unix epoch nanoseconds of an RFC 3339 date-time; ValueError when it is not one."""
    problem = f"{text[:40]!r} is not an RFC 3339 date-time like 2026-11-21T09:30:00Z"
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise ValueError(problem)
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, offset = match.group(7) or "", match.group(8)
    try:
        moment = datetime(year, month, day, hour, minute, second, tzinfo=_zone(offset))
    except ValueError:  # a field out of range, such as month 13 or offset +24:00
        raise ValueError(problem) from None
    return datetime_to_ns(moment) + int(fraction.ljust(9, "0"))


def _zone(offset: str) -> timezone:
    if offset in {"Z", "z"}:
        return UTC
    sign = -1 if offset[0] == "-" else 1
    hours, minutes = int(offset[1:3]), int(offset[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _conditions(query: AuditQuery) -> list[ColumnElement[bool]]:
    conditions = [AuditEventRow.seq > query.after_seq]
    if query.since_ns is not None:
        conditions.append(AuditEventRow.ts_ns >= query.since_ns)
    if query.until_ns is not None:
        conditions.append(AuditEventRow.ts_ns < query.until_ns)
    prefix = query.type_prefix
    if prefix is not None:
        pattern = prefix.replace("_", "\\_") + "%"
        conditions.append(AuditEventRow.event_type.like(pattern, escape="\\"))
        # LIKE finds the rows through the index; SQLite's LIKE ignores case, substr does not.
        conditions.append(func.substr(AuditEventRow.event_type, 1, len(prefix)) == prefix)
    elif query.event_type is not None:
        conditions.append(AuditEventRow.event_type == query.event_type)
    exact = (
        (AuditEventRow.actor_id, query.actor_id),
        (AuditEventRow.subject, query.subject),
        (AuditEventRow.request_id, query.request_id),
    )
    conditions.extend(column == value for column, value in exact if value is not None)
    conditions.extend(
        func.substr(AuditEventRow.event_type, 1, len(hidden)) != hidden
        for hidden in query.hidden_prefixes
    )
    return conditions


def _matching(rows: Sequence[Sequence[Any]], query: AuditQuery) -> Iterator[AuditEvent]:
    """The decoded events of ``rows`` whose records satisfy ``query``; the others are dropped."""
    for row in rows:
        seq = row[0]
        event = trusted_event(seq, bytes(row[1]))
        if event is not None and query.matches(event):
            yield event
        else:
            _warn_disagreement(seq)


def _warn_disagreement(seq: int) -> None:
    # The sequence number only: the record may hold data that must not reach logs.
    log.warning("audit.search.row_disagrees_with_record", seq=seq)


def _member(document: Mapping[str, Any], name: str, kind: type[_T]) -> _T:
    value = document.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedRecordError(f"record member {name!r} is not a {kind.__name__}")
    return value


def _optional(document: Mapping[str, Any], name: str, kind: type[_T]) -> _T | None:
    if document.get(name) is None:
        return None
    return _member(document, name, kind)


def _actor(document: Mapping[str, Any]) -> Actor:
    try:
        return Actor(
            kind=_member(document, "kind", str),
            id=_member(document, "id", str),
            ip=_optional(document, "ip", str),
            session_id=_optional(document, "session_id", str),
            device_id=_optional(document, "device_id", str),
        )
    except ValueError as exc:
        raise MalformedRecordError(f"record actor is malformed ({exc})") from None
