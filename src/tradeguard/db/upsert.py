"""Insert a row unless its key exists, on either backend, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tradeguard.db.base import Base


def insert_if_absent(session: Session, model: type[Base], values: dict[str, Any]) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING``: concurrent first writers never collide."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(model).values(values).on_conflict_do_nothing()
    session.execute(statement)
