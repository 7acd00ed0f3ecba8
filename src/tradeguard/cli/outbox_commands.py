"""``tradeguard outbox``: read the development outbox (the codes a local sign-up needs)."""

from __future__ import annotations

from typing import Annotated

import typer

from tradeguard.config import load_settings
from tradeguard.notify.outbox import read_outbox

app = typer.Typer(help="Read the development email and SMS outbox.", no_args_is_help=True)


@app.command("show")
def show(
    last: Annotated[int, typer.Option(min=1, help="How many of the newest messages.")] = 5,
    to: Annotated[str | None, typer.Option(help="Only messages to this address or number.")] = None,
) -> None:
    """Print the newest messages sent to the outbox, oldest first."""
    messages = read_outbox(load_settings().effective_outbox_dir)
    if to is not None:
        messages = [message for message in messages if message["to"] == to]
    for message in messages[-last:]:
        heading = message["subject"] or message["channel"].upper()
        typer.echo(f"{message['sent_at']}  {message['to']}  {heading}\n{message['text']}\n")
    if not messages:
        typer.echo("the outbox is empty")
