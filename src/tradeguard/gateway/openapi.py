"""Security in the OpenAPI document: the schemes, and on each operation the one it takes.

What an operation takes follows from what its route declares (``web.routing`` reads
the declarations as the permission matrix does): a route that requires a permission takes
a bearer access token, and also a signed API-key request when some API-key scope holds
that permission; a ``PUBLIC`` route takes none. ``/docs`` shows an Authorize button for
the schemes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from tradeguard.apikeys.scopes import Scope, scope_allows
from tradeguard.apikeys.signing import (
    HEADER_KEY,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
)
from tradeguard.core.permissions import Permission
from tradeguard.web.routing import PUBLIC_ROUTE, api_routes, declarations

BEARER = "AccessToken"
API_KEY = "SignedApiKey"
SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": (
            "The `access_token` that `POST /v1/auth/login` returns once the second factor "
            "is verified, sent as `Authorization: Bearer <token>`."
        ),
    },
    API_KEY: {
        "type": "apiKey",
        "in": "header",
        "name": HEADER_KEY,
        "description": (
            f"A request signed with an API key: `{HEADER_KEY}` (the key id) together with "
            f"`{HEADER_TIMESTAMP}` (Unix milliseconds), `{HEADER_NONCE}` (at least 128 "
            f"random bits, never reused) and `{HEADER_SIGNATURE}` (hex HMAC-SHA256 of the "
            "canonical request, keyed with the key's secret); see docs/api-signing.md. "
            "Only `trading` and `data` keys' routes accept it. This page cannot sign "
            "requests: use `tradeguard.client` or your own signer."
        ),
    },
}
"""The schemes, by the names the operations' requirements use."""


def install_openapi_security(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare the schemes and each operation's requirement."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        return with_security(generate(), app)

    # Replacing the method is FastAPI's documented way to extend the generated document.
    app.openapi = openapi  # type: ignore[method-assign]


def with_security(schema: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """``schema`` with the schemes and every documented operation's requirement (idempotent)."""
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    paths: dict[str, dict[str, Any]] = schema.get("paths", {})
    for route in api_routes(app):
        requirement = security_requirement(declarations(route))
        operations = paths.get(str(route.path_format), {})
        for method in route.methods or ():
            operation = operations.get(method.lower())
            if operation is not None and requirement:
                operation["security"] = requirement
    return schema


def security_requirement(declared: tuple[str, ...]) -> list[dict[str, list[str]]]:
    """The schemes an operation accepts (any one of them), from its route's declarations."""
    permissions = [Permission(name) for name in declared if name != PUBLIC_ROUTE]
    if not permissions:
        return []
    requirement: list[dict[str, list[str]]] = [{BEARER: []}]
    if all(any(scope_allows(scope, p) for scope in Scope) for p in permissions):
        requirement.append({API_KEY: []})
    return requirement
