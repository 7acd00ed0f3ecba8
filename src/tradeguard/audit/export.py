"""Export bundles: a range of the trail that a regulator verifies offline.

A bundle is zstd-compressed JSON lines: a header (range, the chain link and the
Merkle frontier just before the range), the audit public keys, every event of the
range as its exact canonical record, and every checkpoint inside the range,
ending with one at the last exported event. Verification needs no database and
no private key: it replays the range from the frontier and checks that the roots
match the signed checkpoints.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard
from sqlalchemy import select
from sqlalchemy.orm import Session

from tradeguard.audit.checkpoints import Checkpoint
from tradeguard.audit.head import head_sequence, past_head
from tradeguard.audit.merkle import CompactTree
from tradeguard.audit.models import AuditCheckpointRow, AuditEventRow
from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import GENESIS_CHAIN
from tradeguard.audit.verify import ChainReplay, TrailBroken, VerificationResult
from tradeguard.core.errors import TradeGuardError
from tradeguard.core.secure_files import PUBLIC_MODE, write_atomically
from tradeguard.crypto.signing import SigningPurpose

BUNDLE_FORMAT = "tradeguard-audit-bundle/1"


class BundleError(TradeGuardError):
    """A bundle cannot be written or read."""


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What an export wrote."""

    path: Path
    first_seq: int
    last_seq: int
    checkpoints: int


def export_bundle(
    session: Session, trail: AuditTrail, first_seq: int, last_seq: int, out: Path
) -> ExportSummary:
    """Write events ``first_seq..last_seq`` with their proofs of integrity to ``out``."""
    _require_events(session, first_seq, last_seq)
    closing = trail.checkpoint_at(session, last_seq)
    chain, frontier = _state_before(session, first_seq)
    lines = [_header(first_seq, last_seq, chain, frontier)]
    lines += [{"kind": "key", **key} for key in _audit_keys(session, trail)]
    lines += [
        {"kind": "event", "seq": seq, "record": record}
        for seq, record in _records(session, first_seq, last_seq)
    ]
    checkpoints = _checkpoints_within(session, first_seq, last_seq, closing)
    keys = {
        key["key_id"]: base64.b64decode(key["public_key"])
        for key in lines
        if key.get("kind") == "key"
    }
    lines += [{"kind": "checkpoint", **c.to_json(keys[c.key_id])} for c in checkpoints]
    payload = "".join(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n" for line in lines)
    write_atomically(
        out, zstandard.ZstdCompressor(level=10).compress(payload.encode("utf-8")), PUBLIC_MODE
    )
    return ExportSummary(out, first_seq, last_seq, len(checkpoints))


def _require_events(session: Session, first_seq: int, last_seq: int) -> None:
    """Refuse, saying why and what to do, a range that is not all in the trail."""
    head = head_sequence(session)
    if head == 0:
        raise BundleError("nothing to export: the audit trail is empty")
    if first_seq < 1:
        raise BundleError(f"sequence numbers start at 1, not {first_seq}")
    if first_seq > head:
        raise BundleError(f"nothing to export: {past_head(first_seq, head)}")
    if last_seq > head:
        raise BundleError(
            f"cannot export up to {last_seq}: {past_head(last_seq, head)}; end the range at "
            f"{head} or earlier, or leave the end out to export up to the head"
        )
    if first_seq > last_seq:
        raise BundleError(
            f"nothing to export: the range starts at {first_seq}, after its end at {last_seq}"
        )


def verify_bundle(
    path: Path, trusted_keys: Mapping[str, bytes] | None = None
) -> VerificationResult:
    """Verify a bundle offline; ``trusted_keys`` pins the public keys a regulator got elsewhere."""
    header, keys, events, checkpoints = _read(path)
    mismatch = _untrusted_key(keys, trusted_keys)
    if mismatch is not None:
        return VerificationResult(0, 0, header["from_seq"], mismatch)
    replay = ChainReplay(
        checkpoints,
        keys,
        start=header["from_seq"],
        chain=bytes.fromhex(header["chain_before"]),
        tree=CompactTree.from_state(header["frontier_before"]),
    )
    try:
        _check_records(events)
        replay.feed([(seq, record, None) for seq, record in events])
        replay.finish()
        _require_end(replay, header["to_seq"], checkpoints)
    except TrailBroken as broken:
        return VerificationResult(
            replay.expected - header["from_seq"],
            replay.checkpoints_verified,
            broken.seq,
            broken.problem,
        )
    return VerificationResult(replay.expected - header["from_seq"], replay.checkpoints_verified)


def _require_end(replay: ChainReplay, last_seq: int, checkpoints: list[Checkpoint]) -> None:
    if replay.expected - 1 != last_seq:
        raise TrailBroken(
            replay.expected, f"the bundle ends at {replay.expected - 1}, its header says {last_seq}"
        )
    if not checkpoints or checkpoints[-1].tree_size != last_seq:
        raise TrailBroken(last_seq, "the last events are not covered by a signed checkpoint")


def _untrusted_key(keys: Mapping[str, bytes], trusted: Mapping[str, bytes] | None) -> str | None:
    if trusted is None:
        return None
    for key_id, public_key in keys.items():
        if trusted.get(key_id) != public_key:
            return f"signing key {key_id} in the bundle is not one of the trusted keys"
    return None


def _check_records(events: list[tuple[int, bytes]]) -> None:
    """Each record must be an audit record that names its own sequence number."""
    for seq, record in events:
        try:
            document = json.loads(record)
            valid = document["seq"] == seq and isinstance(document["actor"], dict)
        except (ValueError, KeyError, TypeError):
            valid = False
        if not valid:
            raise TrailBroken(seq, "the record is not a valid audit record for this position")


# Reading ------------------------------------------------------------------------


def _read(
    path: Path,
) -> tuple[dict[str, Any], dict[str, bytes], list[tuple[int, bytes]], list[Checkpoint]]:
    header: dict[str, Any] | None = None
    keys: dict[str, bytes] = {}
    events: list[tuple[int, bytes]] = []
    checkpoints: list[Checkpoint] = []
    for number, line in _lines(path):
        try:
            kind = line["kind"]
            if kind == "header":
                header = _checked_header(line)
            elif kind == "key":
                keys[str(line["key_id"])] = base64.b64decode(line["public_key"], validate=True)
            elif kind == "event":
                events.append((int(line["seq"]), str(line["record"]).encode("utf-8")))
            elif kind == "checkpoint":
                checkpoints.append(Checkpoint.from_json(line)[0])
            else:
                raise BundleError(f"unknown line kind {kind!r}")
        except (KeyError, ValueError, TypeError) as exc:
            raise BundleError(f"{path} line {number} is malformed ({exc})") from None
    if header is None:
        raise BundleError(f"{path} has no header line")
    return header, keys, events, sorted(checkpoints, key=lambda c: c.tree_size)


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(path.read_bytes()))
        text = io.TextIOWrapper(reader, encoding="utf-8")
        for number, line in enumerate(text, start=1):
            yield number, json.loads(line)
    except FileNotFoundError:
        raise BundleError(f"{path} does not exist") from None
    except (zstandard.ZstdError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path} is not a readable bundle ({exc})") from None


