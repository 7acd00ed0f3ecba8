"""The master key: the key-encryption key kept in a 0600 file outside the database."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tradeguard.core.clock import Clock
from tradeguard.core.errors import StartupError
from tradeguard.core.ids import new_id
from tradeguard.core.secure_files import is_private, write_atomically

FORMAT = "tradeguard-master-key/1"
KEY_BYTES = 32


@dataclass(frozen=True, slots=True)
class MasterKey:
    """A 256-bit key-encryption key with its id and the environment that created it."""

    key_id: str
    environment: str
    created_at_ns: int
    material: bytes = field(repr=False)

    def self_test(self) -> bool:
        """Encrypt and decrypt a probe with AES-256-GCM; True when the key works."""
        nonce = secrets.token_bytes(12)
        probe = secrets.token_bytes(16)
        cipher = AESGCM(self.material)
        return (
            cipher.decrypt(nonce, cipher.encrypt(nonce, probe, b"self-test"), b"self-test") == probe
        )


def generate_master_key(clock: Clock, environment: str) -> MasterKey:
    """A fresh random master key."""
    return MasterKey(
        key_id=f"mk-{new_id(clock)}",
        environment=environment,
        created_at_ns=clock.now_ns(),
        material=secrets.token_bytes(KEY_BYTES),
    )


def ensure_master_key(path: Path, clock: Clock, environment: str) -> tuple[MasterKey, bool]:
    """Load the master key at ``path``, creating it (mode 0600) if absent; flag says created."""
    if path.exists():
        return load_master_key(path), False
    key = generate_master_key(clock, environment)
    write_atomically(path, _serialize(key))
    return key, True


def load_master_key(path: Path) -> MasterKey:
    """Read and check the master key file; every problem is a clear startup error."""
    if not path.exists():
        raise StartupError(f"master key {path} does not exist: run `tradeguard init`")
    if not is_private(path):
        raise StartupError(f"master key {path} is readable by others: chmod 600 it")
    try:
        return _deserialize(json.loads(path.read_bytes()))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise StartupError(f"master key {path} is malformed: {type(exc).__name__}") from None


def _serialize(key: MasterKey) -> bytes:
    document = {
        "format": FORMAT,
        "key_id": key.key_id,
        "environment": key.environment,
        "created_at_ns": key.created_at_ns,
        "key": base64.b64encode(key.material).decode("ascii"),
    }
    return json.dumps(document, indent=2).encode("utf-8") + b"\n"


def _deserialize(document: dict[str, Any]) -> MasterKey:
    if document["format"] != FORMAT:
        raise ValueError("unknown format")
    material = base64.b64decode(document["key"], validate=True)
    if len(material) != KEY_BYTES:
        raise ValueError("wrong key length")
    return MasterKey(
        key_id=str(document["key_id"]),
        environment=str(document["environment"]),
        created_at_ns=int(document["created_at_ns"]),
        material=material,
    )
