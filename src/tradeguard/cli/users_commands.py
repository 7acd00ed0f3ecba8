"""``tradeguard users``: suspend and reactivate accounts (operators, before the admin API)."""

from __future__ import annotations

import getpass
from functools import partial
from typing import Annotated

import typer

from tradeguard.access.grants import active_grants_of
from tradeguard.audit.records import Actor
from tradeguard.cli.runtime import CommandRuntime, command_runtime
from tradeguard.config import Settings
from tradeguard.core.errors import TradeGuardError
from tradeguard.db.session import transaction
from tradeguard.identity.accounts import Accounts
from tradeguard.identity.events import AuthEvents
from tradeguard.identity.kit import Identity, IdentityParts, build_identity, build_recipient_cap
from tradeguard.identity.notices import Outgoing
from tradeguard.identity.origin import Origin
from tradeguard.identity.session_news import (
    SESSION_NEWS_CHANNEL,
    DeskSessionNews,
    Forget,
    RedisSessionNews,
    SessionNews,
)
from tradeguard.identity.sessions import ACTIVE, SUSPENDED
from tradeguard.notify.notifier import build_notifier
from tradeguard.ratelimit.counters import MemoryCounters
from tradeguard.shared_state import connect_redis, shared_key
from tradeguard.trading.channel.catalogue import desk_codec
from tradeguard.trading.channel.client import DeskChannel
from tradeguard.trading.channel.server import socket_answers

app = typer.Typer(help="Suspend and reactivate accounts.", no_args_is_help=True)
Reason = Annotated[str, typer.Option("--reason", help="Why (recorded in the audit trail).")]
COMMAND_ORIGIN = Origin(ip=None, user_agent="tradeguard-cli", accept_language="", request_id=None)


@app.command("suspend")
def suspend(username: str, reason: Reason) -> None:
    """Suspend an account: every session ends at once and sign-in is refused."""
    _set_status(username, SUSPENDED, reason)
    typer.echo(f"{username} suspended; every session ended")


@app.command("reactivate")
def reactivate(username: str, reason: Reason) -> None:
    """Let a suspended account sign in again (its old sessions stay ended)."""
    _set_status(username, ACTIVE, reason)
    typer.echo(f"{username} reactivated")


def _set_status(username: str, status: str, reason: str) -> None:
    with command_runtime() as runtime:
        accounts = Accounts(identity_of(runtime))
        with transaction(runtime.sessions) as db:
            user = accounts.find_by_login(db, username)
            if user is None:
                raise TradeGuardError(f"no account named {username!r}")
            operator = Actor("staff", f"cli:{getpass.getuser()}")
            accounts.set_status(db, user, status, COMMAND_ORIGIN, by=operator, reason=reason)


def identity_of(runtime: CommandRuntime) -> Identity:
    """The identity services of a command, sending through the configured notifier."""
    # A command is one short process: its cap counts in memory, on top of the service's.
    cap = build_recipient_cap(runtime.settings, runtime.crypto, runtime.audit, MemoryCounters())
    outgoing = Outgoing(build_notifier(runtime.settings, runtime.clock), cap)
    outgoing.install(runtime.sessions)
    parts = IdentityParts(
        settings=runtime.settings,
        clock=runtime.clock,
        sessions_factory=runtime.sessions,
        crypto=runtime.crypto,
        events=AuthEvents(runtime.audit),
        outgoing=outgoing,
        active_grants=active_grants_of,
    )
    identity = build_identity(parts)
    cache = identity.sessions.cache
    cache.news = _running_service(runtime.settings, cache.forget)
    return identity


def _running_service(settings: Settings, forget: Forget) -> SessionNews | None:
    """Where a command tells the running service of a session-state change it commits.

    Through Redis when configured, else through the desk process of gateway workers when
    its socket answers; a single process without either keeps states for a second.
    """
    shared = connect_redis(settings)
    if shared is not None:
        return RedisSessionNews(shared, shared_key(settings, SESSION_NEWS_CHANNEL), forget)
    path = settings.effective_desk_socket
    if not socket_answers(path):
        return None
    channel = DeskChannel(path, desk_codec(), settings.desk_call_timeout_seconds)
    return DeskSessionNews(partial(channel.call, "sessions.changed"), lambda: True)
