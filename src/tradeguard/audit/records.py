"""The audit record: who did what to what, as canonical bytes, and how records are chained.

A record is canonical JSON; its RFC 9162 leaf hash goes into the Merkle tree and
into a hash chain (each link hashes the previous link and the leaf), so editing,
deleting or reordering any event changes every later link. Personal data rides
inside the record only as ciphertext under the subject's ``audit_pii`` key, so
shredding a person later leaves every hash intact.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from tradeguard.audit.merkle import leaf_hash
from tradeguard.core.canonical_json import canonical_dumps

RECORD_VERSION = 1
CHAIN_PREFIX = b"tradeguard/audit-chain/v1\x00"
GENESIS_CHAIN = bytes(32)
CHAIN_HASHER = hashlib.sha256(CHAIN_PREFIX)  # copied per link: the prefix is hashed once
ACTOR_KINDS = frozenset({"user", "staff", "system", "apikey"})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a user, staff member, API key or the system, with where they acted from."""

    kind: str
    id: str
    ip: str | None = None
    session_id: str | None = None
    device_id: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")
        if not self.id:
            raise ValueError("an actor needs an id")

    @classmethod
    def system(cls, component: str = "tradeguard") -> Actor:
        """The service itself (jobs, key rotation, scheduled checkpoints)."""
        return cls("system", component)

    def to_json(self) -> dict[str, str | None]:
        """The actor as it appears in a record."""
        return {
            "kind": self.kind,
            "id": self.id,
            "ip": self.ip,
            "session_id": self.session_id,
            "device_id": self.device_id,
        }


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One event's fields, before sequencing fixes its position."""

    event_id: str
    ts_ns: int
    event_type: str
    actor: Actor
    subject: str | None
    request_id: str | None
    data: dict[str, Any]
    personal: dict[str, str] | None

    def document(self, seq: int) -> dict[str, Any]:
        """The record as JSON members, at position ``seq``."""
        return {
            "v": RECORD_VERSION,
            "seq": seq,
            "event_id": self.event_id,
            "ts_ns": self.ts_ns,
            "type": self.event_type,
            "actor": self.actor.to_json(),
            "subject": self.subject,
            "request_id": self.request_id,
            "data": self.data,
            "personal": self.personal,
        }

    def canonical(self, seq: int) -> bytes:
        """The exact bytes whose leaf hash enters the tree."""
        return canonical_dumps(self.document(seq))


def chain_link(previous: bytes, leaf: bytes) -> bytes:
    """The next link of the hash chain."""
    hasher = CHAIN_HASHER.copy()
    hasher.update(previous + leaf)
    return hasher.digest()


def record_hashes(previous_chain: bytes, canonical: bytes) -> tuple[bytes, bytes]:
    """The leaf hash of a canonical record and the chain link it makes."""
    leaf = leaf_hash(canonical)
    return leaf, chain_link(previous_chain, leaf)


def personal_context(event_id: str) -> bytes:
    """Associated data binding encrypted personal data to its event."""
    return f"tradeguard/audit-personal/v1|{event_id}".encode()
