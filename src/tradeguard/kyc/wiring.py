"""Builds onboarding's services from the application's core services."""

from __future__ import annotations

from dataclasses import dataclass

from tradeguard.identity.notices import Notices
from tradeguard.kyc.documents import Documents
from tradeguard.kyc.review import Review
from tradeguard.kyc.sanctions import KycScreening
from tradeguard.kyc.sanctions_alerts import SanctionsAlerts
from tradeguard.kyc.service import Onboarding
from tradeguard.kyc.workflow import ApplicantScreening, ScreeningUnavailable, Workflow
from tradeguard.screening.service import SanctionsScreening
from tradeguard.screening.wiring import build_screening
from tradeguard.services import Services
from tradeguard.trading.desk_port import TradingControlsPort


@dataclass(frozen=True, slots=True)
class Kyc:
    """Onboarding's services: the applicant's, the documents', the reviewers'."""

    onboarding: Onboarding
    documents: Documents
    review: Review


def build_kyc(
    services: Services,
    notices: Notices,
    controls: TradingControlsPort,
    alerts: SanctionsAlerts,
    screening: ApplicantScreening | None = None,
) -> Kyc:
    """Onboarding over ``screening`` (none: every application goes to a reviewer)."""
    workflow = Workflow(services, notices, screening or ScreeningUnavailable())
    onboarding = Onboarding(services, workflow)
    review = Review(workflow, controls, alerts)
    return Kyc(onboarding, Documents(services, onboarding), review)


def screening_of_customers(
    services: Services, alerts: SanctionsAlerts, controls: TradingControlsPort
) -> tuple[SanctionsScreening, KycScreening]:
    """The screening whose parties are every customer, and onboarding's side of it.

    A hit puts the application up for review, alerts compliance and restricts the account
    through ``controls``. The server and the ``sanctions`` commands build it alike.
    """
    sanctions = build_screening(services)
    screening = KycScreening(sanctions, services.audit, alerts, controls)
    sanctions.parties = screening
    return sanctions, screening
