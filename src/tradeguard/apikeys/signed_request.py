"""A request as its signature sees it: the signed parts and where it came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.requests import Request


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """The parts of an HTTP request that its signature covers, and where it came from."""

    method: str
    path: str
    query: str
    body: bytes
    headers: Mapping[str, str]
    ip: str | None
    route: str
    request_id: str | None

    @classmethod
    def of(cls, request: Request, body: bytes) -> SignedRequest:
        """The signed parts of ``request`` whose body was read as ``body``."""
        raw_path: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
        route = request.scope.get("route")
        return cls(
            method=request.method,
            path=raw_path.decode("latin-1").split("?", 1)[0],
            query=request.scope.get("query_string", b"").decode("latin-1"),
            body=body,
            headers=request.headers,
            ip=request.client.host if request.client else None,
            route=getattr(route, "path", request.url.path),
            request_id=getattr(request.state, "request_id", None),
        )
