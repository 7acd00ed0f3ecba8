"""Where a request comes from: address, user agent, request id and client device hints."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from starlette.requests import HTTPConnection

MAX_USER_AGENT = 256
MAX_HINT = 128


@dataclass(frozen=True, slots=True)
class Origin:
    """The network and client facts of one request, as identity uses them."""

    ip: str | None
    user_agent: str
    accept_language: str
    request_id: str | None
    device_hints: dict[str, str] = field(default_factory=dict)
    session_id: str | None = None
    """The session the request acts in, where a route knows it (credential changes)."""

    def in_session(self, session_id: str) -> Origin:
        """This origin, acting in the session ``session_id``."""
        return replace(self, session_id=session_id)

    @property
    def device_label(self) -> str:
        """The client's own name for its device, else its user agent (either may be empty)."""
        return self.device_hints.get("name") or self.user_agent

    @classmethod
    def of(
        cls,
        request: HTTPConnection,
        device_hints: dict[str, str] | None = None,
        request_id: str | None = None,
    ) -> Origin:
        """The origin of ``request``, with the device attributes the client sent.

        ``request_id`` names it where the request's state has none (a WebSocket's messages).
        """
        headers = request.headers
        return cls(
            ip=request.client.host if request.client else None,
            user_agent=headers.get("user-agent", "")[:MAX_USER_AGENT],
            accept_language=headers.get("accept-language", "")[:MAX_HINT],
            request_id=request_id or getattr(request.state, "request_id", None),
            device_hints={k[:MAX_HINT]: v[:MAX_HINT] for k, v in (device_hints or {}).items()},
        )
