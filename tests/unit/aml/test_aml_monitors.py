"""Each monitor on hand-made activity: what fires, what stays quiet, one alert per episode."""

from aml_kit import Txns

from tradeguard.aml.engine import AmlEngine
from tradeguard.aml.findings import Typology
from tradeguard.aml.monitors.fan import FanMonitor
from tradeguard.aml.monitors.jurisdictions import GeographyMonitor
from tradeguard.aml.monitors.profile_mismatch import (
    LargeTransactionMonitor,
    UnusualActivityMonitor,
)
from tradeguard.aml.monitors.rapid_movement import RapidMovementMonitor
from tradeguard.aml.monitors.structuring import StructuringMonitor
from tradeguard.aml.parameters import (
    FanParameters,
    GeographyParameters,
    LargeTransactionParameters,
    MonitorParameters,
    RapidMovementParameters,
    StructuringParameters,
    UnusualActivityParameters,
)
from tradeguard.aml.transactions import CustomerProfile, Kind, Transaction

PROFILE = CustomerProfile("C1", occupation="teacher", annual_income_cents=6_000_000)
BUSINESS = CustomerProfile("C1", occupation="restaurant owner", source_of_funds="business income")


def findings(monitor: object, txns: list[Transaction], profile: CustomerProfile = PROFILE) -> list:
    """The findings ``monitor`` makes on ``txns`` in order."""
    found = [monitor.observe(t, profile) for t in txns]  # type: ignore[attr-defined]
    return [f for f in found if f is not None]


def test_structuring_when_cash_just_under_over_days_and_accounts_then_one_finding() -> None:
    t = Txns()
    txns = [
        t.make(0, "deposit", "9500.00", account="A1"),
        t.make(2, "deposit", "9800", account="A2"),
    ]
    (found,) = findings(StructuringMonitor(StructuringParameters()), txns)
    assert found.accounts == {"A1", "A2"}
    assert found.transactions == ("T1", "T2")
    assert found.facts["total"] == "19300.00"


def test_structuring_when_cash_split_within_a_day_over_accounts_then_finding() -> None:
    t = Txns()
    txns = [t.make(h / 24, "deposit", "4000", account=f"A{h}") for h in (0, 2, 5)]
    (found,) = findings(StructuringMonitor(StructuringParameters()), txns)
    assert found.facts["total"] == "12000.00"
    assert found.accounts == {"A0", "A2", "A5"}


def test_structuring_when_small_cash_on_separate_days_then_nothing() -> None:
    t = Txns()
    txns = [t.make(day, "deposit", "4000") for day in (0, 2, 4, 6)]
    assert findings(StructuringMonitor(StructuringParameters()), txns) == []


def test_structuring_when_ach_payroll_just_under_then_nothing() -> None:
    t = Txns()
    txns = [t.make(d, "deposit", "9900", method="ach", counterparty="EMP") for d in (0, 3, 6)]
    assert findings(StructuringMonitor(StructuringParameters()), txns) == []


def test_structuring_when_one_large_cash_deposit_then_nothing() -> None:
    t = Txns()
    txns = [t.make(0, "deposit", "15000"), t.make(1, "deposit", "9000")]
    assert findings(StructuringMonitor(StructuringParameters()), txns) == []


def test_structuring_when_band_amounts_are_outside_the_window_then_nothing() -> None:
    t = Txns()
    txns = [t.make(0, "deposit", "9500"), t.make(8, "deposit", "9500")]
    assert findings(StructuringMonitor(StructuringParameters()), txns) == []


def test_structuring_when_band_amounts_repeat_weekly_then_finding_on_the_third() -> None:
    t = Txns()
    txns = [t.make(day, "deposit", "9200") for day in (0, 8, 16)]
    (found,) = findings(StructuringMonitor(StructuringParameters()), txns)
    assert found.transactions == ("T1", "T2", "T3")


def test_structuring_when_deposit_and_withdrawal_just_under_then_directions_stay_apart() -> None:
    t = Txns()
    txns = [t.make(0, "deposit", "9500"), t.make(1, "withdrawal", "9500")]
    assert findings(StructuringMonitor(StructuringParameters()), txns) == []


def test_rapid_movement_when_in_and_out_without_trading_then_finding() -> None:
    t = Txns()
    txns = [t.make(0, "deposit", "40000", "wire"), t.make(2, "withdrawal", "39000", "wire")]
    (found,) = findings(RapidMovementMonitor(RapidMovementParameters()), txns)
    assert found.facts["deposited"] == "40000.00"
    assert found.transactions == ("T1", "T2")


def test_rapid_movement_when_the_money_was_traded_then_nothing() -> None:
    t = Txns()
    trades = [t.make(1, kind, "15000", "trade") for kind in ("buy", "sell", "buy")]
    txns = [
        t.make(0, "deposit", "40000", "wire"),
        *trades,
        t.make(3, "withdrawal", "39000", "wire"),
    ]
    assert findings(RapidMovementMonitor(RapidMovementParameters()), txns) == []


def test_rapid_movement_when_withdrawn_after_the_window_then_nothing() -> None:
    t = Txns()
    txns = [t.make(0, "deposit", "40000", "wire"), t.make(9, "withdrawal", "39000", "wire")]
    assert findings(RapidMovementMonitor(RapidMovementParameters()), txns) == []


