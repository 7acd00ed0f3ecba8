"""Audit trail: append throughput against plain inserts, and verification speed."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from sqlalchemy import BigInteger, Column, Engine, LargeBinary, MetaData, String, Table, insert

from measure import Measurement, scratch_postgres
from tradeguard.audit.checkpoints import Witness, sign_checkpoint
from tradeguard.audit.merkle import CompactTree
from tradeguard.audit.models import AuditCheckpointRow, AuditEventRow
from tradeguard.audit.recorder import AuditTrail, CheckpointPolicy
from tradeguard.audit.records import GENESIS_CHAIN, Actor, EventRecord, record_hashes
from tradeguard.audit.verify import verify_database
from tradeguard.core.clock import SystemClock
from tradeguard.core.ids import new_id
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.fields import FIELD_CRYPTO_KEY
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.crypto.runtime import Crypto, crypto_over, provision_keys
from tradeguard.crypto.signing import SigningPurpose
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine
from tradeguard.db.session import session_factory, transaction

APPEND_EVENTS = 20_000
PER_TRANSACTION = 100
VERIFY_EVENTS = 1_000_000
TRADER = Actor("user", "user-1", ip="203.0.113.7", session_id="s-1", device_id="d-1")

plain_metadata = MetaData()
plain_events = Table(
    "plain_events",
    plain_metadata,
    Column("id", String(36), primary_key=True),
    Column("ts_ns", BigInteger),
    Column("event_type", String(96)),
    Column("actor_id", String(96)),
    Column("subject", String(128)),
    Column("data", LargeBinary),
)


def _data(number: int) -> dict[str, object]:
    return {"symbol": "ACME", "side": "buy", "quantity": 100 + number, "limit_price": "12.3400"}


def _setup(engine: Engine) -> tuple[AuditTrail, Crypto, object]:
    clock = SystemClock()
    crypto = crypto_over(
        LocalKek(generate_master_key(clock, "development")), clock, MemoryKeyEventRecorder()
    )
    sessions = session_factory(engine, {FIELD_CRYPTO_KEY: crypto.field_crypto})
    with transaction(sessions) as session:
        provision_keys(crypto, session)
    witness = Witness(Path(tempfile.mkdtemp()) / "witness.jsonl")
    trail = AuditTrail(
        clock, crypto.subjects, crypto.signing, witness, CheckpointPolicy(1000, 3600)
    )
    return trail, crypto, sessions


def _append_rate(engine: Engine) -> float:
    trail, _, sessions = _setup(engine)
    started = time.perf_counter()
    for batch in range(0, APPEND_EVENTS, PER_TRANSACTION):
        with transaction(sessions) as session:  # type: ignore[arg-type]
            for number in range(batch, batch + PER_TRANSACTION):
                trail.record(session, "order.placed", TRADER, f"order:{number}", _data(number))
    return APPEND_EVENTS / (time.perf_counter() - started)


def _plain_rate(engine: Engine) -> float:
    plain_metadata.create_all(engine)
    started = time.perf_counter()
    for batch in range(0, APPEND_EVENTS, PER_TRANSACTION):
        with engine.begin() as connection:
            for number in range(batch, batch + PER_TRANSACTION):
                row = {
                    "id": str(new_id()),
                    "ts_ns": time.time_ns(),
                    "event_type": "order.placed",
                    "actor_id": TRADER.id,
                    "subject": f"order:{number}",
                    "data": json.dumps(_data(number)).encode(),
                }
                connection.execute(insert(plain_events), row)
    return APPEND_EVENTS / (time.perf_counter() - started)


def _fill_for_verify(engine: Engine, crypto: Crypto, sessions: object) -> None:
    """A million chained events with a signed checkpoint every thousand, written in bulk."""
    with transaction(sessions) as session:  # type: ignore[arg-type]
        key = crypto.signing.active(session, SigningPurpose.AUDIT)
    tree, chain, clock = CompactTree(), GENESIS_CHAIN, SystemClock()
    for start in range(1, VERIFY_EVENTS + 1, 10_000):
        rows, checkpoints = [], []
        for seq in range(start, start + 10_000):
            draft = EventRecord(
                str(new_id()),
                clock.now_ns(),
                "order.placed",
                TRADER,
                f"order:{seq}",
                None,
                _data(seq),
                None,
            )
            canonical = draft.canonical(seq)
            leaf, chain = record_hashes(chain, canonical)
            tree.append(leaf)
            rows.append(
                {
                    "seq": seq,
                    "event_id": draft.event_id,
                    "ts_ns": draft.ts_ns,
                    "event_type": draft.event_type,
                    "actor_type": "user",
                    "actor_id": TRADER.id,
                    "subject": draft.subject,
                    "request_id": None,
                    "record": canonical,
                    "leaf_hash": leaf,
                    "chain_hash": chain,
                }
            )
            if seq % 1000 == 0:
                c = sign_checkpoint(key, seq, clock.now_ns(), tree.root(), chain)
                checkpoints.append(
                    {
                        "tree_size": c.tree_size,
                        "ts_ns": c.ts_ns,
                        "root_hash": c.root_hash,
                        "chain_hash": c.chain_hash,
                        "key_id": c.key_id,
                        "signature": c.signature,
                    }
                )
        with engine.begin() as connection:
            connection.execute(insert(AuditEventRow.__table__), rows)
            connection.execute(insert(AuditCheckpointRow.__table__), checkpoints)


def _verify_rate(engine: Engine, crypto: Crypto, sessions: object) -> float:
    _fill_for_verify(engine, crypto, sessions)
    empty_witness = Witness(Path(tempfile.mkdtemp()) / "none.jsonl")
    started = time.perf_counter()
    result = verify_database(engine, empty_witness)
    elapsed = time.perf_counter() - started
    assert result.events == VERIFY_EVENTS, result.line()
    assert result.checkpoints == VERIFY_EVENTS // 1000, result.line()
    return VERIFY_EVENTS / elapsed


def _on_backend(url: str, label: str) -> list[Measurement]:
    engine = build_engine(url)
    migrate.upgrade(engine)
    audit_rate = _append_rate(engine)
    plain_rate = _plain_rate(engine)
    results = [
        Measurement(f"audit append, {label}", audit_rate, "events/s", lower_is_better=False),
        Measurement(f"plain insert, {label}", plain_rate, "rows/s", lower_is_better=False),
        Measurement(
            f"audit/plain ratio, {label}", audit_rate / plain_rate, "x", 0.5, lower_is_better=False
        ),
    ]
    engine.dispose()
    return results


def _verify_on(url: str, label: str) -> Measurement:
    engine = build_engine(url)
    migrate.upgrade(engine)
    _, crypto, sessions = _setup(engine)
    rate = _verify_rate(engine, crypto, sessions)
    engine.dispose()
    return Measurement(
        f"audit verify, 1M events, {label}", rate, "events/s", 200_000, lower_is_better=False
    )


def run() -> list[Measurement]:
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory() as directory:
        results += _on_backend(f"sqlite:///{Path(directory) / 'append.db'}", "SQLite")
        results.append(_verify_on(f"sqlite:///{Path(directory) / 'verify.db'}", "SQLite"))
    with scratch_postgres() as url:
        if url is not None:
            results += _on_backend(url, "PostgreSQL")
    with scratch_postgres() as url:
        if url is not None:
            results.append(_verify_on(url, "PostgreSQL"))
    return results
