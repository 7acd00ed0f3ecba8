"""TLS for FIX sessions on loopback: a simulated venue's own certificate, trusted by name.

A simulated venue makes a fresh key and a self-signed certificate for 127.0.0.1 when
it starts (kept in memory and a private temporary directory, never reused); its
initiators trust exactly that certificate and check the address. TLS 1.2 at least.
"""

from __future__ import annotations

import ipaddress
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"
LIFETIME = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class VenueCertificate:
    """A venue's certificate (PEM) and the contexts both sides use with it."""

    pem: bytes
    server: ssl.SSLContext

    def client(self) -> ssl.SSLContext:
        """An initiator's context that trusts this certificate only, for 127.0.0.1."""
        context = ssl.create_default_context(cadata=self.pem.decode())
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context


def venue_certificate(name: str) -> VenueCertificate:
    """A new key and self-signed certificate for a venue on loopback."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} simulated venue")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + LIFETIME)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="tg-venue-") as folder:
        cert_file, key_file = Path(folder) / "venue.pem", Path(folder) / "venue.key"
        cert_file.write_bytes(pem)
        key_file.touch(mode=0o600)
        key_file.write_bytes(key_pem)
        server.load_cert_chain(certfile=cert_file, keyfile=key_file)
    return VenueCertificate(pem, server)
