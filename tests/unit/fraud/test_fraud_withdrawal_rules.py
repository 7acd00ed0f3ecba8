"""The withdrawal rules act on a credential change or a liquidation only with corroboration.

The customer below has signed in from the same phone at home every day for a month and
linked a bank account when the account was opened. A password change from that phone
followed by a withdrawal to that bank is what a legitimate customer does; the takeover of
FINRA Regulatory Notice 21-18 adds an unfamiliar device or place, a changed contact or
factor, or a new bank link (decision 87).
"""

from __future__ import annotations

from tradeguard.fraud.context import Action, DecisionContext
from tradeguard.fraud.decisions import FraudDecision, FraudScorer, Outcome, Thresholds
from tradeguard.fraud.events import FraudEvent, Kind
from tradeguard.fraud.features import DAY_NS
from tradeguard.fraud.geo import Network
from tradeguard.fraud.profiles import HOUR_NS, ProfileStore

NOW = 1_800_000_000 * 10**9
HOME = Network("198.51.100.0/24", "US")
ABROAD = Network("203.0.113.0/24", "RO")
CREDENTIAL_RULE = "credential_change_then_withdrawal"
LIQUIDATION_RULE = "liquidation_then_withdrawal"


def _customer() -> ProfileStore:
    """A month of daily sign-ins from the phone at home; the bank linked at opening."""
    store = ProfileStore()
    store.apply(FraudEvent(Kind.BANK_LINK, "u1", NOW - 31 * DAY_NS))
    for day in range(30, 0, -1):
        ts = NOW - day * DAY_NS
        store.apply(FraudEvent(Kind.LOGIN, "u1", ts, "phone", HOME, f"s{day}"))
    store.apply(FraudEvent(Kind.DEPOSIT, "u1", NOW - 20 * DAY_NS, amount_cents=500_000))
    store.apply(FraudEvent(Kind.LOGIN, "u1", NOW - 2 * HOUR_NS, "phone", HOME, "today"))
    return store


def _change(store: ProfileStore, kind: Kind, device: str = "phone", **more: object) -> None:
    store.apply(FraudEvent(kind, "u1", NOW - HOUR_NS, device, HOME, **more))  # type: ignore[arg-type]


def _withdraw(
    store: ProfileStore, device: str = "phone", network: Network = HOME, session: str = "today"
) -> FraudDecision:
    ctx = DecisionContext("u1", NOW, device, network, session, amount_cents=100_000)
    return FraudScorer(store).decide(Action.WITHDRAWAL, ctx)


def _sell_three(store: ProfileStore) -> None:
    for n in range(3):
        ts = NOW - 3 * HOUR_NS + n * HOUR_NS
        store.apply(FraudEvent(Kind.SELL_ORDER, "u1", ts, "phone", HOME, "today", symbol="ACME"))


def test_withdrawal_when_password_changed_on_own_device_to_old_bank_then_allowed() -> None:
    store = _customer()
    _change(store, Kind.PASSWORD_CHANGE)
    decision = _withdraw(store)
    assert decision.outcome is Outcome.ALLOW
    assert decision.rules == ()
    assert decision.evidence == ()


def test_withdrawal_when_new_device_signs_in_changes_password_and_withdraws_then_blocked() -> None:
    store = _customer()
    store.apply(FraudEvent(Kind.LOGIN, "u1", NOW - 90 * 60 * 10**9, "laptop-x", ABROAD, "ato"))
    _change(store, Kind.PASSWORD_CHANGE, "laptop-x")
    ctx = DecisionContext("u1", NOW, "laptop-x", ABROAD, "ato", amount_cents=450_000)
    decision = FraudScorer(store).decide(Action.WITHDRAWAL, ctx)
    assert decision.outcome is Outcome.BLOCK
    assert CREDENTIAL_RULE in decision.rules
    assert "unfamiliar_access" in decision.evidence


def test_withdrawal_when_request_names_no_device_after_a_new_device_change_then_blocked() -> None:
    """The payments point knows no device: the newest sign-in device is the change's."""
    store = _customer()
    store.apply(FraudEvent(Kind.LOGIN, "u1", NOW - 90 * 60 * 10**9, "laptop-x", ABROAD, "ato"))
    _change(store, Kind.PASSWORD_CHANGE, "laptop-x")
    decision = FraudScorer(store).decide(Action.WITHDRAWAL, DecisionContext("u1", NOW))
    assert decision.outcome is Outcome.BLOCK
    assert decision.evidence == ("unfamiliar_access",)


