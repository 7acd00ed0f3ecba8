"""The HTTPS server: uvicorn with TradeGuard's TLS context and connection limits."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from tradeguard.config import Settings
from tradeguard.core.errors import StartupError
from tradeguard.tls import DevCertificatePaths, server_ssl_context

MAX_HEADER_BYTES = 16 * 1024


def certificate_files(settings: Settings) -> tuple[Path, Path]:
    """The certificate chain and key to serve: configured ones, else the development pair."""
    if settings.tls_cert_file is not None and settings.tls_key_file is not None:
        cert, key = settings.tls_cert_file, settings.tls_key_file
    else:
        dev = DevCertificatePaths.under(settings.tls_dir)
        cert, key = dev.cert, dev.key
    for path in (cert, key):
        if not path.exists():
            raise StartupError(f"TLS file {path} does not exist: run `tradeguard init`")
    return cert, key


def server_config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    """A uvicorn configuration that serves ``app`` over HTTPS only."""
    cert, key = certificate_files(settings)

    def tls_context(
        _config: uvicorn.Config, _default: Callable[[], ssl.SSLContext]
    ) -> ssl.SSLContext:
        return server_ssl_context(cert, key)

    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        ssl_certfile=cert,
        ssl_keyfile=key,
        ssl_context_factory=tls_context,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
    )


def serve(app: FastAPI, settings: Settings) -> None:
    """Run the HTTPS server until interrupted."""
    uvicorn.Server(server_config(app, settings)).run()
