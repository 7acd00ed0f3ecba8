"""SAR and CTR files at rest: encrypted under the documents keys, bound to their file name.

A SAR's XML (and a SARX batch holding SARs) names the subject and tells the narrative; a
CTR's (and a CTRX batch's) names the customer with their TIN and address. Either file is
on disk only ever ciphertext of the ``documents`` data class, whose associated data is the
file's name, so one report's file moved over another's does not open. Downloads
decrypt it; FinCEN receives the plain XML. A file that does not open (tampered with, or
written in clear before files were sealed) is refused with 409 ``AML_FILE_UNREADABLE``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import tink

from tradeguard.core.errors import CONFLICT, ProblemError
from tradeguard.core.secure_files import write_atomically
from tradeguard.crypto.keyring import DataClass, Keyring

CONTEXT = b"tradeguard.aml.file:"


def unreadable(path: Path) -> ProblemError:
    """409: a sealed file does not open (tampered with, renamed, or written in clear)."""
    return ProblemError(
        CONFLICT, "AML_FILE_UNREADABLE", "the file does not open; generate it again",
        {"file": path.name},
    )  # fmt: skip


class SealedFiles:
    """Writes and reads files encrypted with the keyring's ``documents`` class."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    def write(self, path: Path, document: bytes) -> None:
        """Encrypt ``document`` to ``path`` (owner-only, atomically)."""
        sealed = self.keyring.aead(DataClass.DOCUMENTS).encrypt(document, _context(path))
        write_atomically(path, sealed)

    def read(self, path: Path) -> bytes:
        """The plain document of the sealed file at ``path``."""
        try:
            plain: bytes = self.keyring.aead(DataClass.DOCUMENTS).decrypt(
                path.read_bytes(), _context(path)
            )
        except tink.TinkError:
            raise unreadable(path) from None
        return plain

    def seal_clear(self, path: Path, sha256: str) -> bool:
        """Seal the clear file at ``path`` if its bytes are those hashed to ``sha256``."""
        if not path.is_file():
            return False
        document = path.read_bytes()
        if hashlib.sha256(document).hexdigest() != sha256:
            return False  # sealed already, or not the document that was audited
        self.write(path, document)
        return True


def _context(path: Path) -> bytes:
    return CONTEXT + path.name.encode("utf-8")
