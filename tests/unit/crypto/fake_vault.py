"""A local stand-in for Vault's transit engine, spoken to over real HTTP on 127.0.0.1.

It implements the four endpoints the transit KEK uses, with Vault's wire format:
AES-256-GCM under one random key per version, ciphertext as
``vault:v<N>:<base64(nonce || ciphertext || tag)>``, the ``{"data": ...}``
response envelope, ``{"errors": [...]}`` with Vault's status codes and messages
(403 for a wrong ``X-Vault-Token``, 400 for ciphertext that does not open, 404
for an unknown mount). Like Vault, encrypt creates the key on first use.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import socket
import threading
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
_OPERATION = re.compile(r"/v1/(?P<mount>.+)/(?P<op>encrypt|decrypt|rewrap)/(?P<key>[^/]+)")
_ROTATE = re.compile(r"/v1/(?P<mount>.+)/keys/(?P<key>[^/]+)/(?P<op>rotate)")
_UNSUPPORTED_OPTIONS = frozenset(
    {"key_version", "context", "nonce", "batch_input", "associated_data", "convergent_encryption"}
)
_VERSIONED = re.compile(r"v(?P<version>[0-9]+):(?P<body>.*)", re.DOTALL)


class TransitError(Exception):
    """An error answer: HTTP status and Vault's message."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class TransitState:
    """The keys of one transit mount: name -> one AES-256 key per version."""

    def __init__(self) -> None:
        self._keys: dict[str, list[bytes]] = {}
        self._lock = threading.Lock()

    def encrypt(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        _refuse_unsupported(body)
        plaintext = _b64decode(body.get("plaintext"), "failed to base64-decode plaintext")
        with self._lock:
            versions = self._keys.setdefault(name, [AESGCM.generate_key(256)])
            return _seal(versions, plaintext)

    def decrypt(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        _refuse_unsupported(body)
        with self._lock:
            plaintext = _open(self._existing(name), body.get("ciphertext"))
        return {"plaintext": base64.b64encode(plaintext).decode("ascii")}

    def rewrap(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        _refuse_unsupported(body)
        with self._lock:
            versions = self._existing(name)
            return _seal(versions, _open(versions, body.get("ciphertext")))

    def rotate(self, name: str, _body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            versions = self._existing(name)
            versions.append(AESGCM.generate_key(256))
            return {
                "name": name,
                "type": "aes256-gcm96",
                "latest_version": len(versions),
                "keys": {str(number): 0 for number in range(1, len(versions) + 1)},
            }

    def _existing(self, name: str) -> list[bytes]:
        if name not in self._keys:
            raise TransitError(HTTPStatus.BAD_REQUEST, "encryption key not found")
        return self._keys[name]


def _refuse_unsupported(body: dict[str, Any]) -> None:
    """Fail loudly on options the fake does not model rather than ignore them."""
    unsupported = sorted(set(body) & _UNSUPPORTED_OPTIONS)
    if unsupported:
        raise TransitError(HTTPStatus.BAD_REQUEST, f"fake transit does not support {unsupported}")


def _seal(versions: list[bytes], plaintext: bytes) -> dict[str, Any]:
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = nonce + AESGCM(versions[-1]).encrypt(nonce, plaintext, None)
    encoded = base64.b64encode(sealed).decode("ascii")
    return {"ciphertext": f"vault:v{len(versions)}:{encoded}", "key_version": len(versions)}


def _open(versions: list[bytes], ciphertext: object) -> bytes:
    """Vault's checks, in Vault's order and with its messages."""
    if not isinstance(ciphertext, str) or not ciphertext.startswith("vault:"):
        raise TransitError(HTTPStatus.BAD_REQUEST, "invalid ciphertext: no prefix")
    match = _VERSIONED.fullmatch(ciphertext.removeprefix("vault:"))
    if match is None:
        raise TransitError(HTTPStatus.BAD_REQUEST, "invalid ciphertext: wrong number of fields")
    version = int(match["version"])
    if not 1 <= version <= len(versions):
        raise TransitError(HTTPStatus.BAD_REQUEST, "invalid ciphertext: version is too new")
    sealed = _b64decode(match["body"], "invalid ciphertext: could not decode base64")
    if len(sealed) < NONCE_BYTES:
        raise TransitError(HTTPStatus.BAD_REQUEST, "invalid ciphertext length")
    try:
        return AESGCM(versions[version - 1]).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], None
        )
    except InvalidTag:
        raise TransitError(
            HTTPStatus.BAD_REQUEST, "cipher: message authentication failed"
        ) from None


def _b64decode(value: object, message: str) -> bytes:
    try:
        return base64.b64decode(value if isinstance(value, str) else "!", validate=True)
    except binascii.Error:
        raise TransitError(HTTPStatus.BAD_REQUEST, message) from None


class _Handler(BaseHTTPRequestHandler):
    server: _FakeVaultServer

    def do_POST(self) -> None:
        try:
            data = self._dispatch()
        except TransitError as exc:
            self._reply(exc.status, {"errors": [exc.message]})
        else:
            self._reply(HTTPStatus.OK, _envelope(data))

    def _dispatch(self) -> dict[str, Any]:
        if self.headers.get("X-Vault-Token") != self.server.token:
            raise TransitError(HTTPStatus.FORBIDDEN, "permission denied")
        self.server.requests += 1
        route = _OPERATION.fullmatch(self.path) or _ROTATE.fullmatch(self.path)
        if route is None or route["mount"] != self.server.mount:
            raise TransitError(
                HTTPStatus.NOT_FOUND,
                f'no handler for route "{self.path.removeprefix("/v1/")}". route entry not found.',
            )
        operation = getattr(self.server.state, route["op"])
        result: dict[str, Any] = operation(route["key"], self._json_body())
        return result

    def _json_body(self) -> dict[str, Any]:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            raise TransitError(HTTPStatus.BAD_REQUEST, "failed to parse JSON input") from None
        if not isinstance(body, dict):
            raise TransitError(HTTPStatus.BAD_REQUEST, "failed to parse JSON input")
        return body

    def _reply(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
        encoded = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(encoded)))
        self.end_headers()
        self.wfile.write(encoded)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        """Stay quiet: test output is not the place for a request log."""


def _envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "request_id": str(uuid.uuid4()),
        "lease_id": "",
        "renewable": False,
        "lease_duration": 0,
        "data": data,
        "wrap_info": None,
        "warnings": None,
        "auth": None,
    }


class _FakeVaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, token: str, mount: str) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.token = token
        self.mount = mount
        self.state = TransitState()
        self.requests = 0


class _Served:
    """An HTTP server on a free loopback port, served from a thread while entered."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class FakeVault(_Served):
    """The fake transit server."""

    def __init__(self, token: str, mount: str = "transit") -> None:
        self._fake = _FakeVaultServer(token, mount)
        super().__init__(self._fake)
        self.token = token
        self.mount = mount

    @property
    def authenticated_requests(self) -> int:
        """How many requests carried the right token."""
        return self._fake.requests


class _RedirectHandler(BaseHTTPRequestHandler):
    server: _RedirectServer

    def do_POST(self) -> None:
        self.send_response(HTTPStatus.TEMPORARY_REDIRECT)
        self.send_header("Location", f"{self.server.target}{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        """Stay quiet."""


class _RedirectServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, target: str) -> None:
        super().__init__(("127.0.0.1", 0), _RedirectHandler)
        self.target = target


class Redirector(_Served):
    """A server that answers every request with 307 to ``target``, as a Vault standby may."""

    def __init__(self, target: str) -> None:
        super().__init__(_RedirectServer(target))


def unused_loopback_port() -> int:
    """A loopback port nothing listens on (free when asked)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port
