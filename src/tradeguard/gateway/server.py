"""The HTTPS server: uvicorn with TradeGuard's TLS context and connection limits.

The limits of a request once it is in (body size, header count, slow bodies, the response
deadline) are the application's (``tradeguard.gateway.request_limits``); those of the
connection (how long and how large a request head may be, how many connections) are the
protocol's (``tradeguard.gateway.http_protocol``). WebSocket upgrades pass the same limits
and run uvicorn's sans-I/O WebSocket protocol (``tradeguard.gateway.websocket_upgrade``);
messages are capped at ``feed_max_message_bytes`` and not compressed (no compression
oracle, no inflate cost per connection).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from tradeguard.config import Settings
from tradeguard.core.collector import freeze_startup_heap
from tradeguard.core.errors import StartupError
from tradeguard.gateway.http_protocol import ConnectionLimits
from tradeguard.gateway.tls import DevCertificatePaths, server_ssl_context
from tradeguard.gateway.websocket_upgrade import (
    ShutdownSafeWebSocketProtocol,
    protocol_with_websockets,
)

WEBSOCKET_PING_SECONDS = 20.0
"""A WebSocket peer is pinged this often and dropped if its pong takes longer."""


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
        http=protocol_with_websockets(
            ConnectionLimits.from_settings(settings), settings.feed_max_connections
        ),
        ws=ShutdownSafeWebSocketProtocol,
        ws_max_size=settings.feed_max_message_bytes,
        ws_per_message_deflate=False,
        ws_ping_interval=WEBSOCKET_PING_SECONDS,
        ws_ping_timeout=WEBSOCKET_PING_SECONDS,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=False,
        timeout_keep_alive=settings.keep_alive_seconds,
        timeout_graceful_shutdown=10,
        backlog=settings.listen_backlog,
    )


def serve(app: FastAPI, settings: Settings) -> None:
    """Run the HTTPS server until interrupted."""
    freeze_startup_heap()
    uvicorn.Server(server_config(app, settings)).run()


def serve_on(app: FastAPI, settings: Settings, listener: socket.socket) -> None:
    """Run the HTTPS server on a socket already bound (a gateway worker's) until stopped."""
    freeze_startup_heap()
    uvicorn.Server(server_config(app, settings)).run(sockets=[listener])
