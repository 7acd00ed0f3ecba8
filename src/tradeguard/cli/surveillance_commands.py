"""`tradeguard surveillance`: replay a market day through the detectors, show the parameters."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from tradeguard.surveillance.parameters import SurveillanceParameters
from tradeguard.surveillance.replay import Problem, replay, write_alerts

app = typer.Typer(help="Market surveillance: replay a day, show the detection parameters.")


@app.command("replay")
def replay_command(
    directory: Annotated[Path, typer.Argument(help="Holds events.jsonl, accounts.csv, links.csv")],
    alerts: Annotated[Path, typer.Option("--alerts", help="Where to write the alerts (JSONL)")],
    parameters: Annotated[
        Path | None, typer.Option("--parameters", help="JSON overrides of the parameters")
    ] = None,
) -> None:
    """Run the day's events through the same detectors as the live watcher."""
    params = load_parameters(parameters)
    result = replay(directory, params, report=_report)
    with alerts.open("w", encoding="utf-8") as out:
        written = write_alerts(out, result.final_alerts())
    by_typology = Counter(draft.typology for draft in result.final_alerts())
    summary = ", ".join(f"{name} {count}" for name, count in sorted(by_typology.items()))
    typer.echo(f"{result.events} events, {written} alerts ({summary or 'none'})")
    typer.echo(f"{len(result.skipped)} lines skipped")


@app.command("parameters")
def parameters_command(
    parameters: Annotated[
        Path | None, typer.Option("--parameters", help="JSON overrides to apply first")
    ] = None,
) -> None:
    """Print the parameters in force (defaults, or with the overrides applied) as JSON."""
    typer.echo(json.dumps(load_parameters(parameters).to_json(), indent=2))


def load_parameters(path: Path | None) -> SurveillanceParameters:
    """The defaults, with the overrides of ``path`` if given; BadParameter if invalid."""
    defaults = SurveillanceParameters()
    if path is None:
        return defaults
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return defaults.with_overrides(_object(document))
    except (OSError, ValueError, TypeError) as error:
        raise typer.BadParameter(str(error), param_hint="--parameters") from None


def _object(document: object) -> dict[str, object]:
    if not isinstance(document, dict):
        raise TypeError("the parameters file holds a JSON object")
    return document


def _report(problem: Problem) -> None:
    number, reason = problem
    typer.echo(f"line {number}: {reason}", err=True)
