"""The live HTTPS server: TLS versions, ciphers, plaintext refusal, Mozilla intermediate."""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import warnings
from pathlib import Path

import pytest
from sslyze import (
    CertificateInfoExtraArgument,
    ScanCommandsExtraArguments,
    Scanner,
    ServerNetworkLocation,
    ServerScanRequest,
    ServerScanStatusEnum,
)
from sslyze.mozilla_tls_profile.tls_config_checker import (
    MozillaTlsConfiguration,
    TlsConfigurationEnum,
    check_server_against_tls_configuration,
)

from support import LiveServer
from tradeguard.core.clock import SystemClock
from tradeguard.gateway.tls import DevCertificatePaths, ensure_dev_certificate

pytestmark = pytest.mark.live_server


def _handshake(server: LiveServer, context: ssl.SSLContext) -> ssl.SSLSocket:
    raw = socket.create_connection((server.host, server.port), timeout=10)
    return context.wrap_socket(raw, server_hostname="localhost")


def test_tls_when_modern_client_then_tls13_negotiated_without_compression(
    live_server: LiveServer,
) -> None:
    with _handshake(live_server, live_server.client_context()) as tls:
        assert tls.version() == "TLSv1.3"
        assert tls.compression() is None


def test_tls_when_client_offers_only_tls12_then_ecdhe_aead_suite(live_server: LiveServer) -> None:
    context = live_server.client_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    with _handshake(live_server, context) as tls:
        name, version, _ = tls.cipher()
        assert version == "TLSv1.2"
        assert name.startswith("ECDHE-ECDSA-")
        assert "GCM" in name or "CHACHA20" in name


def _pin_version(context: ssl.SSLContext, version: ssl.TLSVersion) -> ssl.SSLContext:
    context.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = version
    return context


def _legacy_client(version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return _pin_version(context, version)


def _legacy_server(tmp_path: Path, version: ssl.TLSVersion) -> tuple[int, threading.Thread]:
    """A throwaway server that accepts only ``version``, proving the client really offers it."""
    ensure_dev_certificate(tmp_path, SystemClock().now())
    paths = DevCertificatePaths.under(tmp_path)
    server_context = _pin_version(ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), version)
    server_context.load_cert_chain(paths.cert, paths.key)
    listener = socket.create_server(("127.0.0.1", 0))

    def accept_once() -> None:
        connection, _ = listener.accept()
        try:
            with server_context.wrap_socket(connection, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass
        finally:
            listener.close()

    thread = threading.Thread(target=accept_once, daemon=True)
    thread.start()
    return int(listener.getsockname()[1]), thread


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1])
def test_tls_when_client_offers_only_legacy_version_then_refused(
    live_server: LiveServer, tmp_path: Path, version: ssl.TLSVersion
) -> None:
    control_port, thread = _legacy_server(tmp_path, version)
    control = LiveServer("127.0.0.1", control_port, live_server.ca_file, live_server.log_file)
    with _handshake(control, _legacy_client(version)) as tls:
        assert tls.version() in {"TLSv1", "TLSv1.1"}
    thread.join(timeout=5)
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        _handshake(live_server, _legacy_client(version)).close()


def test_plain_http_when_sent_to_tls_port_then_never_served(live_server: LiveServer) -> None:
    with socket.create_connection((live_server.host, live_server.port), timeout=10) as raw:
        raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := raw.recv(4096):
            received += chunk
    assert not received.startswith(b"HTTP/")
    assert b'"status"' not in received


def test_unknown_path_when_requested_over_https_then_problem_404_with_request_id(
    live_server: LiveServer,
) -> None:
    response, body = live_server.get("/nope")
    assert response.status == 404
    assert response.getheader("content-type") == "application/problem+json"
    problem = json.loads(body)
    assert problem["request_id"] == response.getheader("x-request-id")
    assert problem["reason_code"] == "NOT_FOUND"
    assert response.getheader("server") is None


def test_access_log_when_request_served_then_json_line_with_id_route_status_latency(
    live_server: LiveServer,
) -> None:
    response, _ = live_server.get("/healthz")
    request_id = response.getheader("x-request-id")
    deadline = time.monotonic() + 5
    entry: dict[str, object] = {}
    while time.monotonic() < deadline and not entry:
        for line in live_server.log_file.read_text().splitlines():
            record = json.loads(line)
            if record.get("request_id") == request_id and record.get("event") == "http.request":
                entry = record
        time.sleep(0.1)
    assert entry["route"] == "/healthz"
    assert entry["status"] == 200
    assert isinstance(entry["latency_ms"], float)


# sslyze's bundled public trust stores hold a legacy root with a non-positive serial number.
@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")
def test_sslyze_when_scanning_then_mozilla_intermediate_compliant(live_server: LiveServer) -> None:

    location = ServerNetworkLocation("localhost", live_server.port, ip_address="127.0.0.1")
    request = ServerScanRequest(
        server_location=location,
        scan_commands_extra_arguments=ScanCommandsExtraArguments(
            certificate_info=CertificateInfoExtraArgument(custom_ca_file=live_server.ca_file)
        ),
    )
    scanner = Scanner()
    scanner.queue_scans([request])
    results = list(scanner.get_results())
    assert results[0].scan_status is ServerScanStatusEnum.COMPLETED
    certificate_scan = results[0].scan_result.certificate_info
    assert certificate_scan.error_trace is None, "".join(certificate_scan.error_trace.format())
    intermediate = MozillaTlsConfiguration.get(TlsConfigurationEnum.MOZILLA_INTERMEDIATE)
    check_server_against_tls_configuration(results[0], intermediate)
