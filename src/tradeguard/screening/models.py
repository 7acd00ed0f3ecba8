"""The screening tables: list versions and their entries, names, addresses and birth dates.

A list (``ofac-sdn``, ``ofac-cons``) has one ``current`` version at a time. A load
writes the new version's rows and marks it current in the transaction that marks the
previous one ``superseded`` and deletes its rows, so readers see one whole version or
the other. The version row stays, with its file hashes and counts, as the record of
what was loaded when.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.db.base import Base

ID_LENGTH = 36
ENT_NUM_LENGTH = 16
LIST_NAME_LENGTH = 32


class ListVersionRow(Base):
    """One load of one list: when, by whom, from which files, with how many rows."""

    __tablename__ = "sanctions_list_versions"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    list_name: Mapped[str] = mapped_column(String(LIST_NAME_LENGTH), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    """``current`` or ``superseded``."""
    loaded_at_ns: Mapped[int] = mapped_column(BigInteger)
    loaded_by: Mapped[str] = mapped_column(String(64))
    entry_count: Mapped[int] = mapped_column(Integer)
    alias_count: Mapped[int] = mapped_column(Integer)
    address_count: Mapped[int] = mapped_column(Integer)
    file_hashes: Mapped[str] = mapped_column(Text)
    """JSON object: file name to SHA-256 hex."""


class ListEntryRow(Base):
    """One entry (``sdn.csv`` row) of a list version."""

    __tablename__ = "sanctions_entries"

    version_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("sanctions_list_versions.id"), primary_key=True
    )
    ent_num: Mapped[str] = mapped_column(String(ENT_NUM_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    programs: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    vessel: Mapped[str | None] = mapped_column(Text)
    """JSON object of the vessel fields given (call sign, type, tonnage, GRT, flag, owner)."""
    remarks: Mapped[str | None] = mapped_column(Text)


class ListNameRow(Base):
    """A name an entry is listed under: the primary name or an alias (``alt.csv``)."""

    __tablename__ = "sanctions_names"
    __table_args__ = (Index("ix_sanctions_names_entry", "version_id", "ent_num"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("sanctions_list_versions.id")
    )
    ent_num: Mapped[str] = mapped_column(String(ENT_NUM_LENGTH))
    alt_num: Mapped[str | None] = mapped_column(String(ENT_NUM_LENGTH))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(Text)
    remarks: Mapped[str | None] = mapped_column(Text)


class ListAddressRow(Base):
    """An address of an entry (``add.csv``)."""

    __tablename__ = "sanctions_addresses"
    __table_args__ = (Index("ix_sanctions_addresses_entry", "version_id", "ent_num"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("sanctions_list_versions.id")
    )
    ent_num: Mapped[str] = mapped_column(String(ENT_NUM_LENGTH))
    add_num: Mapped[str | None] = mapped_column(String(ENT_NUM_LENGTH))
    address: Mapped[str | None] = mapped_column(Text)
    city_state_postal: Mapped[str | None] = mapped_column(Text)
    country: Mapped[str | None] = mapped_column(Text)
    remarks: Mapped[str | None] = mapped_column(Text)


class ListBirthDateRow(Base):
    """A date of birth found in an entry's remarks, as the span of days it may be."""

    __tablename__ = "sanctions_birth_dates"
    __table_args__ = (Index("ix_sanctions_birth_dates_entry", "version_id", "ent_num"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("sanctions_list_versions.id")
    )
    ent_num: Mapped[str] = mapped_column(String(ENT_NUM_LENGTH))
    text: Mapped[str] = mapped_column(Text)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    precision: Mapped[str] = mapped_column(String(8))
