"""The OpenAPI document's security and responses, derived from the route declarations.

What an operation takes follows from what its route declares (``web.routing`` reads
the declarations as the permission matrix does): a route that requires a permission takes
a bearer access token, and also a signed API-key request when some API-key scope holds
that permission; a ``PUBLIC`` route takes none. ``/docs`` shows an Authorize button for
the schemes.

What an operation can answer follows from the same facts (``derived_statuses``): the
gateway's limits answer on every route, a body can be malformed, too large or not JSON, a
declared permission can be refused, a path parameter can name nothing, and a route that is
rate limited can be told to wait. The statuses a route lists itself (``responses=``, its
domain refusals) stay, with their descriptions. Every error is a problem document
(``application/problem+json``) of the one ``Problem`` schema.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import RouteContext

from tradeguard.apikeys.scopes import Scope, scope_allows
from tradeguard.apikeys.signing import (
    HEADER_KEY,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
)
from tradeguard.core.errors import PROBLEM_CONTENT_TYPE
from tradeguard.core.permissions import Permission
from tradeguard.ratelimit.route_classes import UNLIMITED, classify
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


PROBLEM = "Problem"
FIELD_ERROR = "FieldError"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": PROBLEM,
    "type": "object",
    "description": (
        "An RFC 9457 problem document. Compare `type` or `reason_code`, never `title` or "
        "`detail`. Extensions explain the refusal: `errors` (422 validation), `inputs` and "
        "`threshold` (denials), `expected_content_type` (415), `server_time_ms` (clock skew)."
    ),
    "required": ["type", "title", "status", "detail", "instance", "reason_code", "request_id"],
    "properties": {
        "type": {"type": "string", "description": "Stable URN of the kind of problem"},
        "title": {"type": "string"},
        "status": {"type": "integer", "description": "The HTTP status"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "The request's path"},
        "reason_code": {"type": "string", "description": "Why, in one stable word"},
        "request_id": {"type": "string", "description": "Also the X-Request-ID header"},
        "errors": {"type": "array", "items": {"$ref": f"#/components/schemas/{FIELD_ERROR}"}},
        "inputs": {"type": "object"},
        "threshold": {},
        "expected_content_type": {"type": "string"},
        "server_time_ms": {"type": "integer"},
    },
    "additionalProperties": True,
}
FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": FIELD_ERROR,
    "type": "object",
    "description": "One field that failed validation; the value sent is not repeated back.",
    "required": ["location", "message", "type"],
    "properties": {
        "location": {"type": "array", "items": {"type": "string"}},
        "message": {"type": "string"},
        "type": {"type": "string"},
    },
}
PROBLEM_CONTENT: dict[str, Any] = {
    PROBLEM_CONTENT_TYPE: {"schema": {"$ref": f"#/components/schemas/{PROBLEM}"}}
}
FRAMEWORK_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
"""FastAPI's default 422 body, which TradeGuard never sends."""
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}

GENERIC_RESPONSES: dict[int, tuple[str, str]] = {
    400: (
        "BadRequest",
        (
            "Not valid HTTP, a body that does not parse as JSON or malformed API-key headers "
            "(MALFORMED_REQUEST, MALFORMED_BODY, APIKEY_*)"
        ),
    ),
    401: ("Unauthenticated", "No valid access token or API-key signature (AUTH_*, APIKEY_*)"),
    403: (
        "Forbidden",
        (
            "Authenticated but not allowed (ACCESS_DENIED, APIKEY_SCOPE, "
            "AUTH_MFA_ENROLLMENT_REQUIRED, AUTH_STEP_UP_REQUIRED, ...)"
        ),
    ),
    404: ("NotFound", "Nothing the caller may see at this path (NOT_FOUND, ...)"),
    408: ("ClientTooSlow", "The request was not received in time (CLIENT_TOO_SLOW)"),
    413: ("RequestTooLarge", "The body is over the size limit (REQUEST_TOO_LARGE)"),
    415: ("UnsupportedMediaType", "The body is not sent as JSON (UNSUPPORTED_MEDIA_TYPE)"),
    422: ("ValidationFailed", "A body field or parameter is malformed (VALIDATION_FAILED)"),
    429: ("RateLimited", "Too many requests; wait Retry-After seconds (RATE_LIMITED)"),
    431: ("HeadersTooLarge", "Too many or too large header fields (HEADERS_TOO_LARGE)"),
    500: ("InternalError", "Our fault; quote the request id (INTERNAL_ERROR)"),
    503: (
        "Unavailable",
        (
            "Busy, shedding load or a dependency is down; retry after Retry-After "
            "(SERVER_BUSY, OVERLOADED, ...)"
        ),
    ),
    504: (
        "ResponseTimeout",
        "No response within the deadline; the request may still take effect (REQUEST_TIMEOUT)",
    ),
}
"""Each status the gateway can answer on its own: the shared response's name, its meaning."""
EVERY_ROUTE = frozenset({400, 408, 431, 500, 503, 504})
"""What the server and the gateway's limits can answer on any request."""
BODY_STATUSES = frozenset({413, 415, 422})
AUTHENTICATED_STATUSES = frozenset({401, 403})


