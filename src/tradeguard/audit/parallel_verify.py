"""Verification of large trails on several cores.

The sequence range is cut into contiguous parts, one per worker process. Each
worker recomputes the leaves and chain links of its part (starting from the stored
link just before it, which the previous part checks), checks that the searchable
columns say what the record says, and returns its leaf hashes. The parent then
replays the Merkle tree over all leaves and checks every signed checkpoint.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Generator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import Engine

from tradeguard.audit.checkpoints import Checkpoint
from tradeguard.audit.raw_rows import fetch_batches
from tradeguard.audit.records import CHAIN_HASHER, GENESIS_CHAIN
from tradeguard.db.engine import build_engine

HASH_SIZE = 32
PARTS_PER_WORKER = 4
NO_PERSONAL = b',"personal":null'
_COLUMNS = (
    "seq, record, chain_hash, event_id, ts_ns, event_type, actor_type, actor_id, "
    "subject, request_id"
)


@dataclass(slots=True)
class PartOutcome:
    """What one worker found in its part of the sequence range."""

    first: int
    leaves: bytes = b""
    links_at: dict[int, bytes] = field(default_factory=dict)
    end_chain: bytes = GENESIS_CHAIN
    next_seq: int = 0
    problem: tuple[int, str] | None = None


def columns_match(row: Sequence[Any]) -> bool:
    """Whether a row's searchable columns say what its canonical record says.

    The record is canonical JSON with sorted keys, so its last members (request id,
    seq, subject, time, type, version) form a tail that the columns determine byte
    for byte, the event id sits right before ``personal``, and the actor object comes
    first; quotes inside strings are escaped, so these patterns only match structure.
    """
    seq, record, _, event_id, ts_ns, event_type, actor_type, actor_id, subject, request_id = row
    tail = (
        f',"request_id":{_json(request_id)},"seq":{seq},"subject":{_json(subject)},'
        f'"ts_ns":{ts_ns},"type":{_json(event_type)},"v":1}}'
    ).encode()
    if not record.endswith(tail) or not record.startswith(b'{"actor":{'):
        return False
    head_end = len(record) - len(tail)
    actor_end = record.find(b'},"data":', 0, head_end)
    return (
        actor_end > 0
        and record.find(f',"id":{_json(actor_id)},"ip":'.encode(), 0, actor_end) > 0
        and record.find(f',"kind":{_json(actor_type)},"session_id":'.encode(), 0, actor_end) > 0
        and _event_id_matches(record, head_end, event_id)
    )


def _event_id_matches(record: bytes, head_end: int, event_id: str) -> bool:
    expected = f',"event_id":{_json(event_id)}'.encode()
    if record.endswith(NO_PERSONAL, 0, head_end):
        return record.endswith(expected, 0, head_end - len(NO_PERSONAL))
    cut = record.rfind(b',"personal":{', 0, head_end)
    return cut > 0 and record.endswith(expected, 0, cut)


def _json(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def replay_part(url: str, first: int, last: int, sizes: Sequence[int]) -> PartOutcome:
    """Worker: check events ``first..last`` and return their leaves (runs in a child process)."""
    engine = build_engine(url)
    try:
        outcome = PartOutcome(first, next_seq=first)
        anchor = _stored_link(engine, first - 1)
        if anchor is None:
            outcome.problem = (first - 1, f"event {first - 1} is missing (deleted)")
            return outcome
        _walk(engine, outcome, anchor, last, frozenset(sizes))
        if outcome.problem is None and outcome.next_seq != last + 1:
            outcome.problem = (outcome.next_seq, f"event {outcome.next_seq} is missing (deleted)")
        return outcome
    finally:
        engine.dispose()


def _walk(
    engine: Engine, outcome: PartOutcome, chain: bytes, last: int, sizes: frozenset[int]
) -> None:
    sha256, chain_hasher, leaves = hashlib.sha256, CHAIN_HASHER.copy, bytearray()
    expected = outcome.first
    with closing(_batches(engine, outcome.first, last)) as batches:
        for batch in batches:
            for row in batch:
                seq, record, stored = row[0], row[1], row[2]
                if seq != expected:
                    outcome.problem = (expected, f"event {expected} is missing (deleted)")
                    break
                leaf = sha256(b"\x00" + record).digest()
                hasher = chain_hasher()
                hasher.update(chain + leaf)
                link = hasher.digest()
                outcome.problem = _row_problem(row, link, stored)
                if outcome.problem is not None:
                    break
                leaves += leaf
                chain, expected = link, seq + 1
                if seq in sizes:
                    outcome.links_at[seq] = link
            if outcome.problem is not None:
                break
    outcome.leaves, outcome.end_chain, outcome.next_seq = bytes(leaves), chain, expected


def _row_problem(row: Sequence[Any], link: bytes, stored: bytes) -> tuple[int, str] | None:
    if link != stored:
        return row[0], "the hash chain is broken here (edited, reordered or inserted)"
    if not columns_match(row):
        return row[0], "the searchable columns differ from the signed record (edited)"
    return None


def _stored_link(engine: Engine, seq: int) -> bytes | None:
    if seq == 0:
        return GENESIS_CHAIN
    query = "SELECT chain_hash FROM audit_events WHERE seq = {}"
    with closing(fetch_batches(engine, query, (seq,))) as batches:
        rows = [row for batch in batches for row in batch]
    return bytes(rows[0][0]) if rows else None


def _batches(
    engine: Engine, first: int, last: int
) -> Generator[Sequence[Sequence[Any]], None, None]:
    query = f"SELECT {_COLUMNS} FROM audit_events WHERE seq BETWEEN {{}} AND {{}} ORDER BY seq"  # noqa: S608 - constant columns
    return fetch_batches(engine, query, (first, last))


def replay_parts(
    engine: Engine, last_seq: int, checkpoints: Sequence[Checkpoint], workers: int
) -> Generator[PartOutcome, None, None]:
    """Outcomes in sequence order; later parts keep running while earlier ones are consumed."""
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()  # no pooled connection crosses into the children
    sizes = [checkpoint.tree_size for checkpoint in checkpoints]
    bounds = _split(last_seq, workers * PARTS_PER_WORKER)
    # fork: children start at once and never re-run the main module (forkserver and
    # spawn do, which breaks scripts without a __main__ guard). Nothing of ours runs in
    # another thread at this point, and the pooled connections were closed above.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(replay_part, url, first, last, sizes) for first, last in bounds]
        try:
            for future in futures:
                yield future.result()
        finally:
            for future in futures:
                future.cancel()


def _split(last_seq: int, parts: int) -> list[tuple[int, int]]:
    size = -(-last_seq // parts)
    return [(start, min(start + size - 1, last_seq)) for start in range(1, last_seq + 1, size)]


def leaves_of(outcome: PartOutcome) -> list[bytes]:
    """The leaf hashes of a part, in order."""
    blob = outcome.leaves
    return [blob[index : index + HASH_SIZE] for index in range(0, len(blob), HASH_SIZE)]
