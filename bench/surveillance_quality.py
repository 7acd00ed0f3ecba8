"""Precision, recall and F1 per typology on generated days (the table in docs/surveillance.md).

Usage: .venv/bin/python bench/surveillance_quality.py [FIRST_SEED [LAST_SEED]]
(defaults 1001 1010). Each day is written to a scratch folder and replayed with the
default parameters; alerts and true episodes are matched per day.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from market_scenarios import Config, generate, scores, tagged  # noqa: E402
from tradeguard.surveillance.parameters import SurveillanceParameters  # noqa: E402
from tradeguard.surveillance.replay import alert_line, replay  # noqa: E402


def main(first: int, last: int) -> None:
    truths, alerts = [], []
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
    print(json.dumps(scores(truths, alerts), indent=1))


if __name__ == "__main__":
    seeds = [int(value) for value in sys.argv[1:3]] or [1001, 1010]
    main(seeds[0], seeds[-1])
