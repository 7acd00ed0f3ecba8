"""Tables of access control: grants, role changes, staff access, alerts, settings, invitations."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.crypto.fields import Encrypted
from tradeguard.crypto.keyring import DataClass
from tradeguard.db.base import Base

ID_LENGTH = 36
DIGEST_LENGTH = 32
EMAIL_INDEX_LENGTH = 16
GRANT_REQUESTED = "requested"
GRANT_ACTIVE = "active"
GRANT_DENIED = "denied"
GRANT_REVOKED = "revoked"


def _id_column() -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), primary_key=True)


def _user_column(*, nullable: bool = False) -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), ForeignKey("users.id"), index=True, nullable=nullable)


class AccessGrant(Base):
    """A time-limited extra permission for a staff member: requested, approved, expiring."""

    __tablename__ = "access_grants"

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _user_column()
    permission: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    break_glass: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_at_ns: Mapped[int] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    decided_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    expires_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    revoked_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class RoleChange(Base):
    """A change of role or access level: one admin requests it, another approves it."""

    __tablename__ = "role_changes"

    id: Mapped[str] = _id_column()
    user_id: Mapped[str] = _user_column()
    role: Mapped[str] = mapped_column(String(32))
    access_level: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    requested_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    requested_at_ns: Mapped[int] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    decided_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class StaffDataAccess(Base):
    """A staff member looked at (or unmasked a field of) a customer's record."""

    __tablename__ = "staff_data_access"

    id: Mapped[str] = _id_column()
    staff_user_id: Mapped[str] = _user_column()
    subject_user_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    action: Mapped[str] = mapped_column(String(16))
    field: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    at_ns: Mapped[int] = mapped_column(BigInteger, index=True)


class AccessAlert(Base):
    """An access anomaly raised for compliance: too many records, odd hours, denials."""

    __tablename__ = "access_alerts"

    id: Mapped[str] = _id_column()
    kind: Mapped[str] = mapped_column(String(32))
    staff_user_id: Mapped[str] = _user_column()
    detail: Mapped[str] = mapped_column(Text)
    raised_at_ns: Mapped[int] = mapped_column(BigInteger, index=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    acknowledged_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class RuntimeSetting(Base):
    """A setting administrators change at run time (JSON value), audited before and after."""

    __tablename__ = "runtime_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)
    updated_by: Mapped[str] = mapped_column(String(ID_LENGTH))


class StaffInvite(Base):
    """A one-time enrolment link for a new staff account: the first admin, or an invitation.

    The address is stored encrypted (found by its blind index) until the link is used; the
    link only as its SHA-256 digest.
    """

    __tablename__ = "staff_invites"

    id: Mapped[str] = _id_column()
    kind: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(
        Encrypted(DataClass.PII, subject="id", blind_index="email_index", normalize=str.casefold)
    )
    email_index: Mapped[bytes | None] = mapped_column(LargeBinary(EMAIL_INDEX_LENGTH), index=True)
    role: Mapped[str] = mapped_column(String(32))
    access_level: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), index=True)
    requested_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    requested_at_ns: Mapped[int] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    decided_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    link_digest: Mapped[bytes | None] = mapped_column(LargeBinary(DIGEST_LENGTH), unique=True)
    link_expires_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("users.id"), index=True, nullable=True
    )
    redeemed_at_ns: Mapped[int | None] = mapped_column(BigInteger)
