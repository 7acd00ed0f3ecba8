"""An audit trail over a committed test database, and a way to tamper with it like an attacker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.checkpoints import Witness
from tradeguard.audit.recorder import AuditTrail, CheckpointPolicy
from tradeguard.audit.records import Actor
from tradeguard.audit.verify import VerificationResult, verify_database
from tradeguard.core.clock import FixedClock
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.fields import FIELD_CRYPTO_KEY
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.crypto.runtime import Crypto, crypto_over, provision_keys
from tradeguard.db.session import session_factory, transaction

TRADER = Actor("user", "user-1", ip="203.0.113.7", session_id="s-1", device_id="d-1")
SQLITE_GUARDS = [
    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {action} refused'); END"
    for table in ("audit_events", "audit_checkpoints")
    for action in ("UPDATE", "DELETE")
]


@dataclass
class AuditKit:
    engine: Engine
    clock: FixedClock
    crypto: Crypto
    sessions: sessionmaker[Session]
    trail: AuditTrail
    witness: Witness
    parallel_from: int | None = 1_000_000_000

    def record_many(self, count: int, **fields: object) -> None:
        """Record ``count`` events, one transaction each."""
        for number in range(count):
            with transaction(self.sessions) as session:
                self.trail.record(
                    session, "order.placed", TRADER, f"order:{number}", {"n": number}, **fields
                )
            self.clock.advance(nanoseconds=1_000)

    def verify(self) -> VerificationResult:
        return verify_database(self.engine, self.witness, parallel_from=self.parallel_from)

    def tamper(self, *statements: str, **params: object) -> None:
        """Run SQL with the append-only guards out of the way, as a database admin could."""
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                for statement in statements:
                    connection.execute(text(statement), params)
                return
            for table in ("audit_events", "audit_checkpoints"):
                for action in ("update", "delete"):
                    connection.execute(text(f"DROP TRIGGER {table}_no_{action}"))
            for statement in statements:
                connection.execute(text(statement), params)
            for guard in SQLITE_GUARDS:
                connection.execute(text(guard))


def build_kit(engine: Engine, clock: FixedClock, witness_path: Path, every_events: int) -> AuditKit:
    kek = LocalKek(generate_master_key(clock, "development"))
    crypto = crypto_over(kek, clock, MemoryKeyEventRecorder())
    sessions = session_factory(engine, {FIELD_CRYPTO_KEY: crypto.field_crypto})
    with transaction(sessions) as session:
        provision_keys(crypto, session)
    witness = Witness(witness_path)
    trail = AuditTrail(
        clock, crypto.subjects, crypto.signing, witness, CheckpointPolicy(every_events, 3600)
    )
    return AuditKit(engine, clock, crypto, sessions, trail, witness)