@dataclass(frozen=True, slots=True)
class OperationFacts:
    """What one operation's answers follow from."""

    method: str
    path: str
    requires_permission: bool
    has_body: bool
    has_parameters: bool
    has_path_parameters: bool


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` declare the schemes, requirements and responses of each operation."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        return with_responses(with_security(generate(), app), app)

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


def derived_statuses(facts: OperationFacts) -> frozenset[int]:
    """Every error status an operation can answer, from what its route declares."""
    statuses = set(EVERY_ROUTE)
    if facts.has_body:
        statuses |= BODY_STATUSES
    if facts.has_parameters:
        statuses.add(422)
    if facts.has_path_parameters:
        statuses.add(404)
    if facts.requires_permission:
        statuses |= AUTHENTICATED_STATUSES
    if classify(facts.method, facts.path) not in UNLIMITED:
        statuses.add(429)
    return frozenset(statuses)


def operation_facts(route: RouteContext, method: str) -> OperationFacts:
    """The facts of ``route`` answering ``method``."""
    dependant = route.dependant
    parameters = [
        *dependant.path_params,
        *dependant.query_params,
        *dependant.header_params,
        *dependant.cookie_params,
    ]
    return OperationFacts(
        method=method,
        path=str(route.path_format),
        requires_permission=bool(security_requirement(declarations(route))),
        has_body=bool(dependant.body_params),
        has_parameters=bool(parameters),
        has_path_parameters=bool(dependant.path_params),
    )


def with_responses(schema: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """``schema`` with every operation's derived error responses, all problem documents."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in FRAMEWORK_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas[PROBLEM] = PROBLEM_SCHEMA
    schemas[FIELD_ERROR] = FIELD_ERROR_SCHEMA
    components["responses"] = _shared_responses()
    paths: dict[str, dict[str, Any]] = schema.get("paths", {})
    for route in api_routes(app):
        operations = paths.get(str(route.path_format), {})
        for method in route.methods or ():
            operation = operations.get(method.lower())
            if operation is not None:
                statuses = derived_statuses(operation_facts(route, method))
                operation["responses"] = _documented(operation.get("responses", {}), statuses)
    return schema


def _shared_responses() -> dict[str, dict[str, Any]]:
    shared: dict[str, dict[str, Any]] = {}
    for status, (name, description) in GENERIC_RESPONSES.items():
        response: dict[str, Any] = {"description": description, "content": PROBLEM_CONTENT}
        if status in {429, 503}:
            response["headers"] = RETRY_AFTER
        shared[name] = response
    return shared


def _documented(
    responses: dict[str, dict[str, Any]], statuses: frozenset[int]
) -> dict[str, dict[str, Any]]:
    """The route's own responses, every error as a problem document, plus the derived ones."""
    found = dict(responses)
    for status in statuses:
        listed = found.get(str(status))
        if listed is None or _is_framework_validation(listed):
            found[str(status)] = {"$ref": f"#/components/responses/{GENERIC_RESPONSES[status][0]}"}
    for code, response in found.items():
        if code.isdigit() and int(code) >= 400 and "$ref" not in response:  # noqa: PLR2004 - errors
            found[code] = {**response, "content": PROBLEM_CONTENT}
    return dict(sorted(found.items()))


def _is_framework_validation(response: dict[str, Any]) -> bool:
    """Whether ``response`` is FastAPI's default 422 entry (``HTTPValidationError``)."""
    content = response.get("content", {})
    schema_ref = str(content.get("application/json", {}).get("schema", {}).get("$ref", ""))
    return schema_ref.endswith(f"/{FRAMEWORK_VALIDATION_SCHEMAS[0]}")
