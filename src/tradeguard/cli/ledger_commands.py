"""``tradeguard ledger``: proof that the cash journal balances and agrees with every balance."""

from __future__ import annotations

import typer

from tradeguard.cli.runtime import command_runtime
from tradeguard.ledger.verify import verify
from tradeguard.payments.reconcile import PAYMENT_CHECKS

app = typer.Typer(help="The double-entry cash journal.", no_args_is_help=True)


@app.command("verify")
def verify_command() -> None:
    """Check every entry balances and every balance equals the journal; exit 1 on a difference."""
    with command_runtime() as runtime, runtime.sessions() as db:
        result = verify(db, PAYMENT_CHECKS)  # and money in flight against its records
    for difference in result.differences:
        typer.echo(f"DIFFERS: {difference}", err=True)
    if not result.agrees:
        typer.echo(f"ledger verify FAILED: {len(result.differences)} difference(s)", err=True)
        raise typer.Exit(1)
    typer.echo(
        f"ledger verified: {result.entries} entries, {result.lines} lines, all balances agree"
    )
