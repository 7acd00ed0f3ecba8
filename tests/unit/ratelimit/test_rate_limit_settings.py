from __future__ import annotations

import pytest

from tradeguard.config import load_settings
from tradeguard.core.errors import ConfigurationError
from tradeguard.ratelimit.policy import LimitPolicy
from tradeguard.ratelimit.route_classes import RouteClass
from tradeguard.ratelimit.verdicts import LimitScope


@pytest.mark.parametrize("text", ["lots", "0/minute", "5/fortnight", "1/minute;2/hour", "9/2 days"])
def test_rate_limit_setting_when_not_one_valid_limit_then_refused(text: str) -> None:
    with pytest.raises(ConfigurationError, match="rate_limit_ip_auth"):
        load_settings(_env_file=None, rate_limit_ip_auth=text)


def test_rate_limit_setting_when_from_environment_then_parsed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADEGUARD_RATE_LIMIT_USER_ORDER_ENTRY", "5 per 10 seconds")

    policy = LimitPolicy.from_settings(load_settings(_env_file=None))

    limit = policy.limit(LimitScope.USER, RouteClass.ORDER_ENTRY)
    assert limit is not None
    assert (limit.amount, limit.window_seconds) == (5, 10)


def test_policy_when_defaults_then_auth_strictest_and_cancels_limited_per_address_only() -> None:
    policy = LimitPolicy.from_settings(load_settings(_env_file=None))

    def amount(scope: LimitScope, route_class: RouteClass) -> int:
        limit = policy.limit(scope, route_class)
        assert limit is not None
        return limit.amount

    for scope in (LimitScope.IP, LimitScope.USER):
        assert amount(scope, RouteClass.AUTH) < amount(scope, RouteClass.ORDER_ENTRY)
        assert amount(scope, RouteClass.ORDER_ENTRY) < amount(scope, RouteClass.READ)
    assert amount(LimitScope.IP, RouteClass.ORDER_CANCEL) == 120
    for scope in (LimitScope.USER, LimitScope.API_KEY):
        assert policy.limit(scope, RouteClass.ORDER_CANCEL) is None
    assert policy.limit(LimitScope.API_KEY, RouteClass.AUTH) is None
