"""``tradeguard init`` and ``tradeguard serve``: prepare a machine and run the HTTPS server."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from tradeguard.app import DeskMode, build_services, create_app
from tradeguard.cli.desk_process import run_desk_process
from tradeguard.cli.trading_commands import seed_sample_universe
from tradeguard.cli.watch_process import run_watch_process
from tradeguard.config import Settings, load_settings
from tradeguard.core.clock import Clock, SystemClock
from tradeguard.crypto.master_key import ensure_master_key
from tradeguard.crypto.runtime import provision_keys
from tradeguard.db import migrate
from tradeguard.db.engine import build_engine
from tradeguard.db.installation import ensure_installation
from tradeguard.db.session import transaction
from tradeguard.gateway.server import serve as run_server
from tradeguard.gateway.server import serve_on
from tradeguard.gateway.supervisor import serve_layout, worker_count
from tradeguard.gateway.tls import DevCertificatePaths, ensure_dev_certificate
from tradeguard.logs import configure_logging
from tradeguard.trading.channel.catalogue import desk_codec
from tradeguard.trading.channel.client import DeskChannel
from tradeguard.vault.certificates import IssuingAuthority, ensure_client_certificate
from tradeguard.wiring import build_core


def register(app: typer.Typer) -> None:
    """Add ``init`` and ``serve`` (and the processes ``serve`` starts) to the root command."""
    app.command("init")(init)
    app.command("serve")(serve)
    app.command("desk-process", hidden=True)(desk_process)
    app.command("gateway-worker", hidden=True)(gateway_worker)
    app.command("watch-process", hidden=True)(watch_process)


def init() -> None:
    """Create what a first run needs (keys, dev certificate, database); reuse what exists."""
    settings, clock = load_settings(), SystemClock()
    settings.var_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _, created = ensure_master_key(settings.effective_master_key_file, clock, settings.env)
    _report("master key", settings.effective_master_key_file, created=created)
    if settings.tls_cert_file is None:
        status = ensure_dev_certificate(settings.tls_dir, clock.now())
        typer.echo(f"development certificate {settings.tls_dir}: {status}")
        ca = DevCertificatePaths.under(settings.tls_dir)
        authority = IssuingAuthority(ca.ca_cert, ca.ca_key)
        issued = ensure_client_certificate(authority, settings.tls_dir, clock.now())
        _report("payment vault client certificate", settings.tls_dir, created=issued)
    _init_database(settings, clock)


def _init_database(settings: Settings, clock: Clock) -> None:
    engine = build_engine(settings.effective_database_url)
    try:
        migrate.upgrade(engine)
        core = build_core(settings, clock, engine)
        with transaction(core.sessions) as session:
            installation, created = ensure_installation(session, clock, settings.env)
            keysets = provision_keys(core.crypto, session)
        typer.echo(f"database at revision {migrate.current_revision(engine)}")
        _report("installation", installation.id, created=created)
        typer.echo(f"keys: {len(keysets)} created" if keysets else "keys: reused")
        typer.echo(seed_sample_universe(core.sessions, core.audit, clock))
    finally:
        engine.dispose()


def _report(what: str, where: object, *, created: bool) -> None:
    typer.echo(f"{what} {where}: {'created' if created else 'reused'}")


def serve() -> None:
    """Serve the API over HTTPS only (TLS 1.2+, 1.3 preferred) on the configured address.

    With ``serve_workers`` other than 1: one gateway worker per core (or as many as set)
    and one desk process, supervised; with 1, one process holds everything.
    """
    settings = _logged_settings()
    if worker_count(settings) == 1:
        run_server(create_app(settings), settings)
        return
    _refuse_early(settings)
    serve_layout(settings)


def _refuse_early(settings: Settings) -> None:
    """Make the processes' start-up checks (keys, migrations, durability) here, once.

    A refusal then says why, instead of that a child process exited.
    """
    build_services(settings, clock=SystemClock(), engine=None).engine.dispose()


def desk_process(
    watchers_apart: Annotated[
        bool, typer.Option(help="The watchers run in the watch process: nudge it, run none here")
    ] = False,
) -> None:
    """The desk process of ``serve``: the single writer of trading state, on its socket."""
    run_desk_process(_logged_settings(), watchers_apart=watchers_apart)


def watch_process() -> None:
    """The watch process of ``serve``: the embedded watchers, nudged by the desk process."""
    run_watch_process(_logged_settings())


def gateway_worker(
    listen_fd: Annotated[int, typer.Option(help="The HTTPS socket the supervisor bound")],
) -> None:
    """A gateway worker of ``serve``: TLS, HTTP and the gate; the desk over its channel."""
    settings = _logged_settings()
    channel = DeskChannel(
        settings.effective_desk_socket, desk_codec(), settings.desk_call_timeout_seconds
    )
    app = create_app(settings, desk=DeskMode(channel=channel))
    serve_on(app, settings, socket.socket(fileno=listen_fd))


def _logged_settings() -> Settings:
    settings = load_settings()
    configure_logging(level=settings.log_level, json=settings.log_format == "json")
    return settings
