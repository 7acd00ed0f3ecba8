"""Signed periodic audit reports: what the trail holds for a period, and whether it holds.

A report counts the period's events by type from their signed records, names the
first and last events and the checkpoints inside the period, states the
verification result of the whole trail and the retention rule, and is signed with
the active audit key so a regulator can check it offline with the published key.
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tradeguard.audit.checkpoints import Witness
from tradeguard.audit.models import AuditCheckpointRow, AuditEventRow
from tradeguard.audit.search import AuditEvent, trusted_event
from tradeguard.audit.verify import VerificationResult, verify_database
from tradeguard.core.canonical_json import CanonicalJSONError, canonical_dumps
from tradeguard.core.clock import datetime_to_ns, ns_to_datetime, ns_to_rfc3339
from tradeguard.crypto.signing import SigningKeyManager, SigningPurpose

REPORT_TYPE = "tradeguard.audit.report"
REPORT_VERSION = 1
FETCH_BATCH = 5_000
FIRST_YEAR = 1970
LAST_YEAR = 2261  # the last whole year whose nanoseconds fit a signed 64-bit column
RETENTION_POLICY = "never purged by the API"


class PeriodKind(StrEnum):
    """The length of a reporting period (UTC)."""

    DAY = "day"
    MONTH = "month"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class Period:
    """A UTC calendar day, month or year: ``start`` inclusive, ``end`` exclusive."""

    kind: PeriodKind
    start: date
    end: date

    @property
    def label(self) -> str:
        """``2026-11-20``, ``2026-11`` or ``2026``."""
        if self.kind is PeriodKind.DAY:
            return self.start.isoformat()
        if self.kind is PeriodKind.MONTH:
            return f"{self.start.year:04d}-{self.start.month:02d}"
        return f"{self.start.year:04d}"

    @property
    def start_ns(self) -> int:
        """Nanoseconds at the first instant of the period."""
        return _midnight_ns(self.start)

    @property
    def end_ns(self) -> int:
        """Nanoseconds at the first instant after the period."""
        return _midnight_ns(self.end)

    def to_json(self) -> dict[str, Any]:
        """The period as the report states it."""
        return {
            "kind": self.kind.value,
            "label": self.label,
            "start": ns_to_rfc3339(self.start_ns),
            "end": ns_to_rfc3339(self.end_ns),
            "start_ns": self.start_ns,
            "end_ns": self.end_ns,
        }


@dataclass(frozen=True, slots=True)
class ReportContext:
    """What a report reads besides the session: the trail to verify, the keys, the rules."""

    engine: Engine
    witness: Witness
    signing: SigningKeyManager
    retention_years: int
    now_ns: int


@dataclass(slots=True)
class _Tally:
    by_type: Counter[str] = field(default_factory=Counter)
    first: AuditEvent | None = None
    last: AuditEvent | None = None
    skipped_rows: int = 0

    def add(self, event: AuditEvent) -> None:
        self.by_type[event.event_type] += 1
        self.first = self.first or event
        self.last = event

    def to_json(self) -> dict[str, Any]:
        return {
            "count": sum(self.by_type.values()),
            "by_type": dict(sorted(self.by_type.items())),
            "first_seq": None if self.first is None else self.first.seq,
            "last_seq": None if self.last is None else self.last.seq,
            "first_ts": None if self.first is None else self.first.ts,
            "last_ts": None if self.last is None else self.last.ts,
            "skipped_rows": self.skipped_rows,
        }


def period_containing(kind: PeriodKind, day: date) -> Period:
    """The day, month or year that contains ``day``; ValueError outside 1970..2261."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"reports cover {FIRST_YEAR}..{LAST_YEAR}, not {day.year}")
    if kind is PeriodKind.DAY:
        return Period(kind, day, day + timedelta(days=1))
    if kind is PeriodKind.MONTH:
        start = day.replace(day=1)
        return Period(kind, start, (start + timedelta(days=32)).replace(day=1))
    return Period(kind, date(day.year, 1, 1), date(day.year + 1, 1, 1))


def previous_period(kind: PeriodKind, today: date) -> Period:
    """The last complete period before the one containing ``today``."""
    return period_containing(kind, period_containing(kind, today).start - timedelta(days=1))


def build_report(session: Session, context: ReportContext, period: Period) -> dict[str, Any]:
    """The unsigned figures of ``period``."""
    tally = _tally(session, period)
    events = tally.to_json()
    return {
        "type": REPORT_TYPE,
        "v": REPORT_VERSION,
        "period": period.to_json(),
        "generated_at": ns_to_rfc3339(context.now_ns),
        "events": events,
        "checkpoints": _checkpoints(session, events["first_seq"], events["last_seq"]),
        "verification": _verification(verify_database(context.engine, context.witness)),
        "retention": _retention(context.retention_years, context.now_ns),
    }


def sign_report(
    session: Session, signing: SigningKeyManager, report: Mapping[str, Any]
) -> dict[str, Any]:
    """Sign the canonical JSON of ``report`` with the active audit key."""
    key = signing.active(session, SigningPurpose.AUDIT)
    signature = key.sign(canonical_dumps(report))
    return {
        "report": dict(report),
        "key_id": key.key_id,
        "signature": base64.b64encode(signature).decode("ascii"),
    }


