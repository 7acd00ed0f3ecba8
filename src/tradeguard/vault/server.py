"""``tradeguard payments serve``: the vault's two listeners in one process.

The internal listener demands a client certificate issued by the development CA (TLS
1.2+, the server suites of ``tradeguard.gateway.tls``); a client without one, or with
one from another CA, fails the handshake. The intake listener is TLS without client
certificates and serves only the tokenization endpoint.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from tradeguard.core.clock import Clock, SystemClock
from tradeguard.core.errors import StartupError
from tradeguard.db.engine import build_engine
from tradeguard.db.session import session_factory
from tradeguard.gateway.tls import DevCertificatePaths, server_ssl_context
from tradeguard.vault.api import intake_app, internal_app
from tradeguard.vault.keys import load_vault_keys
from tradeguard.vault.processor import StripeProcessor
from tradeguard.vault.service import VaultService
from tradeguard.vault.settings import VaultSettings
from tradeguard.vault.store import VaultBase


def mutual_tls_context(paths: DevCertificatePaths) -> ssl.SSLContext:
    """The server context of ``server_ssl_context`` that also requires a client certificate."""
    context = server_ssl_context(paths.cert, paths.key)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=paths.ca_cert)
    return context


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
    keys = load_vault_keys(settings.key_file, clock, "development")
    service = VaultService(
        session_factory(engine), keys, processor, clock, settings.intake_ticket_seconds
    )
    return service, engine


def _config(
    app: FastAPI, host: str, port: int, context: ssl.SSLContext, paths: DevCertificatePaths
) -> uvicorn.Config:
    def factory(_config: uvicorn.Config, _default: Callable[[], ssl.SSLContext]) -> ssl.SSLContext:
        return context

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=paths.cert,
        ssl_keyfile=paths.key,
        ssl_context_factory=factory,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )


def vault_servers(
    settings: VaultSettings, service: VaultService
) -> tuple[uvicorn.Server, uvicorn.Server]:
    """The internal (mutual TLS) and intake (TLS) servers."""
    paths = DevCertificatePaths.under(settings.tls_dir)
    for path in (paths.ca_cert, paths.cert, paths.key):
        if not Path(path).exists():
            raise StartupError(f"TLS file {path} does not exist: run `tradeguard init`")
    internal = uvicorn.Server(
        _config(
            internal_app(service), settings.host, settings.port, mutual_tls_context(paths), paths
        )
    )
    intake = uvicorn.Server(
        _config(
            intake_app(service, settings.allowed_origins, settings.max_body_bytes),
            settings.host,
            settings.intake_port,
            server_ssl_context(paths.cert, paths.key),
            paths,
        )
    )
    return internal, intake


def serve(settings: VaultSettings) -> None:
    """Run both listeners until interrupted (the intake one holds the signal handlers)."""
    service, engine = build_vault(settings)
    internal, intake = vault_servers(settings, service)
    thread = threading.Thread(target=internal.run, name="vault-internal", daemon=True)
    thread.start()
    try:
        intake.run()
    finally:
        internal.should_exit = True
        thread.join(10)
        engine.dispose()
