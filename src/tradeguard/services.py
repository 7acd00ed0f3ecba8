"""The core collaborators every domain is built from, and the unit of work of a route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.recorder import AuditTrail
from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.crypto.runtime import Crypto
from tradeguard.web.metrics import HttpMetrics
from tradeguard.web.provide import provided


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


ServicesDep = Annotated[Services, provided(Services)]
