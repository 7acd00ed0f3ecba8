"""Sanctions screening: list versions, the name matcher and the one decision function.

Callers (onboarding, rescreening, the staff API, the batch command) build a
``ScreeningSubject`` and ask the registry's ``SanctionsScreening`` service for a
``ScreeningDecision`` (``tradeguard.screening.service``).
"""
