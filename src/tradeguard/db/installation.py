"""The installation record: one row naming this database and when it was set up."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, String, Uuid, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tradeguard import __version__
from tradeguard.core.clock import Clock
from tradeguard.core.ids import new_id
from tradeguard.db.base import Base


class Installation(Base):
    """Identity of this TradeGuard database; backups and audit witnesses name it."""

    __tablename__ = "installation"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    environment: Mapped[str] = mapped_column(String(32))
    created_at_ns: Mapped[int] = mapped_column(BigInteger)
    created_by_version: Mapped[str] = mapped_column(String(32))


def ensure_installation(
    session: Session, clock: Clock, environment: str
) -> tuple[Installation, bool]:
    """Return the installation row, creating it on first use; the flag says if it was created."""
    existing = session.scalars(select(Installation).limit(1)).one_or_none()
    if existing is not None:
        return existing, False
    installation = Installation(
        id=new_id(clock),
        environment=environment,
        created_at_ns=clock.now_ns(),
        created_by_version=__version__,
    )
    session.add(installation)
    return installation, True