def signed_report(session: Session, context: ReportContext, period: Period) -> dict[str, Any]:
    """The report of ``period``, signed: ``{"report": ..., "key_id": ..., "signature": ...}``."""
    return sign_report(session, context.signing, build_report(session, context, period))


def verify_report(document: Mapping[str, Any], public_key_bytes: bytes) -> bool:
    """Whether ``document`` is a report signed by the Ed25519 key ``public_key_bytes``."""
    try:
        signature = base64.b64decode(document["signature"], validate=True)
        message = canonical_dumps(document["report"])
        Ed25519PublicKey.from_public_bytes(public_key_bytes).verify(signature, message)
    except (KeyError, TypeError, ValueError, binascii.Error, CanonicalJSONError, InvalidSignature):
        return False
    return True


def render_text(document: Mapping[str, Any]) -> str:
    """The signed report for people: the same figures, then the signature line."""
    report = document["report"]
    lines = [*_period_lines(report), *_event_lines(report["events"])]
    lines += _checkpoint_lines(report["checkpoints"])
    lines += _verification_lines(report["verification"], report["retention"])
    lines.append(f"signature: Ed25519 key {document['key_id']} {document['signature']}")
    return "\n".join(lines) + "\n"


def _tally(session: Session, period: Period) -> _Tally:
    statement = (
        select(AuditEventRow.seq, AuditEventRow.record)
        .where(AuditEventRow.ts_ns >= period.start_ns, AuditEventRow.ts_ns < period.end_ns)
        .order_by(AuditEventRow.seq)
        .execution_options(yield_per=FETCH_BATCH)
    )
    tally = _Tally()
    for seq, record in session.execute(statement):
        event = trusted_event(seq, bytes(record))
        if event is None or not period.start_ns <= event.ts_ns < period.end_ns:
            tally.skipped_rows += 1  # its indexed columns disagree with its signed record
        else:
            tally.add(event)
    return tally


def _checkpoints(session: Session, first_seq: int | None, last_seq: int | None) -> list[Any]:
    if first_seq is None or last_seq is None:
        return []
    rows = session.scalars(
        select(AuditCheckpointRow)
        .where(AuditCheckpointRow.tree_size.between(first_seq, last_seq))
        .order_by(AuditCheckpointRow.tree_size)
    )
    return [
        {
            "tree_size": row.tree_size,
            "ts": ns_to_rfc3339(row.ts_ns),
            "root": bytes(row.root_hash).hex(),
            "chain": bytes(row.chain_hash).hex(),
            "key_id": row.key_id,
        }
        for row in rows
    ]


def _verification(result: VerificationResult) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "events": result.events,
        "checkpoints": result.checkpoints,
        "first_bad_seq": result.first_bad_seq,
        "problem": result.problem,
        "repairable": result.repairable,
    }


def _retention(years: int, now_ns: int) -> dict[str, Any]:
    today = ns_to_datetime(now_ns).date()
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February in a year that has none
        cutoff = today.replace(year=today.year - years, day=28)
    return {"years": years, "purge_before": cutoff.isoformat(), "policy": RETENTION_POLICY}


def _midnight_ns(day: date) -> int:
    return datetime_to_ns(datetime(day.year, day.month, day.day, tzinfo=UTC))


def _period_lines(report: Mapping[str, Any]) -> list[str]:
    period = report["period"]
    return [
        f"TradeGuard audit report: {period['kind']} {period['label']}",
        f"period: {period['start']} (inclusive) to {period['end']} (exclusive)",
        f"generated: {report['generated_at']}",
    ]


def _event_lines(events: Mapping[str, Any]) -> list[str]:
    lines = [f"events: {events['count']}"]
    if events["first_seq"] is not None:
        lines.append(f"first: seq {events['first_seq']} at {events['first_ts']}")
        lines.append(f"last: seq {events['last_seq']} at {events['last_ts']}")
    lines += [f"  {name}: {count}" for name, count in events["by_type"].items()]
    if events["skipped_rows"]:
        lines.append(f"rows skipped (columns disagree with record): {events['skipped_rows']}")
    return lines


def _checkpoint_lines(checkpoints: Iterable[Mapping[str, Any]]) -> list[str]:
    listed = list(checkpoints)
    return [f"checkpoints in period: {len(listed)}"] + [
        f"  tree size {item['tree_size']} at {item['ts']} root {item['root']} key {item['key_id']}"
        for item in listed
    ]


def _verification_lines(verification: Mapping[str, Any], retention: Mapping[str, Any]) -> list[str]:
    result = VerificationResult(
        verification["events"],
        verification["checkpoints"],
        verification["first_bad_seq"],
        verification["problem"],
        repairable=verification.get("repairable", False),
    )
    purge = (
        f"retention: {retention['years']} years; events before {retention['purge_before']}"
        f" may be purged ({retention['policy']})"
    )
    return [f"verification: {result.line()}", purge]