def _checked_header(line: dict[str, Any]) -> dict[str, Any]:
    if line.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"unknown bundle format {line.get('format')!r}")
    bytes.fromhex(line["chain_before"])
    int(line["from_seq"]), int(line["to_seq"])
    return line


# Writing ------------------------------------------------------------------------


def _header(first_seq: int, last_seq: int, chain: bytes, frontier: CompactTree) -> dict[str, Any]:
    return {
        "kind": "header",
        "format": BUNDLE_FORMAT,
        "from_seq": first_seq,
        "to_seq": last_seq,
        "chain_before": chain.hex(),
        "frontier_before": frontier.to_state(),
    }


def _state_before(session: Session, first_seq: int) -> tuple[bytes, CompactTree]:
    rows = session.execute(
        select(AuditEventRow.leaf_hash, AuditEventRow.chain_hash)
        .where(AuditEventRow.seq < first_seq)
        .order_by(AuditEventRow.seq)
    ).all()
    tree = CompactTree()
    tree.extend(bytes(leaf) for leaf, _ in rows)
    return (bytes(rows[-1][1]) if rows else GENESIS_CHAIN), tree


def _records(session: Session, first_seq: int, last_seq: int) -> Iterator[tuple[int, str]]:
    rows = session.execute(
        select(AuditEventRow.seq, AuditEventRow.record)
        .where(AuditEventRow.seq.between(first_seq, last_seq))
        .order_by(AuditEventRow.seq)
    )
    for seq, record in rows:
        yield seq, bytes(record).decode("utf-8")


def _checkpoints_within(
    session: Session, first_seq: int, last_seq: int, closing: Checkpoint
) -> list[Checkpoint]:
    rows = session.scalars(
        select(AuditCheckpointRow)
        .where(AuditCheckpointRow.tree_size.between(first_seq, last_seq))
        .order_by(AuditCheckpointRow.tree_size)
    )
    found = {row.tree_size: Checkpoint.from_row(row) for row in rows}
    found[closing.tree_size] = closing
    return [found[size] for size in sorted(found)]


def _audit_keys(session: Session, trail: AuditTrail) -> list[dict[str, str]]:
    return [
        {"key_id": key.key_id, "public_key": base64.b64encode(key.public_bytes).decode("ascii")}
        for key in trail.signing.public_keys(session, SigningPurpose.AUDIT)
    ]
