"""The fraud package's table: customers who must have their identity verified again."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.db.base import Base

ID_LENGTH = 36


class ReverificationRow(Base):
    """A recovery's demand that staff verify the customer's identity again.

    While ``verified_at_ns`` is empty the customer may neither withdraw nor change a
    credential (``FRAUD_REVERIFICATION_REQUIRED``). Only ids and times: the why is in
    the audit trail (``fraud.recovery.started``, ``fraud.reverification.completed``).
    """

    __tablename__ = "fraud_reverifications"

    user_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    required_at_ns: Mapped[int] = mapped_column(BigInteger)
    required_by: Mapped[str] = mapped_column(String(ID_LENGTH))
    verified_at_ns: Mapped[int | None] = mapped_column(BigInteger)
    verified_by: Mapped[str | None] = mapped_column(String(ID_LENGTH))
