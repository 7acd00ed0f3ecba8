"""Building the screening service from the core services and the settings."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.recorder import AuditTrail
from tradeguard.config import Settings
from tradeguard.core.clock import Clock
from tradeguard.screening.decide import ScreeningParameters
from tradeguard.screening.parties import ScreenedParties
from tradeguard.screening.service import SanctionsScreening
from tradeguard.services import Services


def build_screening(
    services: Services, parties: ScreenedParties | None = None
) -> SanctionsScreening:
    """The application's screening service; ``parties`` are the customers a load rescreens."""
    return screening_over(
        services.settings, services.sessions, services.audit, services.clock, parties
    )


def screening_over(
    settings: Settings,
    sessions: sessionmaker[Session],
    audit: AuditTrail,
    clock: Clock,
    parties: ScreenedParties | None = None,
) -> SanctionsScreening:
    """A screening service over these collaborators with the configured threshold."""
    parameters = ScreeningParameters(match_threshold=settings.screening_match_threshold)
    return SanctionsScreening(sessions, audit, clock, parameters, parties)
