"""The services one application instance wires together, and how routes reach them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.recorder import AuditTrail
from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.crypto.runtime import Crypto
from tradeguard.db.session import transaction
from tradeguard.web.metrics import HttpMetrics


@dataclass(frozen=True, slots=True)
class Services:
    """Collaborators shared by every request of one application."""

    settings: Settings
    clock: Clock
    engine: Engine
    sessions: sessionmaker[Session]
    crypto: Crypto
    audit: AuditTrail
    metrics: HttpMetrics


def get_services(request: Request) -> Services:
    """The application's services (set by ``create_app``)."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_db_session(services: ServicesDep) -> Iterator[Session]:
    """A session whose transaction commits when the route returns and rolls back if it raises."""
    with transaction(services.sessions) as session:
        yield session


# Function scope: the unit of work commits before the response is sent, so a client that
# got its answer sees the change in its next request, and a failed commit is a 500.
DbSession = Annotated[Session, Depends(get_db_session, scope="function")]
