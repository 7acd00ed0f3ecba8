"""Sessions: one factory per application, one transaction per unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker


def session_factory(engine: Engine, info: dict[str, object] | None = None) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; ``info`` reaches every session (field crypto)."""
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False, info=info)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Run a unit of work: commit when the block succeeds, roll back when it raises.

    An exception whose ``keeps_changes`` attribute is true is a refusal that must leave
    its record behind (a counted failure, a revocation, the audit event of a denial):
    the work is committed, then the exception goes on.
    """
    with factory() as session:
        session.begin()
        try:
            yield session
        except BaseException as exc:
            if getattr(exc, "keeps_changes", False):
                session.commit()
            else:
                session.rollback()
            raise
        session.commit()
