"""``tradeguard payments serve``: the vault's two listeners in one process.

The internal listener demands a client certificate issued by the development CA (the
caller builds its context: TLS 1.2+, the HTTPS server's suites, ``CERT_REQUIRED``); a
client without one, or with one from another CA, fails the handshake. The intake
listener is TLS without client certificates and serves only the tokenization endpoint.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from tradeguard.core.clock import Clock, SystemClock
from tradeguard.db.engine import build_engine
from tradeguard.db.session import session_factory
from tradeguard.vault.api import intake_app, internal_app
from tradeguard.vault.keys import load_vault_keys
from tradeguard.vault.processor import StripeProcessor
from tradeguard.vault.service import VaultService
from tradeguard.vault.settings import VaultSettings
from tradeguard.vault.store import VaultBase


@dataclass(frozen=True, slots=True)
class VaultTls:
    """The server certificate pair both listeners present, and their TLS contexts."""

    cert: Path
    key: Path
    internal: ssl.SSLContext
    intake: ssl.SSLContext


def build_vault(settings: VaultSettings, clock: Clock | None = None) -> tuple[VaultService, Engine]:
    """The vault's service over its own database (tables created if absent) and keys."""
    clock = clock or SystemClock()
    settings.var_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = build_engine(settings.effective_database_url)
    VaultBase.metadata.create_all(engine)
    processor = StripeProcessor(
        settings.processor_api_key.get_secret_value(),
        settings.processor_api_base,
        settings.processor_timeout_seconds,
    )
    keys = load_vault_keys(settings.key_file, clock, settings.env)
    service = VaultService(
        session_factory(engine), keys, processor, clock, settings.intake_ticket_seconds
    )
    return service, engine


INTERNAL_KEEP_ALIVE_SECONDS = 75
"""The main service keeps its connections (dropping them idle after 30 s): held this long."""


def _config(  # noqa: PLR0913 - a listener's parts
    app: FastAPI,
    host: str,
    port: int,
    context: ssl.SSLContext,
    tls: VaultTls,
    *,
    keep_alive_seconds: int = 5,
) -> uvicorn.Config:
    def factory(_config: uvicorn.Config, _default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        return context

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=tls.cert,
        ssl_keyfile=tls.key,
        ssl_context_factory=factory,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=keep_alive_seconds,
        timeout_graceful_shutdown=5,
    )


def vault_servers(
    settings: VaultSettings, service: VaultService, tls: VaultTls
) -> tuple[uvicorn.Server, uvicorn.Server]:
    """The internal (mutual TLS) and intake (TLS) servers."""
    internal_service = internal_app(service)
    internal = uvicorn.Server(
        _config(
            internal_service,
            settings.host,
            settings.port,
            tls.internal,
            tls,
            keep_alive_seconds=INTERNAL_KEEP_ALIVE_SECONDS,
        )
    )
    intake_service = intake_app(service, settings.allowed_origins, settings.max_body_bytes)
    intake = uvicorn.Server(
        _config(intake_service, settings.host, settings.intake_port, tls.intake, tls)
    )
    return internal, intake


def serve(settings: VaultSettings, tls: VaultTls) -> None:
    """Run both listeners until interrupted (the intake one holds the signal handlers)."""
    service, engine = build_vault(settings)
    internal, intake = vault_servers(settings, service, tls)
    thread = threading.Thread(target=internal.run, name="vault-internal", daemon=True)
    thread.start()
    try:
        intake.run()
    finally:
        internal.should_exit = True
        thread.join(10)
        engine.dispose()
