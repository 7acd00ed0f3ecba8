"""Evidence as reviewers read it: on a generated day, every rule's threshold measures hold
for the alerts it raised, tables list the orders and trades, the timeline is in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from market_scenarios import Config, generate
from tradeguard.cases.presentation import PresentationView, generic_presentation, presentation_view
from tradeguard.surveillance.parameters import SurveillanceParameters
from tradeguard.surveillance.presentation import present_surveillance
from tradeguard.surveillance.replay import replay

SECTIONS = {
    "spoofing": "spoofing",
    "layering": "spoofing",
    "wash_trading": "wash",
    "pump_and_dump": "pump",
    "front_running": "front_running",
}
DAY = Config(symbols=4, hours=2.0, noise_traders=40, wash=1, spoofing=1, layering=1, pump=1)


@pytest.fixture(scope="module")
def shown(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[PresentationView]]:
    directory: Path = tmp_path_factory.mktemp("day")
    generate(7, DAY).write(directory)
    parameters = SurveillanceParameters().to_json()
    views: dict[str, list[PresentationView]] = {}
    for alert in replay(directory, SurveillanceParameters()).final_alerts():
        section = parameters[SECTIONS[alert.typology]]
        presentation = present_surveillance(alert.typology, alert.evidence, section)
        views.setdefault(alert.typology, []).append(presentation_view(presentation))
    return views


@pytest.mark.parametrize("typology", ["spoofing", "layering", "wash_trading", "front_running"])
def test_presentation_when_rule_alerted_then_its_measures_meet_their_thresholds(
    shown: dict[str, list[PresentationView]], typology: str
) -> None:
    assert shown.get(typology), f"the day raised no {typology} alert"
    for view in shown[typology]:
        assert view.measures
        unmet = [m.label for m in view.measures if m.met is False]
        assert unmet == [], (view.summary, unmet)
        assert all(table.rows for table in view.tables)
        moments = [moment.ts_ns for moment in view.timeline]
        assert moments == sorted(moments)
        assert len(moments) >= 2


def test_presentation_when_spoofing_then_orders_and_prices_shown(
    shown: dict[str, list[PresentationView]],
) -> None:
    view = shown["layering"][0]
    titles = [table.title for table in view.tables]
    assert titles == ["Genuine executions", "Cancelled orders"]
    assert any(moment.price for moment in view.timeline)
    assert any(moment.what.startswith("Cancelled") for moment in view.timeline)


def test_generic_presentation_when_unknown_source_then_scalars_and_record_lists() -> None:
    evidence = {"amount": 9500, "pattern": "structuring", "deposits": [{"day": 1, "amount": 9500}]}
    view = presentation_view(generic_presentation("aml.structuring", evidence, {}))
    assert [(m.label, m.value) for m in view.measures] == [
        ("Amount", "9,500"),
        ("Pattern", "structuring"),
    ]
    assert view.tables[0].columns == ["Day", "Amount"]
    assert view.tables[0].rows == [["1", "9,500"]]
