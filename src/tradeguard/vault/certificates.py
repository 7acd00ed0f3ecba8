"""The main service's client certificate for the vault, issued by the development CA."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tradeguard.core.secure_files import PUBLIC_MODE, write_atomically

CLIENT_NAME = "tradeguard-api"
CLIENT_LIFETIME = timedelta(days=90)


@dataclass(frozen=True, slots=True)
class ClientCertificatePaths:
    """The vault client's certificate and key beside the development CA."""

    cert: Path
    key: Path

    @classmethod
    def under(cls, tls_dir: Path) -> ClientCertificatePaths:
        """The standard file names inside ``tls_dir``."""
        return cls(cert=tls_dir / "vault-client.pem", key=tls_dir / "vault-client.key")


@dataclass(frozen=True, slots=True)
class IssuingAuthority:
    """The development CA's certificate and key files."""

    cert: Path
    key: Path


def ensure_client_certificate(ca: IssuingAuthority, tls_dir: Path, now: datetime) -> bool:
    """Issue the client certificate if absent or within 30 days of expiry; True if issued."""
    paths = ClientCertificatePaths.under(tls_dir)
    if paths.cert.exists() and paths.key.exists():
        current = x509.load_pem_x509_certificate(paths.cert.read_bytes())
        if current.not_valid_after_utc - now > timedelta(days=30):
            return False
    issue_client_certificate(ca, paths, now)
    return True


def issue_client_certificate(
    ca: IssuingAuthority, target: ClientCertificatePaths, now: datetime
) -> None:
    """Sign a client-authentication certificate for the main service with the CA's key."""
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{ca.key} is not an ECDSA key")
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    organization = ca_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, str(organization)),
            x509.NameAttribute(NameOID.COMMON_NAME, CLIENT_NAME),
        ]
    )
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CLIENT_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_atomically(target.key, key_pem)
    write_atomically(target.cert, certificate.public_bytes(serialization.Encoding.PEM), PUBLIC_MODE)
