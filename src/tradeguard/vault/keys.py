"""The vault's own keys, derived from its key file; the main service never loads them.

Two keys come out of one 256-bit secret by HKDF-SHA256 with distinct labels: one
HMAC-SHA256 key for card fingerprints (the same card under one vault gives the same
fingerprint, and the fingerprint reveals nothing without the key) and one AES-256-GCM
key that seals the processor's references at rest.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tradeguard.core.clock import Clock
from tradeguard.crypto.master_key import ensure_master_key

NONCE_BYTES = 12


def _derive(material: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(material)


@dataclass(frozen=True, slots=True)
class VaultKeys:
    """The fingerprint key and the sealing key of one vault."""

    key_id: str
    fingerprint_key: bytes = field(repr=False)
    sealing_key: bytes = field(repr=False)

    @classmethod
    def from_material(cls, key_id: str, material: bytes) -> VaultKeys:
        """Derive both keys from the vault's secret."""
        return cls(
            key_id=key_id,
            fingerprint_key=_derive(material, b"tradeguard-vault/fingerprint/1"),
            sealing_key=_derive(material, b"tradeguard-vault/sealing/1"),
        )

    def fingerprint(self, card_number: str) -> str:
        """A keyed fingerprint of a card number (hex), equal for equal numbers."""
        return hmac.new(self.fingerprint_key, card_number.encode(), hashlib.sha256).hexdigest()

    def seal(self, value: str, context: str) -> bytes:
        """Encrypt ``value`` bound to ``context`` (the row it belongs to)."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return nonce + AESGCM(self.sealing_key).encrypt(nonce, value.encode(), context.encode())

    def open(self, sealed: bytes, context: str) -> str:
        """Decrypt what ``seal`` made for the same ``context``."""
        nonce, ciphertext = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
        return AESGCM(self.sealing_key).decrypt(nonce, ciphertext, context.encode()).decode()


def load_vault_keys(key_file: Path, clock: Clock, environment: str) -> VaultKeys:
    """The vault's keys from ``key_file``, creating the file (0600) on first use."""
    master, _ = ensure_master_key(key_file, clock, environment)
    return VaultKeys.from_material(master.key_id, master.material)
