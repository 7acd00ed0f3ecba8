from __future__ import annotations

import pytest
from clocked_counters import ClockedCounters, WallClock
from limits_kit import kit, request

from tradeguard.core.errors import ProblemError
from tradeguard.ratelimit.adaptive import (
    AdaptiveRules,
    AdaptiveThrottle,
    LevelChange,
    is_rejection,
)
from tradeguard.ratelimit.policy import Limit
from tradeguard.ratelimit.route_classes import RouteClass

RULES = AdaptiveRules(
    window_seconds=60,
    min_rejections=4,
    rejected_percent=50,
    calm_requests=10,
    max_level=3,
    hold_seconds=600,
)


def _throttle() -> tuple[AdaptiveThrottle, WallClock]:
    wall = WallClock(1_795_000_020.0)  # 20 s into an aligned minute
    return AdaptiveThrottle(ClockedCounters(wall), RULES, wall), wall


def _reject(throttle: AdaptiveThrottle, times: int, client: str = "ip:a") -> list[LevelChange]:
    changes = [throttle.observe([client], rejected=True)[0] for _ in range(times)]
    return [change for change in changes if change is not None]


@pytest.mark.parametrize(
    ("reason_code", "rejected"),
    [
        ("AUTH_INVALID_CREDENTIALS", True),
        ("AUTH_THROTTLED", True),
        ("APIKEY_BAD_SIGNATURE", True),
        ("ACCESS_DENIED", True),
        ("RISK_PRICE_COLLAR", True),
        ("AUTH_TOKEN_EXPIRED", False),
        ("AUTH_STEP_UP_REQUIRED", False),
        ("VALIDATION_FAILED", False),
        ("NOT_FOUND", False),
        (None, False),
    ],
)
def test_is_rejection_when_reason_given_then_only_refusals_of_the_caller(
    reason_code: str | None, *, rejected: bool
) -> None:
    assert is_rejection(reason_code) is rejected


def test_observe_when_mostly_rejected_then_level_rises_at_each_batch() -> None:
    throttle, _ = _throttle()

    changes = _reject(throttle, 8)

    assert [(c.before, c.after) for c in changes] == [(0, 1), (1, 2)]
    assert throttle.level("ip:a") == 2
    assert throttle.level("ip:b") == 0


def test_observe_when_rejections_are_a_minority_then_level_stays() -> None:
    throttle, _ = _throttle()
    for _ in range(10):
        throttle.observe(["ip:a"], rejected=False)

    assert _reject(throttle, 4) == []
    assert throttle.level("ip:a") == 0


def test_observe_when_at_top_level_then_level_capped() -> None:
    throttle, _ = _throttle()

    _reject(throttle, 40)

    assert throttle.level("ip:a") == RULES.max_level


def test_observe_when_client_behaves_then_level_falls_one_step_per_calm_batch() -> None:
    throttle, wall = _throttle()
    _reject(throttle, 8)
    wall.advance(60)  # a new window

    changes = [throttle.observe(["ip:a"], rejected=False)[0] for _ in range(20)]

    relaxed = [change for change in changes if change is not None]
    assert [(c.before, c.after, c.tightened) for c in relaxed] == [(2, 1, False), (1, 0, False)]


def test_level_when_hold_lapses_then_back_to_zero() -> None:
    throttle, wall = _throttle()
    _reject(throttle, 4)
    wall.advance(599)
    assert throttle.level("ip:a") == 1

    wall.advance(1)

    assert throttle.level("ip:a") == 0


def test_level_when_tightened_again_at_top_then_hold_renewed() -> None:
    throttle, wall = _throttle()
    _reject(throttle, 12)
    wall.advance(500)
    _reject(throttle, 4)  # at the top already: no change, but the hold starts again

    wall.advance(500)

    assert throttle.level("ip:a") == RULES.max_level


@pytest.mark.parametrize(("level", "amount"), [(0, 30), (1, 15), (2, 7), (4, 1), (9, 1)])
def test_limit_adapted_when_level_rises_then_halved_down_to_one(level: int, amount: int) -> None:
    assert Limit(30, 60, "p/").adapted(level) == amount


def test_rate_limits_when_address_tightened_then_its_limit_is_halved() -> None:
    limits = kit(
        rate_limit_ip_read="4/minute",
        rate_limit_adaptive_min_rejections=2,
        rate_limit_adaptive_calm_requests=100,
    )
    state: dict[str, object] = {}
    for _ in range(2):
        limits.limits.observe(state, "203.0.113.7", rejected=True)
    limits.limits.admit_address(state, "203.0.113.7", RouteClass.READ)
    limits.limits.admit_address(state, "203.0.113.7", RouteClass.READ)

    with pytest.raises(ProblemError) as refused:
        limits.limits.admit_address(state, "203.0.113.7", RouteClass.READ)

    assert refused.value.extensions["adaptive_level"] == 1
    assert refused.value.headers["RateLimit-Limit"] == "2"
    [tightened] = [e for e in limits.client_events() if e.event_type == "ratelimit.tightened"]
    assert tightened.data == {
        "limit_scope": "ip",
        "level_before": 0,
        "level_after": 1,
        "answered": 2,
        "rejected": 2,
        "window_seconds": 60,
    }


def test_rate_limits_when_user_known_then_user_judged_too() -> None:
    limits = kit(rate_limit_adaptive_min_rejections=1)
    req = request()
    limits.limits.admit_caller(req, user_id="u1", api_key_id=None)

    limits.limits.observe(req.scope["state"], "203.0.113.7", rejected=True)

    subjects = sorted(e.client.subject for e in limits.client_events())
    assert subjects == ["ip:203.0.113.7", "user:u1"]
    assert limits.limits.adaptive is not None
    assert limits.limits.adaptive.level("user:u1") == 1


def test_rate_limits_when_adaptive_disabled_then_never_tightened() -> None:
    limits = kit(rate_limit_adaptive_enabled=False, rate_limit_adaptive_min_rejections=1)
    for _ in range(10):
        limits.limits.observe({}, "203.0.113.7", rejected=True)

    assert limits.events == []
    assert limits.counters.counts == {}
