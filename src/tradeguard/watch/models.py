"""The watchers' cursors: how far along the audit trail each watcher has got."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from tradeguard.db.base import Base


class WatchCursorRow(Base):
    """One watcher's (or one watcher partition's) last processed audit sequence."""

    __tablename__ = "watch_cursors"

    name: Mapped[str] = mapped_column(String(96), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    ts_ns: Mapped[int] = mapped_column(BigInteger)
    """The audit timestamp of the event at ``seq`` (the replay start after a restart)."""
    updated_at_ns: Mapped[int] = mapped_column(BigInteger)
