from __future__ import annotations

import pytest

from tradeguard.ratelimit.route_classes import ROUTE_TABLE, RouteClass, classify


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/v1/auth/login", RouteClass.AUTH),
        ("POST", "/v1/auth/login/", RouteClass.AUTH),
        ("POST", "/v1/auth/register", RouteClass.AUTH),
        ("POST", "/v1/auth/mfa/send", RouteClass.AUTH),
        ("POST", "/v1/auth/mfa/verify", RouteClass.AUTH),
        ("POST", "/v1/auth/password/forgot", RouteClass.AUTH),
        ("POST", "/v1/mfa/factors/f-1/confirm", RouteClass.AUTH),
        ("POST", "/v1/orders", RouteClass.ORDER_ENTRY),
        ("PATCH", "/v1/orders/o-1", RouteClass.ORDER_ENTRY),
        ("DELETE", "/v1/orders/o-1", RouteClass.ORDER_CANCEL),
        ("DELETE", "/v1/orders", RouteClass.ORDER_CANCEL),
        ("POST", "/v1/orders/o-1/cancel", RouteClass.DEFAULT),  # no such route
        ("POST", "/v1/orders/cancel-all", RouteClass.DEFAULT),
        ("GET", "/v1/orders/o-1", RouteClass.READ),
        ("GET", "/healthz", RouteClass.OPERATIONS),
        ("GET", "/metrics", RouteClass.OPERATIONS),
        ("HEAD", "/v1/me", RouteClass.READ),
        ("POST", "/v1/auth/refresh", RouteClass.DEFAULT),
        ("PUT", "/v1/account/ip-allowlist", RouteClass.DEFAULT),
        ("DELETE", "/v1/orders/o-1/fills", RouteClass.DEFAULT),
        ("POST", "/", RouteClass.DEFAULT),
    ],
)
def test_classify_when_method_and_path_given_then_its_class(
    method: str, path: str, expected: RouteClass
) -> None:
    assert classify(method, path) is expected


def test_classify_when_path_only_resembles_a_route_then_not_its_class() -> None:
    assert classify("POST", "/v1/auth/loginx") is RouteClass.DEFAULT
    assert classify("POST", "/v1/orders/o-1/cancel/more") is RouteClass.DEFAULT
    assert classify("GET", "/v1/auth/login") is RouteClass.READ


def test_route_table_when_read_then_no_route_is_named_twice() -> None:
    routes = [(method, path) for method, path, _ in ROUTE_TABLE]
    assert len(routes) == len(set(routes))
