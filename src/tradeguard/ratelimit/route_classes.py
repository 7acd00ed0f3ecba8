"""Route classes: which limits a request pays and how early it is shed, from method and path.

``ROUTE_TABLE`` is the one place that names routes, and it names only routes the service
has (a row for a missing route would give its 404s the class's privileges). Paths are
matched as the router sees them, a trailing slash ignored (so ``/v1/auth/login/`` counts
as sign-in too); ``{name}`` stands for one path segment. A write that no row names is
``default``, a read is ``read``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import lru_cache


class RouteClass(StrEnum):
    """How a route is limited and shed."""

    AUTH = "auth"
    ORDER_ENTRY = "order_entry"
    ORDER_CANCEL = "order_cancel"
    READ = "read"
    DEFAULT = "default"
    OPERATIONS = "operations"


UNLIMITED = frozenset({RouteClass.OPERATIONS})
"""Never rate limited, never shed: health probes and metrics."""
OWNER_FREE = frozenset({RouteClass.ORDER_CANCEL})
"""Never refused to a caller who authenticates: cancelling orders. A request of the class
without credentials is limited per address and shed like any other, and one whose
credentials are refused is charged to its address's budget of the class; an
authenticated caller's cancel passes however spent that budget is."""

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

ROUTE_TABLE: tuple[tuple[str, str, RouteClass], ...] = (
    # sign-up, sign-in and second-factor answers, code sends, password resets
    ("POST", "/v1/auth/register", RouteClass.AUTH),
    ("POST", "/v1/auth/verify-email", RouteClass.AUTH),
    ("POST", "/v1/auth/verify-email/resend", RouteClass.AUTH),
    ("POST", "/v1/auth/login", RouteClass.AUTH),
    ("POST", "/v1/auth/mfa/send", RouteClass.AUTH),
    ("POST", "/v1/auth/mfa/webauthn/options", RouteClass.AUTH),
    ("POST", "/v1/auth/mfa/verify", RouteClass.AUTH),
    ("POST", "/v1/auth/passkey/options", RouteClass.AUTH),
    ("POST", "/v1/auth/passkey/login", RouteClass.AUTH),
    ("POST", "/v1/auth/password/forgot", RouteClass.AUTH),
    ("POST", "/v1/auth/password/reset", RouteClass.AUTH),
    ("POST", "/v1/auth/password", RouteClass.AUTH),
    ("POST", "/v1/auth/step-up/start", RouteClass.AUTH),
    ("POST", "/v1/auth/step-up", RouteClass.AUTH),
    ("POST", "/v1/mfa/sms", RouteClass.AUTH),
    ("POST", "/v1/mfa/email", RouteClass.AUTH),
    ("POST", "/v1/mfa/factors/{factor_id}/confirm", RouteClass.AUTH),
    ("POST", "/v1/me/email", RouteClass.AUTH),
    ("POST", "/v1/me/email/confirm", RouteClass.AUTH),
    ("POST", "/v1/staff/enrolment", RouteClass.AUTH),
    # orders
    ("POST", "/v1/orders", RouteClass.ORDER_ENTRY),
    ("PATCH", "/v1/orders/{order_id}", RouteClass.ORDER_ENTRY),
    ("DELETE", "/v1/orders", RouteClass.ORDER_CANCEL),
    ("DELETE", "/v1/orders/{order_id}", RouteClass.ORDER_CANCEL),
    # operations: probes and metrics must answer truthfully under load
    ("GET", "/healthz", RouteClass.OPERATIONS),
    ("GET", "/readyz", RouteClass.OPERATIONS),
    ("GET", "/metrics", RouteClass.OPERATIONS),
)


def _pattern(template: str) -> re.Pattern[str]:
    """``/v1/orders/{order_id}`` as a pattern matching one segment in place of the name."""
    segments = template.split("/")
    return re.compile("/".join("[^/]+" if s.startswith("{") else re.escape(s) for s in segments))


def _exact_routes() -> dict[tuple[str, str], RouteClass]:
    return {(method, path): cls for method, path, cls in ROUTE_TABLE if "{" not in path}


def _templated_routes() -> tuple[tuple[str, re.Pattern[str], RouteClass], ...]:
    return tuple((method, _pattern(path), cls) for method, path, cls in ROUTE_TABLE if "{" in path)


_EXACT = _exact_routes()
_TEMPLATED = _templated_routes()


@lru_cache(maxsize=4096)
def classify(method: str, path: str) -> RouteClass:
    """The class of a request to ``path`` with ``method``."""
    path = path.rstrip("/") or "/"
    found = _EXACT.get((method, path))
    if found is not None:
        return found
    for route_method, pattern, route_class in _TEMPLATED:
        if route_method == method and pattern.fullmatch(path):
            return route_class
    return RouteClass.READ if method in READ_METHODS else RouteClass.DEFAULT
