"""``tradeguard instruments`` (reference data) and ``tradeguard accounts`` (brokerage accounts)."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, Annotated

import typer
from sqlalchemy.orm import Session, sessionmaker

from tradeguard.audit.recorder import AuditTrail
from tradeguard.audit.records import Actor
from tradeguard.cli.access_commands import printable, table
from tradeguard.cli.runtime import command_runtime, operator
from tradeguard.cli.users_commands import identity_of
from tradeguard.core.clock import Clock, ns_to_rfc3339
from tradeguard.core.errors import TradeGuardError
from tradeguard.core.money import Money, Price
from tradeguard.db.session import transaction
from tradeguard.identity.accounts import Accounts, normalize_email
from tradeguard.kyc.records import record_staff_opening
from tradeguard.risk.model import AccountKind
from tradeguard.trading.models import InstrumentRow
from tradeguard.trading.orders.accounts import account_of_user, open_account
from tradeguard.trading.reference_data import (
    SAMPLE_FILE,
    InstrumentFile,
    LoadReport,
    ReferenceDataError,
    all_instruments,
    load_instruments,
    load_sample_if_empty,
    parse_instruments,
    sample_universe,
)

instruments_app = typer.Typer(help="Instrument reference data.", no_args_is_help=True)
accounts_app = typer.Typer(help="Brokerage accounts of users.", no_args_is_help=True)
HEADINGS = ("SYMBOL", "TIER", "TICK", "LOT", "REFERENCE", "RESTRICTED", "THRESHOLD", "ETB")
HEADINGS_AFTER_FLAGS = ("STATUS", "NAME")
NOT_SET = "-"
INIT_ACTOR = Actor.system("cli")

InstrumentsFile = Annotated[
    Path | None, typer.Argument(help="CSV file: symbol,name,tier,tick_size,lot_size,...")
]
UseSample = Annotated[
    bool, typer.Option("--sample", help="Load the sample universe shipped with TradeGuard.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print as a JSON array.")]
Kind = Annotated[AccountKind, typer.Option("--kind", help="cash, or margin (Reg T).")]
Deposit = Annotated[
    str, typer.Option("--deposit", help="Opening settled cash in dollars, e.g. 25000.00.")
]


@instruments_app.command("load")
def load(file: InstrumentsFile = None, sample: UseSample = False) -> None:
    """Validate a CSV file and load it all (insert new, update changed), or nothing."""
    if (file is None) != sample:
        raise TradeGuardError("name a CSV file or pass --sample, not both")
    source = SAMPLE_FILE if file is None else file.name
    parsed = _parsed(sample_universe() if file is None else _opened(file), source)
    with command_runtime() as runtime, transaction(runtime.sessions) as db:
        report = load_instruments(
            db, runtime.audit, runtime.clock, operator(), parsed, source=source
        )
    for line in _report_lines(source, report):
        typer.echo(line)


def _opened(file: Path) -> AbstractContextManager[IO[bytes]]:
    try:
        return file.open("rb")
    except OSError as exc:
        raise TradeGuardError(f"cannot read {file}: {exc.strerror}") from None


def _parsed(opened: AbstractContextManager[IO[bytes]], source: str) -> InstrumentFile:
    """The validated file; every bad line goes to stderr, then the command fails."""
    try:
        with opened as stream:
            return parse_instruments(stream)
    except ReferenceDataError as refused:
        for problem in refused.problems:
            typer.echo(f"{printable(source)}:{problem.line}: {problem.reason}", err=True)
        lines = len({problem.line for problem in refused.problems})
        summary = f"{printable(source)}: {lines} bad line(s); nothing was loaded"
        raise TradeGuardError(summary) from None


def _report_lines(source: str, report: LoadReport) -> list[str]:
    counts = f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged"
    lines = [f"{printable(source)}: {counts} (sha256 {report.sha256})"]
    if report.flag_changes:
        symbols = ", ".join(str(change["symbol"]) for change in report.flag_changes)
        lines.append(f"restricted/threshold/status changed: {symbols}")
    return lines


def seed_sample_universe(sessions: sessionmaker[Session], audit: AuditTrail, clock: Clock) -> str:
    """``tradeguard init``: load the sample universe into an empty table; a line to print."""
    with transaction(sessions) as db:
        report = load_sample_if_empty(db, audit, clock, INIT_ACTOR)
    if report is None:
        return "instruments: reused"
    return f"instruments: sample universe loaded ({report.added} symbols)"


@instruments_app.command("list")
def list_instruments(as_json: AsJson = False) -> None:
    """List the instruments by symbol, as a table or (with --json) JSON."""
    with command_runtime() as runtime, runtime.sessions() as db:
        rows = all_instruments(db)
    if as_json:
        typer.echo(json.dumps([instrument_json(row) for row in rows], indent=2))
    elif not rows:
        typer.echo("no instruments")
    else:
        for line in table([(*HEADINGS, *HEADINGS_AFTER_FLAGS), *map(instrument_cells, rows)]):
            typer.echo(line)


def instrument_cells(row: InstrumentRow) -> tuple[str, ...]:
    """One instrument as the columns of the listing."""
    return (
        row.symbol,
        str(row.tier),
        str(Price(row.tick_size)),
        str(row.lot_size),
        NOT_SET if row.reference_price is None else str(Price(row.reference_price)),
        *(_yes_no(flag) for flag in (row.restricted, row.threshold, row.easy_to_borrow)),
        row.status,
        printable(row.name),
    )


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def instrument_json(row: InstrumentRow) -> dict[str, object]:
    """One instrument as JSON: prices as decimal strings, times as RFC 3339."""
    reference = None if row.reference_price is None else str(Price(row.reference_price))
    stamped = None if row.reference_at_ns is None else ns_to_rfc3339(row.reference_at_ns)
    return {
        "symbol": row.symbol,
        "name": row.name,
        "tier": row.tier,
        "tick_size": str(Price(row.tick_size)),
        "lot_size": row.lot_size,
        "reference_price": reference,
        "reference_at": stamped,
        "restricted": row.restricted,
        "threshold": row.threshold,
        "easy_to_borrow": row.easy_to_borrow,
        "status": row.status,
        "updated_at": ns_to_rfc3339(row.updated_at_ns),
    }


@accounts_app.command("open")
def open_brokerage_account(email: str, kind: Kind, deposit: Deposit = "0.00") -> None:
    """Development shortcut: open a user's account without their application (recorded as such)."""
    cents = _deposit_cents(deposit)
    with command_runtime() as runtime:
        if runtime.settings.is_production:
            raise TradeGuardError(
                "accounts are opened by approving the customer's application in production"
            )
        accounts = Accounts(identity_of(runtime))
        with transaction(runtime.sessions) as db:
            user = accounts.find_by_email(db, normalize_email(email))
            if user is None:
                raise TradeGuardError("no user has that email address")
            if account_of_user(db, user.id) is not None:
                raise TradeGuardError(f"{user.username} already has a brokerage account")
            account = open_account(
                db,
                runtime.audit,
                runtime.clock,
                operator(),
                user_id=user.id,
                kind=kind,
                deposit_cents=cents,
            )
            record_staff_opening(db, runtime.audit, runtime.clock, operator(), user.id, account)
    typer.echo(f"{kind.value} account {account.id} opened for {user.username}: {Money(cents)}")


def _deposit_cents(text: str) -> int:
    """The opening deposit in cents: a dollar amount of zero or more with at most 2 decimals."""
    try:
        cents = Money.parse(text).cents
    except ValueError:
        cents = -1
    if cents < 0:
        raise TradeGuardError(f"--deposit {text!r} is not a dollar amount like 25000.00")
    return cents
