"""``tradeguard staff``: the first administrator, and invitations of new staff.

``bootstrap-admin EMAIL`` prints (and emails) the first administrator's one-time
enrolment link; it is refused once an administrator exists. ``invite EMAIL --role R --as
ADMIN`` is an administrator's: the person at the terminal names the administrator account
they act as (recorded with their login, and that administrator is emailed about it). An
invitation of an administrator waits for a second administrator's approval through the
admin API. ``invites`` lists them. Refusals print their reason code and what to do next.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import typer

from tradeguard.access.models import StaffInvite
from tradeguard.access.staff_invites import (
    InviteRequest,
    IssuedInvite,
    Operator,
    StaffInvites,
    status_of,
)
from tradeguard.audit.records import Actor
from tradeguard.cli.access_commands import printable, table
from tradeguard.cli.runtime import CommandRuntime, command_runtime
from tradeguard.cli.users_commands import COMMAND_ORIGIN, identity_of
from tradeguard.core.clock import ns_to_rfc3339
from tradeguard.core.errors import ProblemError, TradeGuardError
from tradeguard.core.permissions import AccessLevel, Role
from tradeguard.db.session import transaction
from tradeguard.identity.service import IdentityService
from tradeguard.notify.messages import mask_email

app = typer.Typer(
    help="Staff accounts: the first administrator, and invitations.", no_args_is_help=True
)
HEADINGS = ("INVITE", "EMAIL", "ROLE", "LEVEL", "STATUS", "EXPIRES", "REQUESTED BY")
NOT_SET = "-"


class InviteRole(StrEnum):
    """The roles an invitation gives, as typed on the command line."""

    COMPLIANCE = "compliance"
    SUPPORT = "support"
    ADMIN = "admin"


Email = Annotated[str, typer.Argument(help="The new staff member's address (the link goes there).")]
RoleOption = Annotated[InviteRole, typer.Option("--role", help="The staff role to give.")]
LevelOption = Annotated[
    AccessLevel | None,
    typer.Option("--level", help="Access level (default: admin for admin, else read-only)."),
]
ActingAs = Annotated[
    str,
    typer.Option(
        "--as", help="Your TradeGuard username: an administrator with a registered security key."
    ),
]
ShowAll = Annotated[bool, typer.Option("--all", help="Every invitation, also closed ones.")]


@dataclass(frozen=True, slots=True)
class StaffRuntime:
    """A command's runtime and the invitation service over it."""

    runtime: CommandRuntime
    invites: StaffInvites


@contextmanager
def staff_runtime() -> Iterator[StaffRuntime]:
    """The configured database and keys, with identity sending through the notifier."""
    with command_runtime() as runtime:
        service = IdentityService.over(identity_of(runtime))
        yield StaffRuntime(runtime, StaffInvites(service, runtime.audit))


@contextmanager
def refusals() -> Iterator[None]:
    """A refusal as one line: its reason code, then what it says to do."""
    try:
        yield
    except ProblemError as refused:
        raise TradeGuardError(f"{refused.reason_code}: {refused.detail}") from None


def terminal_operator() -> Operator:
    """The person running the command, as the audit trail names them."""
    return Operator(Actor("staff", f"cli:{getpass.getuser()}"), COMMAND_ORIGIN)


@app.command("bootstrap-admin")
def bootstrap_admin(email: Email) -> None:
    """Create the first administrator's one-time enrolment link (refused once one exists)."""
    with staff_runtime() as staff, refusals(), transaction(staff.runtime.sessions) as db:
        issued = staff.invites.bootstrap_admin(db, email, terminal_operator())
    typer.echo(f"first administrator: {mask_email(email.strip())} (ADMIN, admin)")
    _echo_link(issued)


@app.command("invite")
def invite(email: Email, role: RoleOption, acting_as: ActingAs, level: LevelOption = None) -> None:
    """Invite a staff member; an administrator waits for a second administrator's approval."""
    wanted = InviteRequest(email, Role(role.value.upper()), level)
    with staff_runtime() as staff, refusals(), transaction(staff.runtime.sessions) as db:
        admin = staff.invites.acting_admin(db, acting_as, terminal_operator())
        issued = staff.invites.invite(db, admin, wanted, terminal_operator())
    grant = f"{issued.invite.role} ({issued.invite.access_level})"
    typer.echo(f"invitation {issued.invite.id} of {mask_email(email.strip())} as {grant}")
    if issued.link is None:
        typer.echo(
            "awaits a second administrator: they approve it with "
            f"POST /v1/admin/staff/invites/{issued.invite.id}/approve; the link is then emailed"
        )
        return
    if issued.sole_admin:
        typer.echo("no second administrator exists to approve it: compliance was told")
    _echo_link(issued)


@app.command("invites")
def invites(show_all: ShowAll = False) -> None:
    """List the open invitations (with --all, every one), newest first."""
    with staff_runtime() as staff, staff.runtime.sessions() as db:
        listed = staff.invites.listed(db, open_only=not show_all)
        now = staff.runtime.clock.now_ns()
        rows = [invite_row(found, now) for found in listed]
    if not rows:
        typer.echo("no invitations" if show_all else "no open invitations")
        return
    for line in table([HEADINGS, *rows]):
        typer.echo(line)


def invite_row(found: StaffInvite, now_ns: int) -> tuple[str, ...]:
    """One invitation as the columns of the listing (the address masked)."""
    expires = found.link_expires_at_ns
    return (
        found.id,
        NOT_SET if found.email is None else printable(mask_email(found.email)),
        found.role,
        found.access_level,
        status_of(found, now_ns),
        NOT_SET if expires is None else ns_to_rfc3339(expires),
        found.requested_by or found.kind,
    )


def _echo_link(issued: IssuedInvite) -> None:
    expires = ns_to_rfc3339(issued.invite.link_expires_at_ns or 0)
    typer.echo(f"one-time enrolment link (also emailed; works once, until {expires}):")
    typer.echo(issued.link or "")
    typer.echo("Open it to choose a username and password, then register a security key.")
