"""What the screening tests share: the sample list, a service over a real database."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from support import TestDatabase
from tradeguard.audit.checkpoints import Witness
from tradeguard.audit.recorder import AuditTrail, CheckpointPolicy
from tradeguard.audit.records import Actor
from tradeguard.core.clock import FixedClock
from tradeguard.crypto.events import MemoryKeyEventRecorder
from tradeguard.crypto.fields import FIELD_CRYPTO_KEY
from tradeguard.crypto.kek import LocalKek
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.crypto.runtime import crypto_over, provision_keys
from tradeguard.db.session import session_factory, transaction
from tradeguard.screening.list_store import watchlist_of
from tradeguard.screening.ofac_csv import read_list
from tradeguard.screening.parties import ScreenedParties
from tradeguard.screening.service import SanctionsScreening
from tradeguard.screening.watchlist import Watchlist

SAMPLE = Path(__file__).parent / "ofac_sample"
OPERATOR = Actor("staff", "cli:compliance")


def sample_watchlist() -> Watchlist:
    """The hand-written sample of the SDN list, parsed, not stored."""
    return watchlist_of(read_list(SAMPLE, "ofac-sdn"), "sample")


def copy_sample(target: Path) -> Path:
    """A writable copy of the sample list files."""
    shutil.copytree(SAMPLE, target)
    return target


def audited_sessions(
    database: TestDatabase, clock: FixedClock, tmp_path: Path
) -> tuple[sessionmaker[Session], AuditTrail]:
    """Sessions with field crypto over ``database`` and an audit trail writing to it."""
    crypto = crypto_over(
        LocalKek(generate_master_key(clock, "development")), clock, MemoryKeyEventRecorder()
    )
    sessions = session_factory(database.engine, {FIELD_CRYPTO_KEY: crypto.field_crypto})
    with transaction(sessions) as db:
        provision_keys(crypto, db)
    trail = AuditTrail(
        clock, crypto.subjects, crypto.signing, Witness(tmp_path / "w.jsonl"), CheckpointPolicy()
    )
    return sessions, trail


def screening_service(
    database: TestDatabase,
    clock: FixedClock,
    tmp_path: Path,
    parties: ScreenedParties | None = None,
) -> SanctionsScreening:
    """The screening service over a real, empty database."""
    sessions, trail = audited_sessions(database, clock, tmp_path)
    return SanctionsScreening(sessions, trail, clock, parties=parties)
