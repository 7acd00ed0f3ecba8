"""``tradeguard access``: the time-limited grants of staff, as operators and auditors see them."""

from __future__ import annotations

from typing import Annotated

import typer

from tradeguard.access.grants import HeldGrant, every_grant, grants_in_force
from tradeguard.cli.runtime import command_runtime
from tradeguard.core.clock import ns_to_rfc3339

app = typer.Typer(help="Time-limited access grants of staff.", no_args_is_help=True)
ShowAll = Annotated[
    bool, typer.Option("--all", help="Every grant: also pending, expired, denied and revoked.")
]
HEADINGS = ("GRANT", "USER", "PERMISSION", "STATUS", "KIND", "EXPIRES", "REASON")
REASON_WIDTH = 60
NOT_SET = "-"


@app.command("grants")
def grants(show_all: ShowAll = False) -> None:
    """List the grants in force now (with --all, every grant), newest first."""
    with command_runtime() as runtime, runtime.sessions() as db:
        now = runtime.clock.now_ns()
        listed = every_grant(db, now) if show_all else grants_in_force(db, now)
    if not listed:
        typer.echo("no grants" if show_all else "no grants in force")
        return
    for line in table([HEADINGS, *(grant_row(held) for held in listed)]):
        typer.echo(line)


def grant_row(held: HeldGrant) -> tuple[str, ...]:
    """One grant as the columns of the listing."""
    grant = held.grant
    expires = ns_to_rfc3339(grant.expires_at_ns) if grant.expires_at_ns else NOT_SET
    kind = "break-glass" if grant.break_glass else "approved"
    return (
        grant.id,
        printable(held.username),
        grant.permission,
        held.status,
        kind,
        expires,
        printable(grant.reason)[:REASON_WIDTH],
    )


def table(rows: list[tuple[str, ...]]) -> list[str]:
    """Rows as left-aligned columns two spaces apart."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return [_line(row, widths) for row in rows]


def _line(row: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()


def printable(text: str) -> str:
    """``text`` on one line, with control characters (terminal escapes) made harmless."""
    flat = " ".join(text.split())
    return "".join(character if character.isprintable() else "?" for character in flat)
