"""Declared profiles from onboarding answers, looked up on first use, misses retried later."""

from __future__ import annotations

from aml_kit import Txns

from tradeguard.aml.engine import AmlEngine
from tradeguard.aml.findings import Typology
from tradeguard.aml.parameters import MonitorParameters
from tradeguard.aml.profiles import DeclaredProfiles, profile_of
from tradeguard.aml.transactions import CustomerProfile

ANSWERS = {
    "employment": {"status": "employed", "occupation": "Cashier", "employer": "Shop"},
    "annual_income": "25k_50k",
    "source_of_funds": "employment",
}


def test_profile_of_answers_when_a_band_is_declared_then_its_top_is_the_income() -> None:
    profile = profile_of("user-1", ANSWERS)
    assert (profile.occupation, profile.annual_income_cents, profile.source_of_funds) == (
        "Cashier", 5_000_000, "employment",
    )  # fmt: skip
    assert profile.declared


def test_profile_of_answers_when_a_business_is_the_source_then_a_business_profile() -> None:
    assert profile_of("user-1", {**ANSWERS, "source_of_funds": "business"}).business
    assert profile_of("user-1", {}).annual_income_cents == 0


def test_declared_profiles_when_missing_then_asked_again_only_after_the_retry_time() -> None:
    now, asked = [0.0], []
    approved: dict[str, CustomerProfile] = {}

    def lookup(customer: str) -> CustomerProfile | None:
        asked.append(customer)
        return approved.get(customer)

    profiles = DeclaredProfiles(lookup, clock=lambda: now[0], retry_seconds=60)
    assert profiles.get("user-1") is None
    approved["user-1"] = profile_of("user-1", ANSWERS)
    now[0] = 59.0
    assert profiles.get("user-1") is None
    now[0] = 61.0
    assert profiles.get("user-1") == approved["user-1"]
    assert profiles.get("user-1") == approved["user-1"]
    assert asked == ["user-1", "user-1"]
    assert list(profiles) == ["user-1"]


def test_engine_with_declared_profiles_when_deposits_exceed_the_declared_band_then_unusual() -> (
    None
):
    profiles = DeclaredProfiles(lambda customer: profile_of(customer, ANSWERS))
    engine = AmlEngine(MonitorParameters(), profiles)
    t = Txns(customer="user-1")
    found = [
        e.typology
        for day in (0, 5, 10)
        for e, _ in engine.observe(t.make(day, "deposit", "19000.00", "wire"))
    ]
    assert found == [Typology.UNUSUAL_ACTIVITY]
