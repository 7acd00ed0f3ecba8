"""Sessions: one factory per application, one transaction per unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.web.provide import provided


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


def unit_of_work(
    factory: Annotated[sessionmaker[Session], provided(sessionmaker)],
) -> Iterator[Session]:
    """A session whose transaction commits when the route returns and rolls back if it raises."""
    with transaction(factory) as session:
        yield session


# Function scope: the unit of work commits before the response is sent, so a client that
# got its answer sees the change in its next request, and a failed commit is a 500.
DbSession = Annotated[Session, Depends(unit_of_work, scope="function")]
