"""Profiles kept one event at a time agree with a recomputation from the whole history."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeguard.fraud.catalog import FEATURE_NAMES, FEATURES, vector
from tradeguard.fraud.context import Action, DecisionContext
from tradeguard.fraud.events import FraudEvent, Kind
from tradeguard.fraud.features import DAY_NS, snapshot
from tradeguard.fraud.geo import GeoLocator, Network
from tradeguard.fraud.profiles import HOUR_NS, Occurrences, ProfileStore

NOW = 1_800_000_000 * 10**9
HOME = Network("10.0.0.0/24", "ZZ")
ABROAD = Network("203.0.113.0/24", "RO")

events = st.lists(
    st.tuples(st.sampled_from(list(Kind)), st.integers(min_value=0, max_value=10 * DAY_NS)),
    max_size=60,
)


@given(events)
@settings(max_examples=60, deadline=None)
def test_occurrences_when_added_one_by_one_then_window_counts_match_recount(
    history: list[tuple[Kind, int]],
) -> None:
    kept = Occurrences()
    times = sorted(NOW - age for _, age in history)
    for ts in times:
        kept.add(ts)
    for window in (HOUR_NS, DAY_NS, 7 * DAY_NS):
        expected = sum(1 for ts in times if NOW - window < ts <= NOW)
        assert kept.within(NOW, window) == expected
    assert kept.total == len(times)


@given(events)
@settings(max_examples=40, deadline=None)
def test_features_when_events_applied_in_order_then_counts_match_history(
    history: list[tuple[Kind, int]],
) -> None:
    store = ProfileStore()
    ordered = sorted(history, key=lambda item: -item[1])
    for kind, age in ordered:
        store.apply(FraudEvent(kind, "u1", NOW - age, device="d1", network=HOME))
    snap = snapshot(store, Action.LOGIN, DecisionContext("u1", NOW, "d1", HOME))
    values = dict(zip(FEATURE_NAMES, vector(snap), strict=True))
    for kind in (Kind.LOGIN, Kind.WITHDRAWAL, Kind.PASSWORD_CHANGE):
        recount = sum(1 for k, age in history if k is kind and age < DAY_NS)
        assert values[f"{kind.value}_count_24h"] == recount


def test_catalog_when_listed_then_over_a_hundred_unique_documented_features() -> None:
    assert len(FEATURES) >= 100
    assert len(set(FEATURE_NAMES)) == len(FEATURES)
    assert all(feature.definition for feature in FEATURES)


def _home_customer() -> ProfileStore:
    store = ProfileStore()
    for day in range(10, 0, -1):
        ts = NOW - day * DAY_NS
        store.apply(FraudEvent(Kind.LOGIN, "u1", ts, device="d1", network=HOME, session=f"s{day}"))
        store.apply(FraudEvent(Kind.ORDER, "u1", ts + 60, symbol="AAPL", quantity=10))
    return store


def test_signals_when_new_device_abroad_then_device_and_location_flags_set() -> None:
    store = _home_customer()
    ctx = DecisionContext("u1", NOW, device="evil", network=ABROAD)
    values = dict(zip(FEATURE_NAMES, vector(snapshot(store, Action.LOGIN, ctx)), strict=True))
    assert values["device_is_new"] == 1.0
    assert values["country_is_new"] == 1.0
    assert values["country_differs_from_last_login"] == 1.0
    home = DecisionContext("u1", NOW, device="d1", network=HOME)
    values = dict(zip(FEATURE_NAMES, vector(snapshot(store, Action.LOGIN, home)), strict=True))
    assert values["device_is_new"] == 0.0
    assert values["country_is_new"] == 0.0


def test_signals_when_session_used_from_other_device_then_mismatch() -> None:
    store = _home_customer()
    ctx = DecisionContext("u1", NOW, device="evil", network=ABROAD, session="s1")
    values = dict(zip(FEATURE_NAMES, vector(snapshot(store, Action.ORDER, ctx)), strict=True))
    assert values["session_device_mismatch"] == 1.0
    assert values["session_network_mismatch"] == 1.0


def test_signals_when_password_changed_then_withdrawal_flagged() -> None:
    store = _home_customer()
    store.apply(FraudEvent(Kind.PASSWORD_CHANGE, "u1", NOW - HOUR_NS))
    ctx = DecisionContext("u1", NOW, amount_cents=500_000, balance_cents=500_000)
    values = dict(zip(FEATURE_NAMES, vector(snapshot(store, Action.WITHDRAWAL, ctx)), strict=True))
    assert values["withdrawal_after_credential_change"] == 1.0
    assert values["amount_vs_balance"] == 1.0
    assert values["first_withdrawal"] == 1.0


def test_geo_when_blocks_configured_then_longest_prefix_wins() -> None:
    geo = GeoLocator.parse(["203.0.0.0/8=US", "203.0.113.0/24=ro  # test net", ""])
    assert geo.locate("203.0.113.7") == Network("203.0.113.0/24", "RO")
    assert geo.locate("203.1.2.3") == Network("203.1.2.0/24", "US")
    assert geo.locate("127.0.0.1") == Network("127.0.0.0/24", "ZZ")
    assert geo.locate("8.8.8.8") == Network("8.8.8.0/24", "--")
    assert geo.locate("testclient") is None
