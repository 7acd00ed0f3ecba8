"""``tradeguard aml``: replay of past activity, synthetic data, the CTRs of a day, the purge."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from tradeguard.aml.filer import filer_from
from tradeguard.aml.parameters import MonitorParameters
from tradeguard.aml.replay import ReplaySettings, replay
from tradeguard.aml.transactions import BUSINESS_ZONE, AmlInputError
from tradeguard.config import load_settings

# The replay reads files only: what the other commands need (the database, the
# application's services) is imported by those commands, so the replay starts fast.

app = typer.Typer(help="Anti-money-laundering monitoring and reports.", no_args_is_help=True)

Source = Annotated[
    Path, typer.Argument(help="Directory with customers.csv, accounts.csv, transactions.jsonl.")
]
AlertsOut = Annotated[
    Path, typer.Option("--alerts", help="Where to write the alerts (JSON lines).")
]
CtrDir = Annotated[
    Path, typer.Option("--ctr-dir", help="Directory for the CTR files and index.csv.")
]
ParametersFile = Annotated[
    Path | None,
    typer.Option(
        "--parameters", help="JSON file of monitor parameters; default the built-in ones."
    ),
]


def load_parameters(path: Path | None) -> MonitorParameters:
    """The monitor parameters of ``path``, or the defaults."""
    if path is None:
        return MonitorParameters()
    try:
        return MonitorParameters.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        raise AmlInputError(f"parameters file {path}: {exc}") from None


@app.command("replay")
def replay_command(
    source: Source, alerts: AlertsOut, ctr_dir: CtrDir, parameters: ParametersFile = None
) -> None:
    """Replay past transactions through the monitors; write alerts and CTRs."""
    settings = load_settings()
    summary = replay(
        source,
        alerts,
        ctr_dir,
        ReplaySettings(
            load_parameters(parameters),
            filer_from(settings),
            datetime.now(tz=BUSINESS_ZONE).date(),
        ),
    )
    typer.echo(
        f"{summary.transactions} transactions, {summary.alerts} alerts, {summary.ctrs} CTRs",
        err=True,
    )


@app.command("generate")
def generate_command(
    target: Annotated[Path, typer.Argument(help="Directory to write the replay files into.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed: the same seed, the same data.")] = 1,
    customers: Annotated[int, typer.Option("--customers", min=10, max=1_000_000)] = 400,
    days: Annotated[int, typer.Option("--days", min=30, max=366)] = 60,
) -> None:
    """Write synthetic activity with planted typologies and traps (and labels.json)."""
    from tradeguard.aml import synthetic  # noqa: PLC0415 - start-up: see the imports

    book = synthetic.generate(seed, customers, days)
    synthetic.write(book, target)
    typer.echo(f"{len(book.customers)} customers, {len(book.txns)} transactions", err=True)


@app.command("ctr")
def ctr_command(
    day: Annotated[str, typer.Option("--date", help="The business day, YYYY-MM-DD (New York).")],
) -> None:
    """Write the CTRs of one business day from the settled cash in the audit trail."""
    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        raise AmlInputError(f"--date {day!r} is not YYYY-MM-DD") from None
    from tradeguard.aml.wiring import ctr_reports_over  # noqa: PLC0415 - start-up: see the imports
    from tradeguard.audit.records import Actor  # noqa: PLC0415
    from tradeguard.cases.store import AlertStore  # noqa: PLC0415
    from tradeguard.cli.runtime import command_runtime  # noqa: PLC0415
    from tradeguard.db.session import transaction  # noqa: PLC0415

    with command_runtime() as runtime, transaction(runtime.sessions) as db:
        alerts = AlertStore(runtime.audit, runtime.clock)
        reports = ctr_reports_over(runtime.settings, runtime.audit, runtime.clock,
                                   runtime.crypto.keyring, alerts)  # fmt: skip
        for ctr in reports.generate(db, Actor.system("cli"), wanted):
            typer.echo(
                f"{ctr.customer},{ctr.day},{ctr.cash_in},{ctr.cash_out},{ctr.file},{ctr.sha256}"
            )


@app.command("seal-ctrs")
def seal_ctrs_command() -> None:
    """Encrypt the CTR files and CTRX batches written in clear before they were sealed (audited)."""
    from tradeguard.aml.wiring import (  # noqa: PLC0415 - start-up: see the imports
        ctr_reports_over,
        filing_batches_over,
    )
    from tradeguard.audit.records import Actor  # noqa: PLC0415
    from tradeguard.cases.store import AlertStore  # noqa: PLC0415
    from tradeguard.cli.runtime import command_runtime  # noqa: PLC0415
    from tradeguard.db.session import transaction  # noqa: PLC0415

    with command_runtime() as runtime, transaction(runtime.sessions) as db:
        alerts = AlertStore(runtime.audit, runtime.clock)
        reports = ctr_reports_over(runtime.settings, runtime.audit, runtime.clock,
                                   runtime.crypto.keyring, alerts)  # fmt: skip
        sealed = reports.seal_clear_files(db, Actor.system("cli"))
        batches = filing_batches_over(
            runtime.settings, runtime.audit, runtime.clock, runtime.crypto.keyring
        ).seal_clear_ctr_batches(db, Actor.system("cli"))
    typer.echo(f"{len(sealed)} CTR files and {len(batches)} CTRX batch files sealed")


@app.command("purge")
def purge_command() -> None:
    """Delete the AML records whose five-year retention has ended.

    SARs and CTRs (rows and files), closed AML cases (with their alerts and notes) and
    closed AML alerts in no case.
    """
    from tradeguard.aml.retention import AmlRetention  # noqa: PLC0415 - start-up: see the imports
    from tradeguard.audit.records import Actor  # noqa: PLC0415
    from tradeguard.cli.runtime import command_runtime  # noqa: PLC0415
    from tradeguard.db.session import transaction  # noqa: PLC0415

    with command_runtime() as runtime, transaction(runtime.sessions) as db:
        today = datetime.fromtimestamp(runtime.clock.now_ns() / 1e9, BUSINESS_ZONE).date()
        retention = AmlRetention(runtime.audit, runtime.settings.var_dir / "aml")
        purged = retention.purge(db, Actor.system("cli"), today)
    typer.echo(
        f"{len(purged.sars)} SARs, {len(purged.ctrs)} CTRs, {len(purged.cases)} cases, "
        f"{len(purged.alerts)} alerts deleted"
    )
