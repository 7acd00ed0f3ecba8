"""Real servers on loopback for the notify tests: SMTP (aiosmtpd), an SMS provider, TLS material."""

from __future__ import annotations

import email
import email.policy
import io
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOOPBACK = "127.0.0.1"
SMTP_LOGIN = "alerts"
SMTP_PASSWORD = "correct horse battery"


def log_events(buffer: io.StringIO, event: str) -> list[dict[str, Any]]:
    """The JSON log lines in ``buffer`` whose event is ``event``."""
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    return [line for line in lines if line.get("event") == event]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _ca_certificate(key: ec.EllipticCurvePrivateKey, now: datetime) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(_name("notify test CA"))
        .issuer_name(_name("notify test CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def _server_certificate(
    key: ec.EllipticCurvePrivateKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca: x509.Certificate,
    now: datetime,
) -> x509.Certificate:
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
    return (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def make_tls_files(directory: Path) -> TlsFiles:
    """A throwaway CA and a server certificate for localhost and 127.0.0.1."""
    # OpenSSL checks validity against the real wall clock, so the test clock cannot be used.
    now = datetime.now(UTC)
    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = _ca_certificate(ca_key, now)
    server = _server_certificate(server_key, ca_key, ca, now)
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(_pem(server_key))
    return files


@dataclass
class RecordingHandler:
    """An aiosmtpd handler that keeps every accepted envelope."""

    envelopes: list[Envelope] = field(default_factory=list)
    logins: list[bytes] = field(default_factory=list)

    async def handle_DATA(  # noqa: N802 - the aiosmtpd hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        del server, session
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        del server, session, envelope, mechanism
        accepted = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_LOGIN.encode(),
            SMTP_PASSWORD.encode(),
        )
        if accepted:
            self.logins.append(data.login)
        return AuthResult(success=accepted, handled=False)

    def only_message(self) -> MimeMessage:
        assert len(self.envelopes) == 1, self.envelopes
        content = self.envelopes[0].original_content or b""
        parsed = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(parsed, MimeMessage)
        return parsed


@dataclass(frozen=True)
class SMTPHandle:
    port: int
    handler: RecordingHandler


@contextmanager
def smtp_server(**options: Any) -> Iterator[SMTPHandle]:
    """An aiosmtpd server on a free loopback port; ``options`` go to aiosmtpd's SMTP class."""
    handler = RecordingHandler()
    if options.pop("with_auth", False):
        options.update(authenticator=handler.authenticate, auth_required=True)
    port = free_port()
    controller = Controller(handler, hostname=LOOPBACK, port=port, **options)
    controller.start()
    try:
        yield SMTPHandle(port, handler)
    finally:
        controller.stop()


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class SmsProviderServer(ThreadingHTTPServer):
    """A fake SMS provider: records every request and answers with a chosen status."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((LOOPBACK, 0), _SmsProviderHandler)
        self.requests: list[ReceivedRequest] = []
        self.status = 202
        self.location: str | None = None
        self.scheme = "http"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{LOOPBACK}:{self.server_address[1]}"


class _SmsProviderHandler(BaseHTTPRequestHandler):
    server: SmsProviderServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.server.requests.append(ReceivedRequest(self.path, dict(self.headers), body))
        answer = b'{"id": "msg-1"}'
        self.send_response(self.server.status)
        if self.server.location is not None:
            self.send_header("Location", self.server.location)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_GET = do_POST  # noqa: N815 - a followed redirect may arrive as GET

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base signature
        del format, args


@contextmanager
def sms_provider(tls: TlsFiles | None = None) -> Iterator[SmsProviderServer]:
    """A running fake SMS provider on a loopback port, over HTTPS when ``tls`` is given."""
    server = SmsProviderServer()
    if tls is not None:
        server.socket = tls.server_context().wrap_socket(server.socket, server_side=True)
        server.scheme = "https"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
