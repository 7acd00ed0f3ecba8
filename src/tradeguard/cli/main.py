"""Entry point: assembles the command groups and turns every failure into one line."""

from __future__ import annotations

import sys

import typer

from tradeguard import __version__
from tradeguard.cli import (
    access_commands,
    aml_commands,
    audit_commands,
    backup_commands,
    config_commands,
    db_commands,
    fraud_commands,
    keys_commands,
    kyc_commands,
    ledger_commands,
    outbox_commands,
    payments_commands,
    screening_commands,
    server_commands,
    staff_commands,
    surveillance_commands,
    trading_commands,
    users_commands,
    watch_commands,
)
from tradeguard.core.errors import TradeGuardError
from tradeguard.logs import configure_logging, redact

app = typer.Typer(
    name="tradeguard",
    help="TradeGuard: security, risk and compliance core for stock-trading platforms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(db_commands.app, name="db")
app.add_typer(config_commands.app, name="config")
app.add_typer(keys_commands.app, name="keys")
app.add_typer(backup_commands.app, name="backup")
app.add_typer(audit_commands.app, name="audit")
app.add_typer(outbox_commands.app, name="outbox")
app.add_typer(users_commands.app, name="users")
app.add_typer(access_commands.app, name="access")
app.add_typer(staff_commands.app, name="staff")
app.add_typer(aml_commands.app, name="aml")
app.add_typer(fraud_commands.app, name="fraud")
app.add_typer(surveillance_commands.app, name="surveillance")
app.add_typer(watch_commands.app, name="watch")
app.add_typer(trading_commands.instruments_app, name="instruments")
app.add_typer(trading_commands.accounts_app, name="accounts")
app.add_typer(screening_commands.app, name="sanctions")
app.add_typer(kyc_commands.app, name="kyc")
app.add_typer(payments_commands.app, name="payments")
app.add_typer(ledger_commands.app, name="ledger")
server_commands.register(app)


@app.callback()
def quiet_logs() -> None:
    """Send log lines (warnings and worse) to stderr, so command output stays clean."""
    configure_logging(level="WARNING")


@app.command()
def version() -> None:
    """Print the TradeGuard version."""
    typer.echo(__version__)


def main() -> None:
    """Run the command line; errors print as one line on stderr and exit non-zero."""
    try:
        app()
    except TradeGuardError as exc:
        typer.echo(f"error: {redact(str(exc))}", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the last net: one line, never a traceback
        typer.echo(f"error: unexpected {type(exc).__name__}: {redact(str(exc))}", err=True)
        sys.exit(1)
