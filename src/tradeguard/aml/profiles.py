"""Customers' declared profiles for the live monitors, from their approved onboarding answers.

Onboarding stores what a customer declared (occupation, annual income as a band, source
of funds) encrypted in their application. The live watcher asks for a customer's profile
when it first sees their money move: an approved application gives it; a customer
without one is asked about again after a minute, so an approval made meanwhile is used
from then on. The profile uses the top of the declared income band: activity is out of
line only when even the most the declaration allows does not explain it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.aml.transactions import CustomerProfile
from tradeguard.kyc.models import KycApplication

APPROVED = "approved"
RETRY_SECONDS = 60.0
INCOME_BAND_TOP_CENTS = {
    "under_25k": 2_500_000,
    "25k_50k": 5_000_000,
    "50k_100k": 10_000_000,
    "100k_250k": 25_000_000,
    "250k_1m": 100_000_000,
    "over_1m": 100_000_000,
}
"""The most each onboarding income band declares, in cents (the top band: its floor)."""


def profile_of(customer: str, answers: dict[str, Any]) -> CustomerProfile:
    """The monitors' profile from onboarding answers (missing answers stay empty)."""
    employment = answers.get("employment") or {}
    occupation = employment.get("occupation") or employment.get("status") or ""
    return CustomerProfile(
        customer=customer,
        occupation=str(occupation),
        annual_income_cents=INCOME_BAND_TOP_CENTS.get(str(answers.get("annual_income")), 0),
        source_of_funds=str(answers.get("source_of_funds") or ""),
    )


def approved_profile(sessions: sessionmaker[Session], customer: str) -> CustomerProfile | None:
    """The profile of ``customer`` (a user id) if their application is approved."""
    with sessions() as db:
        application = db.scalars(
            select(KycApplication).where(
                KycApplication.user_id == customer, KycApplication.status == APPROVED
            )
        ).one_or_none()
        answers = None if application is None else application.answers
    return None if answers is None else profile_of(customer, json.loads(answers))


class DeclaredProfiles(Mapping[str, CustomerProfile]):
    """Profiles looked up on first use and kept; a customer without one is retried later."""

    def __init__(
        self,
        lookup: Callable[[str], CustomerProfile | None],
        clock: Callable[[], float] = time.monotonic,
        retry_seconds: float = RETRY_SECONDS,
    ) -> None:
        self._lookup, self._clock, self._retry = lookup, clock, retry_seconds
        self._known: dict[str, CustomerProfile] = {}
        self._missed: dict[str, float] = {}

    def __getitem__(self, customer: str) -> CustomerProfile:
        known = self._known.get(customer)
        if known is not None:
            return known
        now = self._clock()
        if now - self._missed.get(customer, -self._retry) < self._retry:
            raise KeyError(customer)
        found = self._lookup(customer)
        if found is None:
            self._missed[customer] = now
            raise KeyError(customer)
        self._missed.pop(customer, None)
        self._known[customer] = found
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)