def test_rapid_movement_when_a_business_moves_its_takings_then_higher_bar() -> None:
    t = Txns()
    txns = [t.make(0, "deposit", "20000", "ach"), t.make(2, "withdrawal", "19000", "ach")]
    monitor = RapidMovementMonitor(RapidMovementParameters())
    assert findings(monitor, txns, BUSINESS) == []


def _fan_in(count: int) -> list[Transaction]:
    t = Txns()
    return [t.make(n / 4, "deposit", "900", "ach", counterparty=f"P{n}") for n in range(count)]


def test_fan_in_when_six_payers_in_a_week_then_finding() -> None:
    found = findings(FanMonitor(FanParameters(), Kind.DEPOSIT), _fan_in(6))
    assert [f.facts["counterparties"] for f in found] == [6]
    assert found[0].typology is Typology.FAN_IN


def test_fan_in_when_five_payers_then_nothing() -> None:
    assert findings(FanMonitor(FanParameters(), Kind.DEPOSIT), _fan_in(5)) == []


def test_fan_in_when_a_declared_business_has_many_payers_then_nothing() -> None:
    assert findings(FanMonitor(FanParameters(), Kind.DEPOSIT), _fan_in(20), BUSINESS) == []


def test_fan_out_when_one_payee_paid_many_times_then_nothing() -> None:
    t = Txns()
    txns = [t.make(n / 4, "withdrawal", "900", "ach", counterparty="P") for n in range(10)]
    assert findings(FanMonitor(FanParameters(), Kind.WITHDRAWAL), txns) == []


def test_geography_when_listed_country_then_finding_with_its_list() -> None:
    t = Txns()
    txns = [
        t.make(0, "deposit", "500", "wire", country="IR"),
        t.make(1, "deposit", "500", "wire", country="GB"),
    ]
    (found,) = findings(GeographyMonitor(GeographyParameters()), txns)
    assert found.facts["list"] == "call_for_action"


def test_geography_when_list_is_configured_then_it_replaces_the_default() -> None:
    t = Txns()
    params = GeographyParameters(
        call_for_action=frozenset({"GB"}), increased_monitoring=frozenset()
    )
    txns = [
        t.make(0, "deposit", "500", "wire", country="IR"),
        t.make(1, "deposit", "500", "wire", country="GB"),
    ]
    assert [f.facts["country"] for f in findings(GeographyMonitor(params), txns)] == ["GB"]


def test_unusual_activity_when_deposits_exceed_declared_income_then_finding() -> None:
    t = Txns()
    txns = [t.make(d, "deposit", "25000", "wire") for d in (0, 10, 20)]
    found = findings(UnusualActivityMonitor(UnusualActivityParameters()), txns)
    assert [f.facts["total"] for f in found] == ["75000.00"]


def test_unusual_activity_when_no_profile_was_declared_then_nothing() -> None:
    t = Txns()
    txns = [t.make(d, "deposit", "25000", "wire") for d in (0, 10, 20)]
    unknown = CustomerProfile("C1", declared=False)
    assert findings(UnusualActivityMonitor(UnusualActivityParameters()), txns, unknown) == []


def test_unusual_activity_when_spread_beyond_the_window_then_nothing() -> None:
    t = Txns()
    txns = [t.make(d, "deposit", "25000", "wire") for d in (0, 31, 62)]
    assert findings(UnusualActivityMonitor(UnusualActivityParameters()), txns) == []


def test_large_transaction_when_at_the_minimum_then_finding() -> None:
    t = Txns()
    txns = [t.make(0, "withdrawal", "49999.99", "wire"), t.make(1, "withdrawal", "50000", "wire")]
    (found,) = findings(LargeTransactionMonitor(LargeTransactionParameters()), txns)
    assert found.transactions == ("T2",)


def test_engine_when_structuring_goes_on_for_weeks_then_one_episode() -> None:
    t = Txns()
    engine = AmlEngine(MonitorParameters(), {"C1": PROFILE}, {Typology.STRUCTURING})
    for day in range(0, 40, 3):
        engine.observe(t.make(day, "deposit", "9400"))
    (episode,) = engine.episodes.all_episodes()
    assert episode.typology is Typology.STRUCTURING
    assert len(episode.transactions) == 14


def test_engine_when_quiet_longer_than_the_gap_then_a_second_episode() -> None:
    t = Txns()
    engine = AmlEngine(MonitorParameters(), {"C1": PROFILE}, {Typology.STRUCTURING})
    for day in (0, 1, 60, 61):
        engine.observe(t.make(day, "deposit", "9400"))
    assert [len(e.transactions) for e in engine.episodes.all_episodes()] == [2, 2]


def test_engine_when_fan_in_explains_the_money_then_no_unusual_activity_alert() -> None:
    engine = AmlEngine(MonitorParameters(), {"C1": PROFILE})
    t = Txns()
    for n in range(12):
        engine.observe(t.make(n / 4, "deposit", "9000", "wire", counterparty=f"P{n}"))
    assert [e.typology for e in engine.episodes.all_episodes()] == [Typology.FAN_IN]
