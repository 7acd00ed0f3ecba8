"""Decisions: takeover rules raise the outcome, thresholds per action, failures fail closed."""

from __future__ import annotations

import pytest

from tradeguard.fraud.context import Action, DecisionContext
from tradeguard.fraud.decisions import FraudScorer, Outcome, Thresholds, failed
from tradeguard.fraud.events import FraudEvent, Kind
from tradeguard.fraud.features import DAY_NS
from tradeguard.fraud.geo import Network
from tradeguard.fraud.profiles import HOUR_NS, ProfileStore

NOW = 1_800_000_000 * 10**9
HOME = Network("198.51.100.0/24", "US")
ABROAD = Network("203.0.113.0/24", "RO")


def _customer() -> ProfileStore:
    store = ProfileStore()
    for day in range(5, 0, -1):
        ts = NOW - day * DAY_NS
        store.apply(FraudEvent(Kind.LOGIN, "u1", ts, "phone", HOME, f"s{day}"))
        store.apply(FraudEvent(Kind.DEPOSIT, "u1", ts, amount_cents=100_000))
    return store


def test_decide_when_known_device_at_home_then_allowed() -> None:
    scorer = FraudScorer(_customer())
    decision = scorer.decide(Action.LOGIN, DecisionContext("u1", NOW, "phone", HOME))
    assert decision.outcome is Outcome.ALLOW
    assert decision.rules == ()


def test_decide_when_new_device_in_new_country_then_step_up() -> None:
    scorer = FraudScorer(_customer())
    decision = scorer.decide(Action.LOGIN, DecisionContext("u1", NOW, "laptop-x", ABROAD))
    assert decision.outcome is Outcome.STEP_UP
    assert "new_device_and_new_country" in decision.rules


def test_decide_when_first_login_ever_then_no_takeover_rule() -> None:
    scorer = FraudScorer(ProfileStore())
    decision = scorer.decide(Action.LOGIN, DecisionContext("new", NOW, "laptop-x", ABROAD))
    assert decision.outcome is Outcome.ALLOW


def test_decide_when_session_token_used_from_another_network_then_step_up() -> None:
    scorer = FraudScorer(_customer())
    ctx = DecisionContext("u1", NOW, network=ABROAD, session="s1", symbol="ACME", quantity=5)
    decision = scorer.decide(Action.ORDER, ctx)
    assert decision.outcome is Outcome.STEP_UP
    assert decision.rules == ("session_moved",)
    same = DecisionContext("u1", NOW, network=HOME, session="s1", symbol="ACME", quantity=5)
    assert scorer.decide(Action.ORDER, same).outcome is Outcome.ALLOW


def test_decide_when_password_changed_then_withdrawal_then_blocked() -> None:
    store = _customer()
    store.apply(FraudEvent(Kind.PASSWORD_CHANGE, "u1", NOW - HOUR_NS, "laptop-x", ABROAD))
    ctx = DecisionContext("u1", NOW, "laptop-x", ABROAD, amount_cents=400_000)
    decision = FraudScorer(store).decide(Action.WITHDRAWAL, ctx)
    assert decision.outcome is Outcome.BLOCK
    assert "credential_change_then_withdrawal" in decision.rules


def test_decide_when_liquidated_from_a_new_device_then_withdrawal_then_blocked() -> None:
    store = _customer()
    for n in range(3):
        store.apply(FraudEvent(Kind.SELL_ORDER, "u1", NOW - HOUR_NS + n, symbol="ACME", quantity=9))
    ctx = DecisionContext("u1", NOW, "laptop-x", ABROAD)
    decision = FraudScorer(store).decide(Action.WITHDRAWAL, ctx)
    assert decision.outcome is Outcome.BLOCK
    assert "liquidation_then_withdrawal" in decision.rules


@pytest.mark.parametrize(
    ("action", "outcome"),
    [
        (Action.WITHDRAWAL, Outcome.BLOCK),
        (Action.BANK_LINK, Outcome.BLOCK),
        (Action.CREDENTIAL_CHANGE, Outcome.BLOCK),
        (Action.PROFILE_CHANGE, Outcome.BLOCK),
        (Action.LOGIN, Outcome.STEP_UP),
        (Action.ORDER, Outcome.STEP_UP),
    ],
)
def test_decide_when_scoring_fails_then_closed_for_money_and_credentials(
    action: Action, outcome: Outcome
) -> None:
    class Broken(ProfileStore):
        def user(self, user: str) -> None:
            raise RuntimeError(f"profile store down for {user}")

    decision = FraudScorer(Broken()).decide(action, DecisionContext("u1", NOW))
    assert decision == failed(action)
    assert decision.outcome is outcome


def test_thresholds_when_probability_crosses_them_then_outcomes_follow() -> None:
    thresholds = Thresholds(step_up=0.3, block=0.7)
    assert thresholds.outcome(0.29) is Outcome.ALLOW
    assert thresholds.outcome(0.3) is Outcome.STEP_UP
    assert thresholds.outcome(0.7) is Outcome.BLOCK
    with pytest.raises(ValueError, match="thresholds"):
        Thresholds(step_up=0.8, block=0.5)


def test_facts_when_audited_then_score_version_reasons_and_rules() -> None:
    decision = failed(Action.ORDER)
    facts = decision.facts()
    assert facts["score"] == "1.0000"
    assert facts["model_version"] == "scoring-failed"
    assert facts["rules"] == ["scoring_failed"]
