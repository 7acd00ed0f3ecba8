"""``tradeguard fraud``: train the model, promote a version, list the features, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradeguard.audit.records import Actor
from tradeguard.cli.runtime import command_runtime
from tradeguard.db.session import transaction
from tradeguard.fraud.artifact import CHAMPION, ModelRegistry, ModelRejectedError
from tradeguard.fraud.catalog import catalog_markdown
from tradeguard.fraud.labels import labelled_history
from tradeguard.fraud.lifecycle import TrainingRun, promote, synthetic_run, train_model
from tradeguard.fraud.report import decision_report
from tradeguard.fraud.training import TrainingConfig, new_version, read_history
from tradeguard.fraud.wiring import load_role, model_directory, model_key

app = typer.Typer(help="Fraud and account-takeover defence: the model and its report.")


@app.command("train")
def train_command(
    history: Annotated[
        Path | None, typer.Option("--history", help="Labelled decisions (JSONL); else synthetic")
    ] = None,
    customers: Annotated[int, typer.Option(min=20, help="Synthetic customers")] = 3000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic generator")] = 1,
    trees: Annotated[int, typer.Option(min=1, max=2000)] = 120,
) -> None:
    """Train, sign and store a model: champion if none, else challenger (scored in shadow)."""
    config = TrainingConfig(trees=trees, seed=seed)
    with command_runtime() as rt:
        run = _run(history, customers, seed, config, rt.settings.fraud_review_rate)
        registry = ModelRegistry(model_directory(rt.settings), model_key(rt.crypto.keyring))
        version = new_version(rt.clock.now_ns())
        with transaction(rt.sessions) as db:
            role, trained = train_model(db, rt.audit, registry, run, version)
    typer.echo(f"model {version} ({role}): {trained.rows} rows, {trained.positives} fraud")
    for name, value in trained.metrics.items():
        typer.echo(f"  {name}: {value}")


def _run(
    history: Path | None, customers: int, seed: int, config: TrainingConfig, rate: float
) -> TrainingRun:
    if history is None:
        return synthetic_run(seed, customers, config, rate)
    try:
        rows = read_history(history)
    except (OSError, ValueError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--history") from None
    cut = max(len(rows) * 4 // 5, 1)
    return TrainingRun(f"history:{history.name}", rows[:cut], rows[cut:], config, rate)


@app.command("promote")
def promote_command(version: Annotated[str, typer.Argument(help="A stored version")]) -> None:
    """Make a stored, correctly signed version the champion."""
    with command_runtime() as rt:
        registry = ModelRegistry(model_directory(rt.settings), model_key(rt.crypto.keyring))
        try:
            with transaction(rt.sessions) as db:
                promote(db, rt.audit, registry, version, Actor.system("cli"))
        except ModelRejectedError as exc:
            typer.echo(f"refused: {exc}", err=True)
            raise typer.Exit(1) from None
    typer.echo(f"champion: {version}")


@app.command("features")
def features_command(
    out: Annotated[Path | None, typer.Option("--out", help="Write the Markdown here")] = None,
) -> None:
    """The feature catalogue as Markdown (docs/fraud-features.md)."""
    text = catalog_markdown()
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@app.command("labels")
def labels_command(
    out: Annotated[Path, typer.Option("--out", help="Where to write the labelled history")],
) -> None:
    """Reviewed fraud cases as labelled history (JSONL) for ``train --history``."""
    with command_runtime() as rt, rt.sessions() as db, out.open("w", encoding="utf-8") as sink:
        count = 0
        for line in labelled_history(db):
            sink.write(line + "\n")
            count += 1
    typer.echo(f"{count} labelled decisions written to {out}")


@app.command("report")
def report_command(
    days: Annotated[int, typer.Option(min=1, max=366, help="How far back")] = 30,
) -> None:
    """Decision rates, score distribution, feature drift and the precision of past blocks."""
    with command_runtime() as rt, rt.sessions() as db:
        registry = ModelRegistry(model_directory(rt.settings), model_key(rt.crypto.keyring))
        champion = load_role(registry, CHAMPION)
        typer.echo(decision_report(db, rt.clock.now_ns(), days, champion))
