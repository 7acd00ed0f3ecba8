"""``tradeguard config``: inspect the effective configuration and print its reference."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from tradeguard.config import display_settings, load_settings
from tradeguard.config_reference import render_configuration

app = typer.Typer(help="Inspect the effective configuration.", no_args_is_help=True)


@app.command("show")
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Print as a JSON object.")] = False,
) -> None:
    """Print every setting with its effective value; secrets are masked."""
    shown = display_settings(load_settings())
    if as_json:
        typer.echo(json.dumps(shown, indent=2, sort_keys=True))
        return
    width = max(len(name) for name in shown)
    for name, value in shown.items():
        typer.echo(f"{name.ljust(width)}  {value}")


@app.command("docs")
def docs() -> None:
    """Print the reference of every setting as Markdown (docs/configuration.md)."""
    typer.echo(render_configuration(), nl=False)
