"""The vault client: JSON over mutual TLS on loopback, failing closed.

Any failure to reach the vault (refused connection, handshake, timeout, an answer that
is not JSON) is ``VaultUnavailableError``, which the card routes answer with
``503 PAYMENT_VAULT_UNAVAILABLE``. The vault's own refusals come back as
``VaultRefusalError`` with its status and reason code.

Calls share a small pool of kept-alive mutual-TLS connections (an ``httpx2`` client,
safe across threads), so only a new connection pays the handshake; ``close`` ends them
(the application's shutdown calls it). Idle connections are dropped by the client
before the vault would close them.
"""

from __future__ import annotations

import ssl
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx2

POOL_CONNECTIONS = 16
IDLE_SECONDS = 30.0
"""An idle connection is dropped after this; the vault keeps them longer (its listener's
keep-alive), so a call never goes out on a connection the vault is closing."""


class VaultUnavailableError(Exception):
    """The vault could not be reached or did not answer properly."""


class VaultOffError(VaultUnavailableError):
    """This installation runs no payment vault (``vault_mode`` off)."""


@dataclass
class VaultRefusalError(Exception):
    """The vault answered a problem document."""

    status: int
    code: str
    detail: str
    extensions: dict[str, Any]


def client_context(ca_file: Path, cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """A TLS 1.2+ client context that trusts only ``ca_file`` and presents our certificate."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=cert_file, keyfile=key_file)
    return context


class VaultClient:
    """Calls the vault's internal API."""

    def __init__(
        self, host: str, port: int, context: ssl.SSLContext | None, timeout_seconds: float
    ) -> None:
        self.host = host
        self.port = port
        self.context = context
        self.timeout_seconds = timeout_seconds
        self.off = False
        self._pool: httpx2.Client | None = None
        self._closing: weakref.finalize[[], VaultClient] | None = None
        self._pool_lock = threading.Lock()

    @classmethod
    def unconfigured(cls, *, off: bool = False) -> VaultClient:
        """A client of no vault: every call fails closed.

        ``off``: the installation runs no vault at all (``VaultOffError``), rather than one
        whose client certificate is missing (``VaultUnavailableError``).
        """
        client = cls("127.0.0.1", 0, None, 1.0)
        client.off = off
        return client

    def issue_ticket(self, owner: str) -> dict[str, Any]:
        """A single-use intake ticket for ``owner``."""
        return self._call("POST", "/v1/intake-tickets", {"owner": owner})

    def cards(self, owner: str) -> list[dict[str, Any]]:
        """The owner's active cards."""
        answer = self._call("GET", f"/v1/owners/{quote(owner, safe='')}/cards")
        cards: list[dict[str, Any]] = answer["cards"]
        return cards

    def confirm(self, owner: str, card_id: str) -> dict[str, Any]:
        """Make a tokenized card of ``owner`` usable."""
        return self._call("POST", f"/v1/cards/{quote(card_id, safe='')}/confirm", {"owner": owner})

    def remove(self, owner: str, card_id: str) -> dict[str, Any]:
        """Remove a card of ``owner``."""
        return self._call("POST", f"/v1/cards/{quote(card_id, safe='')}/remove", {"owner": owner})

    def charge(
        self, owner: str, card_id: str, amount_cents: int, idempotency_key: str
    ) -> dict[str, Any]:
        """Charge a card once per idempotency key."""
        body = {
            "owner": owner,
            "card_id": card_id,
            "amount_cents": amount_cents,
            "idempotency_key": idempotency_key,
        }
        return self._call("POST", "/v1/charges", body)

    def health(self) -> dict[str, Any]:
        """The vault's health answer."""
        return self._call("GET", "/v1/health")

    def close(self) -> None:
        """Close the pooled connections (a later call opens new ones)."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
            closing, self._closing = self._closing, None
        if pool is not None and closing is not None:
            closing()  # closes the pool, once

    @property
    def connected(self) -> bool:
        """Whether the client holds a pool (open after the first call, until ``close``)."""
        return self._pool is not None

    def _connections(self, context: ssl.SSLContext) -> httpx2.Client:
        with self._pool_lock:
            if self._pool is None:
                limits = httpx2.Limits(
                    max_connections=POOL_CONNECTIONS,
                    max_keepalive_connections=POOL_CONNECTIONS,
                    keepalive_expiry=IDLE_SECONDS,
                )
                self._pool = httpx2.Client(
                    base_url=f"https://{self.host}:{self.port}",
                    verify=context,
                    timeout=self.timeout_seconds,
                    limits=limits,
                    trust_env=False,
                )
                # a client dropped without ``close`` still closes its sockets
                self._closing = weakref.finalize(self, self._pool.close)
            return self._pool

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        if self.context is None:
            if self.off:
                raise VaultOffError("this installation runs no payment vault")
            raise VaultUnavailableError("no payment vault is configured")
        pool = self._connections(self.context)
        try:
            response = pool.request(method, path, json=body)
            status = response.status_code
            answer: dict[str, Any] = response.json()
        except (httpx2.HTTPError, OSError, ValueError) as error:
            raise VaultUnavailableError(type(error).__name__) from None
        if status >= 400:  # noqa: PLR2004 - HTTP error statuses
            raise VaultRefusalError(
                status,
                str(answer.get("code", "VAULT_ERROR")),
                str(answer.get("detail", "")),
                answer,
            )
        return answer
