"""``tradeguard sanctions``: load OFAC lists, screen a batch file, list versions, rescreen."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tradeguard.cli.progress import progress_bar
from tradeguard.cli.runtime import CommandRuntime, command_runtime, operator
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.errors import TradeGuardError
from tradeguard.core.secure_files import write_atomically
from tradeguard.screening.batch import read_batch, screened_lines
from tradeguard.screening.ofac_csv import LIST_FILES
from tradeguard.screening.service import LoadReport, RescreenReport, SanctionsScreening
from tradeguard.screening.wiring import screening_over

app = typer.Typer(help="Sanctions lists and screening.", no_args_is_help=True)
ListDir = Annotated[Path, typer.Argument(help="Directory with the list's CSV files as published.")]
ListName = Annotated[
    str, typer.Option("--list", help=f"Which list the files are: {', '.join(LIST_FILES)}.")
]
BatchIn = Annotated[Path, typer.Argument(help="CSV with the header id,name,dob,country.")]
BatchOut = Annotated[Path, typer.Option("--out", help="Where to write one JSON line per row.")]


@app.command("load")
def load(directory: ListDir, list_name: ListName = "ofac-sdn") -> None:
    """Load a list as its new version (all or nothing), audited; then rescreen every customer."""
    from tradeguard.cli.customer_screening import customers_screening  # noqa: PLC0415 - start-up

    with customers_screening() as screening, progress_bar() as bar:
        task = bar.add_task("rescreening", total=screening.party_count())
        report = screening.load(
            directory, list_name, operator(), lambda done: bar.advance(task, done)
        )
    for line in _load_lines(report):
        typer.echo(line)


@app.command("screen")
def screen(source: BatchIn, out: BatchOut) -> None:
    """Screen every row of a CSV file; one JSON line per row, in input order."""
    rows = read_batch(_text(source))
    with command_runtime() as runtime:
        screener = _screening(runtime).screener()
        with progress_bar() as bar:
            task = bar.add_task("screening", total=len(rows))
            lines = []
            for line in screened_lines(rows, screener.screen):
                lines.append(line)
                bar.advance(task)
    write_atomically(out, "".join(f"{line}\n" for line in lines).encode())
    matches = sum(1 for line in lines if json.loads(line)["match"])
    typer.echo(f"screened {len(lines)} rows: {matches} potential matches -> {out}")


@app.command("rescreen")
def rescreen() -> None:
    """Screen every customer again against the current lists; hits go to review."""
    from tradeguard.cli.customer_screening import customers_screening  # noqa: PLC0415 - start-up

    with customers_screening() as screening, progress_bar() as bar:
        task = bar.add_task("rescreening", total=screening.party_count())
        report = screening.rescreen(operator(), lambda done: bar.advance(task, done))
    for line in _rescreen_lines(report):
        typer.echo(line)


@app.command("versions")
def versions() -> None:
    """The current version of every loaded list."""
    with command_runtime() as runtime:
        current = _screening(runtime).versions()
    if not current:
        typer.echo("no list loaded")
    for version in current:
        typer.echo(
            f"{version.list_name} {version.id} loaded {ns_to_rfc3339(version.loaded_at_ns)} "
            f"by {version.loaded_by}: {version.entry_count} entries, "
            f"{version.alias_count} aliases, {version.address_count} addresses"
        )


def _screening(runtime: CommandRuntime) -> SanctionsScreening:
    """Screening alone (a batch file, the versions): no customers, no desk."""
    return screening_over(runtime.settings, runtime.sessions, runtime.audit, runtime.clock)


def _text(source: Path) -> str:
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise TradeGuardError(f"cannot read {source}: {exc.strerror}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TradeGuardError(f"{source} is not UTF-8 text") from None


def _load_lines(report: LoadReport) -> list[str]:
    head = (
        f"loaded {report.list_name} version {report.version_id}: {report.entries} entries, "
        f"{report.aliases} aliases, {report.addresses} addresses"
    )
    lines = [
        head,
        *(f"  {name} sha256 {digest}" for name, digest in sorted(report.file_hashes.items())),
    ]
    if report.replaced:
        lines.append(f"  replaces version {report.replaced}")
    if report.rescreen is not None:
        lines.extend(_rescreen_lines(report.rescreen))
    return lines


def _rescreen_lines(report: RescreenReport) -> list[str]:
    """How many customers were screened, then each potential match for review."""
    lines = [f"rescreened {report.screened} customers: {report.hits} potential matches"]
    for hit in report.found:
        found = hit.decision
        lines.append(
            f"  application {hit.party_id}: {found.list_name} entry {found.ent_num} "
            f"{found.matched_name!r}, score {found.score:.2f}"
        )
    return lines
