"""``tradeguard audit search`` and ``tradeguard audit report``: find events, sign period reports."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated

import typer
from pydantic import ValidationError

from tradeguard.audit.report import (
    PeriodKind,
    ReportContext,
    period_containing,
    previous_period,
    render_text,
    signed_report,
)
from tradeguard.audit.search import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    AuditPage,
    AuditQuery,
    events_csv,
    parse_rfc3339_ns,
    search,
)
from tradeguard.cli.runtime import command_runtime
from tradeguard.core.canonical_json import canonical_dumps

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
OPTION_NAMES = {
    "since_ns": "--from",
    "until_ns": "--to",
    "event_type": "--type",
    "actor_id": "--actor",
}


def register(app: typer.Typer) -> None:
    """Add the ``search`` and ``report`` commands to the ``audit`` command group."""
    app.command("search")(search_command)
    app.command("report")(report_command)


def search_command(  # noqa: PLR0913 - one parameter per command-line option
    *,
    since: Annotated[
        str | None, typer.Option("--from", help="RFC 3339 start (inclusive).", show_default=False)
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help="RFC 3339 end (exclusive).", show_default=False)
    ] = None,
    event_type: Annotated[
        str | None, typer.Option("--type", help="Event type, or a prefix like key.*.")
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Actor id.")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Subject.")] = None,
    request_id: Annotated[str | None, typer.Option("--request-id", help="Request id.")] = None,
    after_seq: Annotated[int, typer.Option("--after-seq", min=0, help="Cursor.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = DEFAULT_LIMIT,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV instead of JSON lines.")] = False,
) -> None:
    """Search audit events (JSON lines, or CSV); the next page's cursor goes to stderr."""
    try:
        query = AuditQuery(
            since_ns=_time(since, "--from"),
            until_ns=_time(until, "--to"),
            event_type=event_type,
            actor_id=actor,
            subject=subject,
            request_id=request_id,
            after_seq=after_seq,
            limit=limit,
        )
    except ValidationError as exc:
        raise typer.BadParameter(_first_error(exc)) from None
    with command_runtime() as runtime, runtime.sessions() as session:
        page = search(session, query)
    _print_page(page, as_csv=as_csv)


def report_command(
    period: Annotated[PeriodKind, typer.Option(help="Reporting period (UTC).")],
    on: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="YYYY-MM-DD inside the period; default: the previous complete period.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the signed JSON.")] = False,
) -> None:
    """Signed report of one day, month or year: counts, checkpoints, verification, retention."""
    day = _date(on)
    with command_runtime() as runtime, runtime.sessions() as session:
        chosen = (
            previous_period(period, runtime.clock.now().date())
            if day is None
            else period_containing(period, day)
        )
        if chosen.start_ns > runtime.clock.now_ns():  # a signed report of nothing yet
            raise typer.BadParameter(
                f"the {period.value} {chosen.label} has not begun yet", param_hint="--date"
            )
        context = ReportContext(
            engine=runtime.engine,
            witness=runtime.audit.witness,
            signing=runtime.crypto.signing,
            retention_years=runtime.settings.audit_retention_years,
            now_ns=runtime.clock.now_ns(),
        )
        document = signed_report(session, context, chosen)
    if as_json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        typer.echo(render_text(document), nl=False)


def _print_page(page: AuditPage, *, as_csv: bool) -> None:
    if as_csv:
        typer.echo(events_csv(page.events), nl=False)
    else:
        for event in page.events:
            typer.echo(canonical_dumps(event.to_json()).decode("utf-8"))
    if page.next_after_seq is not None:
        typer.echo(f"more events: --after-seq {page.next_after_seq}", err=True)


def _time(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_rfc3339_ns(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    if not ISO_DATE.fullmatch(value):
        raise typer.BadParameter(f"{value[:40]!r} is not YYYY-MM-DD", param_hint="--date")
    try:
        day = date.fromisoformat(value)
        period_containing(PeriodKind.DAY, day)  # refuses years a report cannot cover
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--date") from None
    return day


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_input=False)[0]
    field = str(error["loc"][0]) if error["loc"] else "query"
    return f"{OPTION_NAMES.get(field, '--' + field.replace('_', '-'))}: {error['msg']}"
