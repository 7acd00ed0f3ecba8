"""The development certificate authority and the server TLS context."""

from __future__ import annotations

import ssl
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import SignatureAlgorithmOID
from cryptography.x509.verification import PolicyBuilder, Store

from tradeguard.core.clock import FixedClock
from tradeguard.core.secure_files import is_private
from tradeguard.gateway.tls import (
    LEAF_LIFETIME,
    CertificateStatus,
    DevCertificatePaths,
    ensure_dev_certificate,
    is_development_certificate,
    server_ssl_context,
)


def _load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_dev_certificate_when_first_run_then_created_with_private_keys(
    tmp_path: Path, clock: FixedClock
) -> None:
    assert ensure_dev_certificate(tmp_path, clock.now()) is CertificateStatus.CREATED
    paths = DevCertificatePaths.under(tmp_path)
    assert is_private(paths.key)
    assert is_private(paths.ca_key)
    assert not is_private(paths.cert)


def test_dev_certificate_when_issued_then_p256_ecdsa_sha256_short_lived_for_localhost(
    tmp_path: Path, clock: FixedClock
) -> None:
    ensure_dev_certificate(tmp_path, clock.now())
    leaf = _load(DevCertificatePaths.under(tmp_path).cert)
    public_key = leaf.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert public_key.curve.name == "secp256r1"
    assert leaf.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA256
    assert (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days <= 366
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]


def test_dev_certificate_when_verified_then_chains_to_dev_ca(
    tmp_path: Path, clock: FixedClock
) -> None:
    ensure_dev_certificate(tmp_path, clock.now())
    paths = DevCertificatePaths.under(tmp_path)
    verifier = (
        PolicyBuilder()
        .store(Store([_load(paths.ca_cert)]))
        .time(clock.now())
        .build_server_verifier(x509.DNSName("localhost"))
    )
    chain = verifier.verify(_load(paths.cert), [])
    assert chain[-1] == _load(paths.ca_cert)


def test_dev_certificate_when_run_again_then_reused_unchanged(
    tmp_path: Path, clock: FixedClock
) -> None:
    ensure_dev_certificate(tmp_path, clock.now())
    before = DevCertificatePaths.under(tmp_path).cert.read_bytes()
    clock.advance(seconds=86_400)
    assert ensure_dev_certificate(tmp_path, clock.now()) is CertificateStatus.REUSED
    assert DevCertificatePaths.under(tmp_path).cert.read_bytes() == before


def test_dev_certificate_when_near_expiry_then_renewed_by_same_ca(
    tmp_path: Path, clock: FixedClock
) -> None:
    ensure_dev_certificate(tmp_path, clock.now())
    paths = DevCertificatePaths.under(tmp_path)
    ca_before, leaf_before = paths.ca_cert.read_bytes(), paths.cert.read_bytes()
    clock.advance(seconds=int((LEAF_LIFETIME - timedelta(days=10)).total_seconds()))
    assert ensure_dev_certificate(tmp_path, clock.now()) is CertificateStatus.RENEWED
    assert paths.ca_cert.read_bytes() == ca_before
    assert paths.cert.read_bytes() != leaf_before
    assert _load(paths.cert).not_valid_after_utc > clock.now() + timedelta(days=80)


def test_is_development_certificate_when_dev_or_other_then_told_apart(
    tmp_path: Path, clock: FixedClock, foreign_certificate: tuple[Path, Path]
) -> None:
    ensure_dev_certificate(tmp_path, clock.now())
    assert is_development_certificate(DevCertificatePaths.under(tmp_path).cert)
    assert not is_development_certificate(foreign_certificate[0])


def test_server_context_when_built_then_tls12_minimum_no_compression(
    tmp_path: Path, clock: FixedClock
) -> None:
    ensure_dev_certificate(tmp_path, clock.now())
    paths = DevCertificatePaths.under(tmp_path)
    context = server_ssl_context(paths.cert, paths.key)
    assert context.minimum_version is ssl.TLSVersion.TLSv1_2
    assert context.maximum_version is ssl.TLSVersion.TLSv1_3
    assert context.options & ssl.OP_NO_COMPRESSION
    assert context.options & ssl.OP_NO_RENEGOTIATION
    suites = {cipher["name"] for cipher in context.get_ciphers()}
    tls12 = {name for name in suites if not name.startswith("TLS_")}
    assert tls12
    assert all(
        name.startswith("ECDHE-") and ("GCM" in name or "CHACHA20" in name) for name in tls12
    )
