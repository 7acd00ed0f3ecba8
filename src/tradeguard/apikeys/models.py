"""The API key table: public id, owner, scope, allowlist, encrypted secret, lifetime."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import BigInteger, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.crypto.fields import Encrypted
from tradeguard.crypto.keyring import DataClass
from tradeguard.db.base import Base

ID_LENGTH = 36
KEY_ID_LENGTH = 40
KEY_ID_PREFIX = "tgk_"
KEY_ID_BYTES = 12
KEY_ID = re.compile(rf"{KEY_ID_PREFIX}[0-9a-f]{{{2 * KEY_ID_BYTES}}}")


def new_key_id() -> str:
    """A fresh public key id: ``tgk_`` and 24 random hex digits."""
    return KEY_ID_PREFIX + secrets.token_hex(KEY_ID_BYTES)


def is_key_id(text: str) -> bool:
    """Whether ``text`` has the shape of a key id (anything else is never looked up)."""
    return KEY_ID.fullmatch(text) is not None


class ApiKey(Base):
    """A user's API key. The secret is kept (encrypted): the server recomputes HMACs."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(KEY_ID_LENGTH), unique=True)
    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16))
    ip_allowlist: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Encrypted(DataClass.API_SECRET, subject="user_id"))
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    expires_at_ns: Mapped[int] = mapped_column(BigInteger)
    rotated_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    """When a successor was issued; the key then works until ``expires_at_ns`` (the overlap)."""
    replaced_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    revoked_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    revoked_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    revoke_reason: Mapped[str | None] = mapped_column(String(200))
    expiry_warned_at_ns: Mapped[int | None] = mapped_column(BigInteger)
