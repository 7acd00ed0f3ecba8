"""Building the screening service from the core services and the settings."""

from __future__ import annotations

from tradeguard.screening.decide import ScreeningParameters
from tradeguard.screening.parties import ScreenedParties
from tradeguard.screening.service import SanctionsScreening
from tradeguard.services import Services


def build_screening(
    services: Services, parties: ScreenedParties | None = None
) -> SanctionsScreening:
    """The screening service; ``parties`` are the customers a list load rescreens."""
    parameters = ScreeningParameters(match_threshold=services.settings.screening_match_threshold)
    return SanctionsScreening(
        services.sessions, services.audit, services.clock, parameters, parties
    )
