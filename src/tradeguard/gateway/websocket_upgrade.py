"""WebSockets in the server: upgrades inside the connection limits, and a safe shutdown.

uvicorn's HTTP protocol hands an upgrade request over to its WebSocket protocol on the
same connection. Two things of ``LimitedHttpProtocol`` need care at that moment:

- its head deadline must stop for good: on a kept-alive connection the end of the
  upgrade request arms it for a next request head, and it would close the WebSocket
  connection ``header_timeout_seconds`` after the handshake;
- the connection limit: an upgrade starts no request task of the HTTP protocol, so the
  limit of requests never sees it. An upgrade while more than ``max_connections``
  connections are open, or while ``max_websockets`` WebSocket connections are, is
  refused ``503 SERVER_BUSY`` before the handshake. ``max_websockets`` below
  ``max_connections`` keeps room for the REST API, since each WebSocket connection
  holds a connection and an application task for as long as it stays open.

uvicorn's sans-I/O WebSocket protocol, at server shutdown, sends ``1012`` on every
connection it still holds, including one whose client has sent its close frame while
the TLS goodbye is still under way: a close frame there raises and stops the whole
shutdown (the application's lifespan end never runs). ``ShutdownSafeWebSocketProtocol``
just closes such a connection.
"""

from __future__ import annotations

from typing import ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from tradeguard.gateway.http_protocol import (
    BUSY_RETRY_AFTER_SECONDS,
    ConnectionLimits,
    LimitedHttpProtocol,
)
from tradeguard.gateway.request_limits import server_busy


def protocol_with_websockets(
    limits: ConnectionLimits, max_websockets: int
) -> type[UpgradingHttpProtocol]:
    """The HTTP protocol class to give uvicorn when WebSockets are on."""
    configured_limits, configured_max = limits, max_websockets

    class ConfiguredUpgradingProtocol(UpgradingHttpProtocol):
        limits = configured_limits
        max_websockets = configured_max

    return ConfiguredUpgradingProtocol


class UpgradingHttpProtocol(LimitedHttpProtocol):
    """The limited HTTP protocol, upgrading to WebSocket within the connection limits."""

    max_websockets: ClassVar[int]

    def handle_websocket_upgrade(self) -> None:
        """Stop this protocol's clocks, then upgrade, or refuse when the server is full."""
        self._disarm()
        self.reading_head = False
        if self._over_capacity() or self._websockets_open() >= self.max_websockets:
            self._refuse(server_busy(BUSY_RETRY_AFTER_SECONDS))
            return
        super().handle_websocket_upgrade()

    def _websockets_open(self) -> int:
        """The open connections that are no longer HTTP (counted on upgrades only)."""
        return sum(1 for other in self.connections if not isinstance(other, HttpToolsProtocol))


class ShutdownSafeWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, shut down safely while a close is in flight."""

    def shutdown(self) -> None:
        """Close a connection already closing; the others get uvicorn's ``1012``."""
        if self.handshake_complete and not self.close_sent and self.conn.state is not State.OPEN:
            self.stop_keepalive()
            self.transport.close()
            return
        super().shutdown()
