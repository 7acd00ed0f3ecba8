"""Tables of the alert and case store: alerts, cases and the notes staff write on cases."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.crypto.fields import Encrypted
from tradeguard.crypto.keyring import DataClass
from tradeguard.db.base import Base

ID_LENGTH = 36


class CaseRow(Base):
    """A case: alerts grouped for one review, its owner, its deadline and its decision."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_status_deadline_ns", "status", "deadline_ns"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    """``open``, ``escalated`` or ``closed``."""
    decision: Mapped[str | None] = mapped_column(String(24))
    """``false_positive``, ``escalate`` or ``report`` once decided."""
    assignee: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    score: Mapped[float] = mapped_column(Float)
    """The highest score of its alerts: the queue's order."""
    opened_by: Mapped[str] = mapped_column(String(96))
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    deadline_ns: Mapped[int] = mapped_column(BigInteger)
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)
    decided_at_ns: Mapped[int | None] = mapped_column(BigInteger)


class AlertRow(Base):
    """One alert of any watcher: what, how sure, about whom, when, why, by which rule."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_status_score", "status", "score"),
        Index("ix_alerts_typology_start_ns", "typology", "start_ns"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    alert_key: Mapped[str] = mapped_column(String(64), unique=True)
    """sha256 of source, typology, subject and episode: one row per episode."""
    source: Mapped[str] = mapped_column(String(64))
    typology: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    customer: Mapped[str | None] = mapped_column(String(96))
    accounts: Mapped[str] = mapped_column(Text)
    """JSON list of account ids."""
    symbol: Mapped[str | None] = mapped_column(String(16))
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(96))
    parameters: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    """``open``, ``in_case`` or ``closed``."""
    case_id: Mapped[str | None] = mapped_column(
        String(ID_LENGTH), ForeignKey("cases.id"), index=True
    )
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)


class CaseNoteRow(Base):
    """A comment on a case; its text is encrypted (staff may quote personal data)."""

    __tablename__ = "case_notes"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("cases.id"), index=True)
    author: Mapped[str] = mapped_column(String(96))
    body: Mapped[str] = mapped_column(Encrypted(DataClass.PII))
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
