"""Surveillance tables: who is behind each account, ties between accounts, the parameters."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.db.base import Base


class AccountProfileRow(Base):
    """An account's kind (client, proprietary, employee) and beneficial owner."""

    __tablename__ = "surveillance_account_profiles"

    account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(96))
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)


class AccountLinkRow(Base):
    """A known tie between two accounts (same device, IP, bank account or address)."""

    __tablename__ = "surveillance_account_links"

    account_a: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_b: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at_ns: Mapped[int] = mapped_column(BigInteger)


class SurveillanceParametersRow(Base):
    """The detection parameters compliance set (one row; absent means the defaults)."""

    __tablename__ = "surveillance_parameters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(96))
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)
