"""Precision, recall and F1 per typology on generated days (the table in docs/surveillance.md).

Usage: .venv/bin/python bench/surveillance_quality.py [FIRST_SEED [LAST_SEED]] [--misses]
(defaults 1001 1010). Each day is written to a scratch folder and replayed with the
default parameters; alerts and true episodes are matched per day. ``--misses`` also
prints every true episode no alert found and every alert no true episode explains, so
a reviewer can see why each one went wrong.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from market_scenarios import Config, Truth, generate, matches, scores, tagged  # noqa: E402
from tradeguard.surveillance.parameters import SurveillanceParameters  # noqa: E402
from tradeguard.surveillance.replay import alert_line, replay  # noqa: E402


def main(first: int, last: int, *, misses: bool) -> None:
    truths: list[Truth] = []
    alerts: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as scratch:
        for seed in range(first, last + 1):
            day = generate(seed, Config())
            directory = Path(scratch) / str(seed)
            day.write(directory)
            result = replay(directory, SurveillanceParameters())
            lines = [alert_line(draft) for draft in result.final_alerts()]
            day_truths, day_alerts = tagged(seed, day.truths, lines)
            truths += day_truths
            alerts += day_alerts
    if misses:
        _print_misses(truths, alerts)
    print(json.dumps(scores(truths, alerts), indent=1))


def _print_misses(truths: list[Truth], alerts: list[dict[str, Any]]) -> None:
    for truth in truths:
        if not any(a["typology"] == truth.typology and matches(a, truth) for a in alerts):
            nearby = [a for a in alerts if a["symbol"] == truth.symbol]
            print("MISSED", truth, "| alerts on the symbol:", [_brief(a) for a in nearby])
    for alert in alerts:
        if not any(t.typology == alert["typology"] and matches(alert, t) for t in truths):
            print("FALSE", _brief(alert), json.dumps(alert["evidence"], default=str)[:1500])


def _brief(alert: dict[str, Any]) -> str:
    window = f"{alert['start_ts']}..{alert['end_ts']}"
    return f"{alert['typology']} {alert['symbol']} {alert['accounts']} {window}"


if __name__ == "__main__":
    arguments = [value for value in sys.argv[1:] if not value.startswith("--")]
    seeds = [int(value) for value in arguments[:2]] or [1001, 1010]
    main(seeds[0], seeds[-1], misses="--misses" in sys.argv)
