"""Tables of AML reporting: SARs drafted from cases, CTRs written per customer and day."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.crypto.fields import Encrypted
from tradeguard.crypto.keyring import DataClass
from tradeguard.db.base import Base

ID_LENGTH = 36
DATE_LENGTH = 10


class SarRow(Base):
    """A SAR drafted from a case: its subject and narrative encrypted, its clock, its filing."""

    __tablename__ = "aml_sars"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(ID_LENGTH), ForeignKey("cases.id"), index=True)
    customer: Mapped[str | None] = mapped_column(String(96))
    subject_name: Mapped[str] = mapped_column(Encrypted(DataClass.PII))
    subject_dob: Mapped[str] = mapped_column(Encrypted(DataClass.PII))
    subject_occupation: Mapped[str] = mapped_column(Encrypted(DataClass.PII))
    narrative: Mapped[str] = mapped_column(Encrypted(DataClass.PII))
    accounts: Mapped[str] = mapped_column(Text)
    """JSON list of account ids."""
    typologies: Mapped[str] = mapped_column(Text)
    """JSON list of typologies (their FinCEN classifications are derived)."""
    activity_from: Mapped[str] = mapped_column(String(DATE_LENGTH))
    activity_to: Mapped[str] = mapped_column(String(DATE_LENGTH))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    detected_on: Mapped[str] = mapped_column(String(DATE_LENGTH))
    suspect_identified: Mapped[bool] = mapped_column(Boolean)
    deadline: Mapped[str] = mapped_column(String(DATE_LENGTH), index=True)
    status: Mapped[str] = mapped_column(String(16))
    """``draft``, ``generated`` (XML written) or ``filed`` (BSA ID recorded)."""
    xml_sha256: Mapped[str | None] = mapped_column(String(64))
    filed_on: Mapped[str | None] = mapped_column(String(DATE_LENGTH))
    bsa_id: Mapped[str | None] = mapped_column(String(14))
    prior_bsa_id: Mapped[str | None] = mapped_column(String(14))
    prior_sar_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    """The SAR a continuing report follows (its BSA ID is ``prior_bsa_id``)."""
    review_due: Mapped[str | None] = mapped_column(String(DATE_LENGTH), index=True)
    """A filed SAR's next continuing-activity review; None once a continuing SAR follows it."""
    retain_until: Mapped[str | None] = mapped_column(String(DATE_LENGTH))
    """Kept at least until this date: five years from the draft, then from the filing."""
    created_by: Mapped[str] = mapped_column(String(96))
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)


class ParameterVersionRow(Base):
    """One version of the monitors' parameters: the whole document, who set it and why."""

    __tablename__ = "aml_parameter_versions"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    """``MonitorParameters`` as JSON."""
    reason: Mapped[str] = mapped_column(String(200))
    changed_by: Mapped[str] = mapped_column(String(96))
    created_at_ns: Mapped[int] = mapped_column(BigInteger, index=True)


class CtrRow(Base):
    """A CTR written for one customer and business day: its file, due date, filing, retention."""

    __tablename__ = "aml_ctrs"
    __table_args__ = (UniqueConstraint("customer", "day"),)

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    customer: Mapped[str] = mapped_column(String(96))
    day: Mapped[str] = mapped_column(String(DATE_LENGTH), index=True)
    cash_in: Mapped[str] = mapped_column(String(24))
    """Dollars with two decimals; empty when cash in did not exceed the threshold."""
    cash_out: Mapped[str] = mapped_column(String(24))
    file: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    due: Mapped[str] = mapped_column(String(DATE_LENGTH))
    status: Mapped[str] = mapped_column(String(16))
    """``generated`` (file written) or ``filed`` (BSA ID recorded)."""
    bsa_id: Mapped[str | None] = mapped_column(String(14))
    filed_on: Mapped[str | None] = mapped_column(String(DATE_LENGTH))
    retain_until: Mapped[str] = mapped_column(String(DATE_LENGTH))
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)
