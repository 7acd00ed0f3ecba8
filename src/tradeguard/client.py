"""A client for TradeGuard's API that signs every request with an API key.

It uses the standard library only (``http.client`` over TLS), so an integration needs
nothing else installed. Against ``make run``'s server, trust its development CA::

    import os
    import ssl

    from tradeguard.client import TradeGuardClient

    tls = ssl.create_default_context(cafile="var/tls/dev-ca.pem")
    client = TradeGuardClient(
        "https://localhost:8443", os.environ["KEY_ID"], os.environ["SECRET"], ssl_context=tls
    )
    order = {
        "client_order_id": "client-doc-0001",
        "symbol": "AAPL",
        "side": "buy",
        "type": "limit",
        "quantity": 5,
        "limit_price": "229.25",
    }
    response = client.post("/v1/orders", order)
    response.raise_for_status()
    print(response.json()["status"])

With a certificate from a public CA, leave ``ssl_context`` out: the system's trust store
is used. Each request gets a fresh 128-bit nonce and the current time; the signature
covers the method, path, query (the values of a repeated parameter in the order given)
and body (see ``docs/api-signing.md``). A client object
holds one connection: use one per thread.
"""

from __future__ import annotations

import http.client
import json
import platform
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from tradeguard import __version__
from tradeguard.apikeys.signing import signed_headers

JSON_TYPE = "application/json"
USER_AGENT = f"tradeguard-client/{__version__} (Python {platform.python_version()})"
DEFAULT_TIMEOUT_SECONDS = 10.0

Params = Mapping[str, str] | Sequence[tuple[str, str]]
"""Query parameters: a mapping, or pairs when a name repeats (sent, and signed, in order)."""


def unix_ms() -> int:
    """The current Unix time in milliseconds."""
    return time.time_ns() // 1_000_000


class ApiError(Exception):
    """A response with an error status; ``problem`` is its problem document."""

    def __init__(self, response: ClientResponse) -> None:
        self.response = response
        self.problem: dict[str, Any] = response.json_or_empty()
        reason = self.problem.get("reason_code", "")
        super().__init__(f"{response.status} {reason}: {self.problem.get('detail', '')}".strip())


@dataclass(frozen=True)
class ClientResponse:
    """A response: status, headers (lower-case names) and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:  # noqa: ANN401 - a JSON document of any shape
        """The body parsed as JSON."""
        return json.loads(self.body)

    def json_or_empty(self) -> dict[str, Any]:
        """The body as a JSON object, or an empty one when it is not."""
        try:
            parsed = self.json()
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def raise_for_status(self) -> None:
        """Raise ``ApiError`` for a 4xx or 5xx response."""
        if self.status >= 400:  # noqa: PLR2004 - the first error status
            raise ApiError(self)


@dataclass
class TradeGuardClient:
    """Signs and sends requests for one API key."""

    base_url: str
    key_id: str
    secret: str
    ssl_context: ssl.SSLContext | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    clock_ms: Callable[[], int] = unix_ms
    _connection: http.client.HTTPSConnection | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        return f"TradeGuardClient({self.base_url!r}, key_id={self.key_id!r})"  # never the secret

    def get(self, path: str, params: Params | None = None) -> ClientResponse:
        """A signed GET; repeated parameters (given as pairs) are sent in their order."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: Any = None) -> ClientResponse:  # noqa: ANN401 - any JSON body
        """A signed POST with a JSON body."""
        return self.request("POST", path, body=body)

    def patch(self, path: str, body: Any = None) -> ClientResponse:  # noqa: ANN401 - any JSON body
        """A signed PATCH with a JSON body."""
        return self.request("PATCH", path, body=body)

    def delete(self, path: str) -> ClientResponse:
        """A signed DELETE."""
        return self.request("DELETE", path)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,  # noqa: ANN401 - any JSON body
    ) -> ClientResponse:
        """Sign and send one request; the response whatever its status."""
        pairs = list(params.items()) if isinstance(params, Mapping) else list(params or ())
        query = urlencode(pairs)
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        headers = self.signing_headers(method, path, query, payload)
        headers["User-Agent"] = USER_AGENT
        if payload:
            headers["Content-Type"] = JSON_TYPE
        target = f"{path}?{query}" if query else path
        return self._send(method, target, payload, headers)

    def signing_headers(self, method: str, path: str, query: str, body: bytes) -> dict[str, str]:
        """The TG-* headers of one request (for sending it with another HTTP library)."""
        return signed_headers(
            self.key_id,
            self.secret,
            method=method,
            path=path,
            query=query,
            body=body,
            timestamp_ms=self.clock_ms(),
        )

    def close(self) -> None:
        """Close the connection."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _send(
        self, method: str, target: str, payload: bytes, headers: dict[str, str]
    ) -> ClientResponse:
        connection = self._connect()
        try:
            connection.request(method, target, body=payload or None, headers=headers)
            answer = connection.getresponse()
            data = answer.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        names = {name.lower(): value for name, value in answer.getheaders()}
        return ClientResponse(answer.status, names, data)

    def _connect(self) -> http.client.HTTPSConnection:
        if self._connection is None:
            url = urlsplit(self.base_url)
            if url.scheme != "https" or url.hostname is None:
                raise ValueError("the base URL must be https://host[:port]")
            self._connection = http.client.HTTPSConnection(
                url.hostname,
                url.port or 443,
                timeout=self.timeout,
                context=self.ssl_context or ssl.create_default_context(),
            )
        return self._connection
