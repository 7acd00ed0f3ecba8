"""Tables of identity: users, factors, codes, challenges, sessions, refresh tokens, devices.

Personal fields (email, phone, IP addresses, TOTP secrets) are stored encrypted under
the user's own ``pii`` key, so erasing a person shreds them all at once.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.crypto.fields import Encrypted
from tradeguard.crypto.keyring import DataClass
from tradeguard.db.base import Base

ID_LENGTH = 36
DIGEST_LENGTH = 32


def _id_column() -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), primary_key=True)


def _user_column() -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), ForeignKey("users.id"), index=True)


class User(Base):
    """A person who signs in: trader or staff."""

    __tablename__ = "users"

    id: Mapped[str] = _id_column()
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(
        Encrypted(DataClass.PII, subject="id", blind_index="email_index", normalize=str.casefold)
    )
    email_index: Mapped[bytes | None] = mapped_column(LargeBinary(16), unique=True)
    email_verified_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    pending_email: Mapped[str | None] = mapped_column(Encrypted(DataClass.PII, subject="id"))
    password_hash: Mapped[str] = mapped_column(String(256))
    password_changed_at_ns: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(32))
    access_level: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    permission_version: Mapped[int] = mapped_column(Integer, default=1)
    ip_allowlist: Mapped[str | None] = mapped_column(Text)
    created_at_ns: Mapped[int] = mapped_column(BigInteger)


class Consent(Base):
    """A named purpose the user agreed to (or later withdrew)."""

    __tablename__ = "user_consents"

    user_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    granted_at_ns: Mapped[int] = mapped_column(BigInteger)
    withdrawn_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class Factor(Base):
    """A second factor: TOTP app, WebAuthn credential, SMS or email codes, backup codes."""

    __tablename__ = "mfa_factors"

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _user_column()
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(64))
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    confirmed_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    last_used_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    secret: Mapped[str | None] = mapped_column(Encrypted(DataClass.PII, subject="user_id"))
    phone: Mapped[str | None] = mapped_column(Encrypted(DataClass.PII, subject="user_id"))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    backup_code_hashes: Mapped[str | None] = mapped_column(Text)
    credential_id: Mapped[bytes | None] = mapped_column(LargeBinary(1024), unique=True)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    sign_count: Mapped[int | None] = mapped_column(BigInteger)
    transports: Mapped[str | None] = mapped_column(String(128))
    authenticator: Mapped[str | None] = mapped_column(String(16))
    aaguid: Mapped[str | None] = mapped_column(String(36))
    backed_up: Mapped[bool | None] = mapped_column(Boolean)
    counter_regressions: Mapped[int] = mapped_column(Integer, default=0)


class OneTimeCodeRecord(Base):
    """A code sent by email or SMS: stored as a keyed digest, with its attempts and expiry."""

    __tablename__ = "one_time_codes"

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _user_column()
    purpose: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    ref_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), index=True)
    digest: Mapped[bytes] = mapped_column(LargeBinary(DIGEST_LENGTH))
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    expires_at_ns: Mapped[int] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer)
    used: Mapped[bool] = mapped_column(Boolean)


class Challenge(Base):
    """A ceremony in progress: a login waiting for its second factor, a WebAuthn challenge."""

    __tablename__ = "auth_challenges"

    id: Mapped[str] = _id_column()
    user_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(32))
    session_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    amr: Mapped[str] = mapped_column(String(64))
    webauthn_challenge: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    device_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    attempts: Mapped[int] = mapped_column(Integer)
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    expires_at_ns: Mapped[int] = mapped_column(BigInteger)
    completed_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class AuthSession(Base):
    """A signed-in session: one per login, on one device."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _user_column()
    device_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    ip: Mapped[str | None] = mapped_column(Encrypted(DataClass.PII, subject="user_id"))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    amr: Mapped[str] = mapped_column(String(64))
    enrollment_only: Mapped[bool] = mapped_column(Boolean)
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    auth_time_ns: Mapped[int] = mapped_column(BigInteger)
    last_active_ns: Mapped[int] = mapped_column(BigInteger)
    step_up_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    idle_timeout_seconds: Mapped[int] = mapped_column(Integer)
    expires_at_ns: Mapped[int] = mapped_column(BigInteger)
    revoked_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    revoke_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(Base):
    """One refresh token of a session's family, stored as its SHA-256 digest."""

    __tablename__ = "refresh_tokens"

    digest: Mapped[bytes] = mapped_column(LargeBinary(DIGEST_LENGTH), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("auth_sessions.id"), index=True
    )
    issued_at_ns: Mapped[int] = mapped_column(BigInteger)
    expires_at_ns: Mapped[int] = mapped_column(BigInteger)
    used_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class Device(Base):
    """A browser or app a user signed in from, known by a hashed fingerprint."""

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("user_id", "fingerprint"),)

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _user_column()
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(DIGEST_LENGTH))
    label: Mapped[str] = mapped_column(String(128))
    first_seen_ns: Mapped[int] = mapped_column(BigInteger)
    last_seen_ns: Mapped[int] = mapped_column(BigInteger)
    approved_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    reported_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    link_digest: Mapped[bytes | None] = mapped_column(LargeBinary(DIGEST_LENGTH), unique=True)
    link_expires_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class LoginThrottle(Base):
    """Failed sign-in attempts of one account name or one IP address, and its lock."""

    __tablename__ = "login_throttles"

    key: Mapped[bytes] = mapped_column(LargeBinary(DIGEST_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    failures: Mapped[int] = mapped_column(Integer)
    window_start_ns: Mapped[int] = mapped_column(BigInteger)
    locked_until_ns: Mapped[int | None] = mapped_column(BigInteger)
    locks: Mapped[int] = mapped_column(Integer)
