"""``tradeguard payments``: the payment vault process and its sandbox processor."""

from __future__ import annotations

import ctypes
import signal
import ssl
import subprocess
import sys
from urllib.parse import urlsplit

import typer

from tradeguard.core.clock import SystemClock
from tradeguard.gateway.tls import DevCertificatePaths, ensure_dev_certificate, server_ssl_context
from tradeguard.logs import configure_logging
from tradeguard.vault import sandbox, server
from tradeguard.vault.settings import VaultSettings

PR_SET_PDEATHSIG = 1  # prctl(2): the signal a child gets when its parent ends

app = typer.Typer(help="The payment vault: a separate process with its own database and keys.")


@app.command("serve")
def serve() -> None:
    """Run the vault: mutual-TLS API for the main service, and the card intake endpoint.

    In development (``TRADEGUARD_PAYMENTS_SANDBOX_PROCESSOR``, the default) it also runs
    the sandbox processor on loopback, at the port of ``processor_api_base``.
    """
    settings = VaultSettings()
    configure_logging(level="INFO")
    ensure_dev_certificate(settings.tls_dir, SystemClock().now())
    processor = _start_sandbox(settings) if settings.sandbox_processor else None
    try:
        server.serve(settings, vault_tls(DevCertificatePaths.under(settings.tls_dir)))
    finally:
        if processor is not None:
            processor.terminate()
            processor.wait(10)


@app.command("sandbox")
def run_sandbox(port: int = 8420) -> None:
    """Run only the sandbox processor on 127.0.0.1:PORT (development and tests)."""
    sandbox.run(port)


def vault_tls(paths: DevCertificatePaths) -> server.VaultTls:
    """The HTTPS server's TLS; the internal listener also requires a development-CA client."""
    internal = server_ssl_context(paths.cert, paths.key)
    internal.verify_mode = ssl.CERT_REQUIRED
    internal.load_verify_locations(cafile=paths.ca_cert)
    return server.VaultTls(
        paths.cert, paths.key, internal, server_ssl_context(paths.cert, paths.key)
    )


def _start_sandbox(settings: VaultSettings) -> subprocess.Popen[bytes]:
    port = urlsplit(settings.processor_api_base).port or 8420
    command = [sys.executable, "-m", "tradeguard.vault.sandbox", "--port", str(port)]
    return subprocess.Popen(command, preexec_fn=_end_with_parent)  # noqa: S603, PLW1509 - our own module; set before exec


def _end_with_parent() -> None:
    """In the sandbox's process before exec: SIGTERM it when the vault ends, however it ends.

    The HTTP server raises a stop signal again after its graceful shutdown, so the vault may
    end without running its ``finally``; on Linux the kernel then stops the sandbox too.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