def test_withdrawal_when_device_first_used_long_before_the_change_then_familiar() -> None:
    store = _customer()
    store.apply(FraudEvent(Kind.LOGIN, "u1", NOW - 3 * DAY_NS, "tablet", HOME, "t"))
    _change(store, Kind.PASSWORD_CHANGE, "tablet")
    decision = _withdraw(store, "tablet", session="t")
    assert decision.outcome is Outcome.ALLOW
    assert decision.rules == ()


def test_withdrawal_when_own_device_but_bank_linked_after_the_change_then_blocked() -> None:
    store = _customer()
    _change(store, Kind.PASSWORD_CHANGE)
    store.apply(FraudEvent(Kind.BANK_LINK, "u1", NOW - HOUR_NS // 2, "phone", HOME, "today"))
    decision = _withdraw(store)
    assert decision.outcome is Outcome.BLOCK
    assert "bank_link_after" in decision.evidence


def test_withdrawal_when_factor_downgraded_to_sms_then_blocked() -> None:
    store = _customer()
    _change(store, Kind.FACTOR_ADDED, method="sms")
    decision = _withdraw(store)
    assert decision.outcome is Outcome.BLOCK
    assert decision.evidence == ("factor_weakened",)


def test_withdrawal_when_only_email_changed_on_own_device_then_step_up() -> None:
    store = _customer()
    _change(store, Kind.EMAIL_CHANGE)
    decision = _withdraw(store)
    assert decision.outcome is Outcome.STEP_UP
    assert decision.rules == (CREDENTIAL_RULE,)
    assert decision.evidence == ("contact_changed",)


def test_withdrawal_when_email_changed_and_bank_linked_this_week_then_blocked() -> None:
    store = _customer()
    store.apply(FraudEvent(Kind.BANK_LINK, "u1", NOW - 3 * DAY_NS, "phone", HOME, "s3"))
    _change(store, Kind.EMAIL_CHANGE)
    decision = _withdraw(store)
    assert decision.outcome is Outcome.BLOCK
    assert set(decision.evidence) == {"contact_changed", "bank_link_new"}


def test_withdrawal_when_score_reaches_step_up_after_a_change_then_blocked() -> None:
    store = _customer()
    _change(store, Kind.PASSWORD_CHANGE)
    ctx = DecisionContext("u1", NOW, "phone", HOME, "today", amount_cents=100_000)
    scorer = FraudScorer(store, default=Thresholds(step_up=0.0, block=1.0))
    decision = scorer.decide(Action.WITHDRAWAL, ctx)
    assert decision.outcome is Outcome.BLOCK
    assert decision.evidence == ("score_elevated",)


def test_withdrawal_when_change_is_older_than_a_day_then_no_rule() -> None:
    store = _customer()
    store.apply(FraudEvent(Kind.LOGIN, "u1", NOW - 30 * HOUR_NS, "laptop-x", ABROAD, "old"))
    store.apply(FraudEvent(Kind.PASSWORD_CHANGE, "u1", NOW - 25 * HOUR_NS, "laptop-x", ABROAD))
    assert CREDENTIAL_RULE not in _withdraw(store).rules


def test_withdrawal_when_customer_sold_three_times_on_own_device_then_allowed() -> None:
    store = _customer()
    _sell_three(store)
    decision = _withdraw(store)
    assert decision.outcome is Outcome.ALLOW
    assert decision.rules == ()


def test_withdrawal_when_sold_three_times_from_a_new_device_then_blocked() -> None:
    store = _customer()
    store.apply(FraudEvent(Kind.LOGIN, "u1", NOW - 4 * HOUR_NS, "laptop-x", ABROAD, "ato"))
    _sell_three(store)
    decision = _withdraw(store, "laptop-x", ABROAD, "ato")
    assert decision.outcome is Outcome.BLOCK
    assert LIQUIDATION_RULE in decision.rules


def test_withdrawal_when_sold_after_a_password_change_on_own_device_then_step_up() -> None:
    store = _customer()
    store.apply(FraudEvent(Kind.PASSWORD_CHANGE, "u1", NOW - 5 * HOUR_NS, "phone", HOME))
    _sell_three(store)
    decision = _withdraw(store)
    assert decision.outcome is Outcome.STEP_UP
    assert decision.rules == (LIQUIDATION_RULE,)
    assert decision.evidence == ("credential_changed",)
