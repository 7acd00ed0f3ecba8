"""Key-encryption keys: what wraps every keyset before it reaches the database.

A provider wraps and unwraps small secrets (serialized keysets, private keys)
with associated data binding each blob to its purpose. Two providers exist: the
local master-key file (default) and HashiCorp Vault's transit engine.
"""

from __future__ import annotations

import secrets
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tradeguard.core.errors import TradeGuardError
from tradeguard.crypto.master_key import MasterKey

LOCAL_FORMAT = b"\x01"
NONCE_BYTES = 12


class UnwrapError(TradeGuardError):
    """A wrapped blob could not be opened: wrong key, wrong purpose, or tampered."""


class KeyEncryptionKey(Protocol):
    """Wraps secrets for storage; only the holder of the key can unwrap them."""

    @property
    def kek_id(self) -> str:
        """Names the key so a stored blob says which key wrapped it."""
        ...

    def wrap(self, secret: bytes, associated_data: bytes) -> bytes:
        """Encrypt ``secret`` bound to ``associated_data``."""
        ...

    def unwrap(self, blob: bytes, associated_data: bytes) -> bytes:
        """Decrypt a blob from ``wrap``; raises UnwrapError if anything does not match."""
        ...


class LocalKek:
    """AES-256-GCM under the master key from the 0600 key file."""

    def __init__(self, master_key: MasterKey) -> None:
        self._cipher = AESGCM(master_key.material)
        self._kek_id = master_key.key_id
        self.environment = master_key.environment

    @property
    def kek_id(self) -> str:
        """The master key's id."""
        return self._kek_id

    def wrap(self, secret: bytes, associated_data: bytes) -> bytes:
        """Encrypt with a fresh random nonce: format byte, nonce, ciphertext and tag."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        return LOCAL_FORMAT + nonce + self._cipher.encrypt(nonce, secret, associated_data)

    def unwrap(self, blob: bytes, associated_data: bytes) -> bytes:
        """Decrypt and authenticate a blob from ``wrap``."""
        if blob[:1] != LOCAL_FORMAT or len(blob) < 1 + NONCE_BYTES + 16:
            raise UnwrapError("wrapped key has an unknown format")
        nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
        try:
            return self._cipher.decrypt(nonce, body, associated_data)
        except InvalidTag:
            raise UnwrapError("wrapped key does not open under this master key") from None
