"""Checkpoints (signed tree heads) and the witness: an append-only copy outside the database.

A checkpoint states "the first ``tree_size`` events have Merkle root R and chain
link C", signed with the audit Ed25519 key. Each one is also appended to the
witness file, so deleting the tail of the trail or rewriting the database with
recomputed hashes disagrees with what was published.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradeguard.core.canonical_json import canonical_dumps
from tradeguard.core.errors import TradeGuardError
from tradeguard.crypto.signing import SigningKey

CHECKPOINT_TYPE = "tradeguard.audit.checkpoint"
TAIL_BYTES = 64 * 1024
"""More than any checkpoint line: where a cut-off last line is looked for."""


class WitnessError(TradeGuardError):
    """The witness file is unreadable or malformed."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed tree head."""

    tree_size: int
    ts_ns: int
    root_hash: bytes
    chain_hash: bytes
    key_id: str
    signature: bytes

    def signed_message(self) -> bytes:
        """The bytes the signature covers."""
        return checkpoint_message(
            self.tree_size, self.ts_ns, self.root_hash, self.chain_hash, self.key_id
        )

    def to_json(self, public_key: bytes) -> dict[str, Any]:
        """The checkpoint as published (witness line, export bundle)."""
        return {
            "tree_size": self.tree_size,
            "ts_ns": self.ts_ns,
            "root": self.root_hash.hex(),
            "chain": self.chain_hash.hex(),
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode("ascii"),
            "public_key": base64.b64encode(public_key).decode("ascii"),
        }

    @classmethod
    def from_row(cls, row: Any) -> Checkpoint:  # noqa: ANN401 - an ORM row or a Core row alike
        """A checkpoint as stored in ``audit_checkpoints``."""
        return cls(
            int(row.tree_size),
            int(row.ts_ns),
            bytes(row.root_hash),
            bytes(row.chain_hash),
            str(row.key_id),
            bytes(row.signature),
        )

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> tuple[Checkpoint, bytes]:
        """Parse a published checkpoint and the public key it names."""
        checkpoint = cls(
            tree_size=int(document["tree_size"]),
            ts_ns=int(document["ts_ns"]),
            root_hash=bytes.fromhex(document["root"]),
            chain_hash=bytes.fromhex(document["chain"]),
            key_id=str(document["key_id"]),
            signature=base64.b64decode(document["signature"], validate=True),
        )
        return checkpoint, base64.b64decode(document["public_key"], validate=True)


def checkpoint_message(
    tree_size: int, ts_ns: int, root_hash: bytes, chain_hash: bytes, key_id: str
) -> bytes:
    """Canonical bytes of a tree head, which the audit key signs."""
    return canonical_dumps(
        {
            "type": CHECKPOINT_TYPE,
            "v": 1,
            "tree_size": tree_size,
            "ts_ns": ts_ns,
            "root": root_hash.hex(),
            "chain": chain_hash.hex(),
            "key_id": key_id,
        }
    )


def sign_checkpoint(
    key: SigningKey, tree_size: int, ts_ns: int, root_hash: bytes, chain_hash: bytes
) -> Checkpoint:
    """Sign a tree head with the active audit key."""
    message = checkpoint_message(tree_size, ts_ns, root_hash, chain_hash, key.key_id)
    return Checkpoint(tree_size, ts_ns, root_hash, chain_hash, key.key_id, key.sign(message))


@dataclass(frozen=True, slots=True)
class WitnessContents:
    """What the witness holds: its checkpoints, and whether its last line was cut off."""

    entries: list[tuple[Checkpoint, bytes]]
    torn_tail: bool = False
    """The file ends in a partial line: an append interrupted by a crash or power loss."""


class Witness:
    """An append-only JSON-lines file of published checkpoints."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, documents: Iterable[dict[str, Any]]) -> None:
        """Append checkpoints, one JSON line each; returns once they are on disk (fsync).

        The first append also creates the file and its directory and fsyncs the directory,
        so the file itself survives a power loss, not only its contents.
        """
        payload = "".join(json.dumps(document, sort_keys=True) + "\n" for document in documents)
        if not payload:
            return
        created = self._create_if_missing()
        descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND)
        try:
            # Several processes (gateway workers, the desk) append: one at a time, so none
            # takes another's append in progress for a line cut off by a crash.
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            _cut_partial_line(descriptor)
            write_fully(descriptor, payload.encode("utf-8"))
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if created:
            fsync_directory(self.path.parent)

    def read(self) -> list[tuple[Checkpoint, bytes]]:
        """Every published checkpoint with its public key; an absent file is an empty witness."""
        contents = self.contents()
        if contents.torn_tail:
            raise WitnessError(f"{self.path} ends with a partial line (an interrupted append)")
        return contents.entries

    def contents(self) -> WitnessContents:
        """The published checkpoints, telling a cut-off last line apart from a malformed one."""
        text = self._text()
        lines = text.split("\n")
        torn = lines.pop() != ""  # the text after the last newline: empty unless cut off
        entries = []
        for number, line in enumerate(lines, start=1):
            try:
                entries.append(Checkpoint.from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise WitnessError(f"{self.path} line {number} is malformed ({exc})") from None
        return WitnessContents(entries, torn_tail=torn)

    def cut_torn_tail(self) -> int:
        """Remove a partial last line (never a complete one); returns the bytes removed."""
        if not self.path.exists():
            return 0
        descriptor = os.open(self.path, os.O_RDWR)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            return _cut_partial_line(descriptor)
        finally:
            os.close(descriptor)

    def _text(self) -> str:
        if not self.path.exists():
            return ""
        try:
            return self.path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise WitnessError(f"{self.path} cannot be read ({type(exc).__name__})") from None

    def _create_if_missing(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        os.close(descriptor)
        return True


def _cut_partial_line(descriptor: int) -> int:
    """Truncate the file after its last newline (fsynced); the bytes removed.

    Only an append cut off by a crash leaves a partial line: its checkpoint is in the
    database and is published again whole by the repair (``audit.publication``).
    """
    size = os.fstat(descriptor).st_size
    tail = os.pread(descriptor, min(size, TAIL_BYTES), max(size - TAIL_BYTES, 0))
    if not tail or tail.endswith(b"\n"):
        return 0
    newline = tail.rfind(b"\n")
    if newline < 0 and size > TAIL_BYTES:
        raise WitnessError("the witness's last line is longer than any checkpoint")
    keep = size - len(tail) + newline + 1
    os.ftruncate(descriptor, keep)
    os.fsync(descriptor)
    return size - keep


def write_fully(descriptor: int, data: bytes) -> None:
    """Write all of ``data`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def fsync_directory(directory: Path) -> None:
    """Make the directory's entries (a new file's name) durable."""
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
