"""TLS: the server context (Mozilla intermediate) and the development certificate authority."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tradeguard.core.secure_files import PUBLIC_MODE, write_atomically

DEV_ORGANIZATION = "TradeGuard Development"
LEAF_LIFETIME = timedelta(days=90)
RENEW_BEFORE_EXPIRY = timedelta(days=30)
CA_LIFETIME = timedelta(days=5 * 365)
SERVER_NAMES = ("localhost",)
SERVER_ADDRESSES = ("127.0.0.1", "::1")

# Mozilla "intermediate" TLS 1.2 suites, narrowed to ECDHE key exchange with AEAD ciphers.
TLS12_CIPHER_SUITES = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
)
# The Python 3.11 ssl API selects one key-exchange group; P-256 is in Mozilla's list and
# every client supports it, whereas OpenSSL's default list also offers X448 and P-521.
KEY_EXCHANGE_GROUP = "prime256v1"


class CertificateStatus(StrEnum):
    """What ``ensure_dev_certificate`` did."""

    CREATED = "created"
    RENEWED = "renewed"
    REUSED = "reused"


@dataclass(frozen=True, slots=True)
class DevCertificatePaths:
    """Files of the development certificate authority and server certificate."""

    ca_cert: Path
    ca_key: Path
    cert: Path
    key: Path

    @classmethod
    def under(cls, tls_dir: Path) -> DevCertificatePaths:
        """The standard file names inside ``tls_dir``."""
        return cls(
            ca_cert=tls_dir / "dev-ca.pem",
            ca_key=tls_dir / "dev-ca.key",
            cert=tls_dir / "server.pem",
            key=tls_dir / "server.key",
        )


def server_ssl_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """A server context: TLS 1.2 minimum, 1.3 preferred, forward-secret AEAD suites only."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_3
    context.set_ciphers(":".join(TLS12_CIPHER_SUITES))
    context.set_ecdh_curve(KEY_EXCHANGE_GROUP)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION | ssl.OP_SINGLE_ECDH_USE
    context.load_cert_chain(certfile=cert_file, keyfile=key_file)
    return context


def ensure_dev_certificate(tls_dir: Path, now: datetime) -> CertificateStatus:
    """Create the development CA and server certificate, or renew one near expiry."""
    paths = DevCertificatePaths.under(tls_dir)
    if not (paths.ca_cert.exists() and paths.ca_key.exists()):
        _write_key_and_cert(paths.ca_key, paths.ca_cert, *_issue_ca(now))
        _write_key_and_cert(paths.key, paths.cert, *_issue_leaf(paths, now))
        return CertificateStatus.CREATED
    if paths.cert.exists() and paths.key.exists() and not _needs_renewal(paths.cert, now):
        return CertificateStatus.REUSED
    _write_key_and_cert(paths.key, paths.cert, *_issue_leaf(paths, now))
    return CertificateStatus.RENEWED


def is_development_certificate(cert_file: Path) -> bool:
    """Whether ``cert_file`` was issued by a TradeGuard development CA."""
    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    organizations = certificate.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return any(attribute.value == DEV_ORGANIZATION for attribute in organizations)


def _needs_renewal(cert_file: Path, now: datetime) -> bool:
    certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return certificate.not_valid_after_utc - now < RENEW_BEFORE_EXPIRY


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _issue_ca(now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name("TradeGuard Development CA")
    builder = (
        _base_builder(name, name, key.public_key(), now, CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
    )
    return key, builder.sign(key, hashes.SHA256())


def _issue_leaf(
    paths: DevCertificatePaths, now: datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    ca_key = serialization.load_pem_private_key(paths.ca_key.read_bytes(), password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{paths.ca_key} is not an ECDSA key")
    ca_cert = x509.load_pem_x509_certificate(paths.ca_cert.read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVER_NAMES]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in SERVER_ADDRESSES]
    builder = (
        _base_builder(_name("localhost"), ca_cert.subject, key.public_key(), now, LEAF_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(_authority_key_id(ca_cert), critical=False)
    )
    return key, builder.sign(ca_key, hashes.SHA256())


def _authority_key_id(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _base_builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    now: datetime,
    lifetime: timedelta,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + lifetime)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write_key_and_cert(
    key_file: Path, cert_file: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate
) -> None:
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_atomically(key_file, key_pem)
    write_atomically(cert_file, cert.public_bytes(serialization.Encoding.PEM), PUBLIC_MODE)
