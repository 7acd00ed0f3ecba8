"""Entry point: assembles the command groups and turns every failure into one line.

Each command group's module is imported only when the command line names it (or when
the help lists every group), so a command pays the start-up of its own imports only:
``tradeguard surveillance replay`` never imports the web application, the database
layer or the models.
"""

from __future__ import annotations

import importlib
import sys

import typer
from typer._click.core import Command, Context  # the click Typer is built on
from typer.core import TyperGroup

from tradeguard import __version__

GROUPS: dict[str, tuple[str, str]] = {
    "db": ("db_commands", "app"),
    "config": ("config_commands", "app"),
    "keys": ("keys_commands", "app"),
    "backup": ("backup_commands", "app"),
    "audit": ("audit_commands", "app"),
    "outbox": ("outbox_commands", "app"),
    "users": ("users_commands", "app"),
    "access": ("access_commands", "app"),
    "staff": ("staff_commands", "app"),
    "aml": ("aml_commands", "app"),
    "fraud": ("fraud_commands", "app"),
    "surveillance": ("surveillance_commands", "app"),
    "watch": ("watch_commands", "app"),
    "instruments": ("trading_commands", "instruments_app"),
    "accounts": ("trading_commands", "accounts_app"),
    "sanctions": ("screening_commands", "app"),
    "kyc": ("kyc_commands", "app"),
    "payments": ("payments_commands", "app"),
    "ledger": ("ledger_commands", "app"),
}
"""Command group name: its module in ``tradeguard.cli`` and the Typer app in it."""
SERVER_COMMANDS = ("init", "serve", "desk-process", "gateway-worker", "watch-process")
"""Root commands that ``server_commands.register`` adds."""


class LazyGroup(TyperGroup):
    """The root command: a group's (or the server commands') module loads on first use."""

    def list_commands(self, ctx: Context) -> list[str]:
        """The server commands, the root's own, then every group (the order of the help)."""
        own = [name for name in super().list_commands(ctx) if name not in SERVER_COMMANDS]
        return [*SERVER_COMMANDS, *own, *(name for name in GROUPS if name not in own)]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """The command ``cmd_name``, importing its module the first time it is asked for."""
        if cmd_name not in self.commands:
            self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, name: str) -> None:
        if name in GROUPS:
            module_name, attribute = GROUPS[name]
            module = importlib.import_module(f"tradeguard.cli.{module_name}")
            group = typer.main.get_group(getattr(module, attribute))
            group.name = name
            self.add_command(group, name)
        elif name in SERVER_COMMANDS and name not in self.commands:
            server = typer.Typer()
            importlib.import_module("tradeguard.cli.server_commands").register(server)
            for command_name, command in typer.main.get_group(server).commands.items():
                self.add_command(command, command_name)


app = typer.Typer(
    name="tradeguard",
    cls=LazyGroup,
    help="TradeGuard: security, risk and compliance core for stock-trading platforms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def quiet_logs() -> None:
    """Send log lines (warnings and worse) to stderr, so command output stays clean."""
    from tradeguard.logs import configure_logging  # noqa: PLC0415 - start-up: only when run

    configure_logging(level="WARNING")


@app.command()
def version() -> None:
    """Print the TradeGuard version."""
    typer.echo(__version__)


def main() -> None:
    """Run the command line; errors print as one line on stderr and exit non-zero."""
    from tradeguard.core.errors import TradeGuardError  # noqa: PLC0415 - light; kept with its use
    from tradeguard.logs import redact  # noqa: PLC0415 - start-up: only when run

    try:
        app()
    except TradeGuardError as exc:
        typer.echo(f"error: {redact(str(exc))}", err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the last net: one line, never a traceback
        typer.echo(f"error: unexpected {type(exc).__name__}: {redact(str(exc))}", err=True)
        sys.exit(1)
