"""The gateway: the one gate every HTTP request and every WebSocket passes.

TLS server settings (``tls``, ``server``), connection and request limits
(``http_protocol``, ``request_limits``, ``websocket_upgrade``), rate limits
(``rate_limits``), token and API-key authentication and the permission check with its
audit log (``guard`` for routes, ``feed_gate`` for the order feed), and the one place
where domain errors become problem+json (``problems``). Routes declare what they need with
``tradeguard.web.routing``; no package below the gateway imports it.
"""
