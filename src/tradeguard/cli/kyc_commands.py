"""``tradeguard kyc``: onboarding's operator commands."""

from __future__ import annotations

import typer

from tradeguard.cli.runtime import command_runtime
from tradeguard.db.session import transaction
from tradeguard.kyc.retention import start_after_closing

app = typer.Typer(help="Customer onboarding records.", no_args_is_help=True)


@app.command("retention")
def retention() -> None:
    """Start the five-year retention of the records of every customer whose account closed."""
    with command_runtime() as runtime, transaction(runtime.sessions) as db:
        started = start_after_closing(db, runtime.clock, runtime.audit)
    typer.echo(f"retention started for {started} closed accounts")
