from __future__ import annotations

import asyncio
import threading

import pytest
from clocked_counters import AwaitedClockedCounters, BatchedClockedCounters, WallClock
from limits_kit import kit, request

from tradeguard.core.errors import ProblemError
from tradeguard.ratelimit.clients import address_key
from tradeguard.ratelimit.limiter import VERDICTS
from tradeguard.ratelimit.route_classes import RouteClass

STATE = dict[str, object]


def _admit(limits_kit, ip: str = "203.0.113.7", route_class=RouteClass.AUTH) -> STATE:
    state: STATE = {"request_id": "req"}
    limits_kit.limits.admit_address(state, ip, route_class)
    return state


def test_admit_address_when_within_limit_then_headers_count_down() -> None:
    limits = kit(rate_limit_ip_auth="3/minute")
    _admit(limits)
    state = _admit(limits)

    headers = limits.limits.headers(state)

    assert headers == {
        "RateLimit-Limit": "3",
        "RateLimit-Remaining": "1",
        "RateLimit-Reset": "60",
        "RateLimit-Policy": "3;w=60",
    }


def test_admit_address_when_over_limit_then_429_with_retry_after_and_limit_headers() -> None:
    limits = kit(rate_limit_ip_auth="2/minute")
    _admit(limits)
    _admit(limits)
    limits.wall.advance(15)

    with pytest.raises(ProblemError) as refused:
        _admit(limits)

    error = refused.value
    assert (error.status, error.reason_code) == (429, "RATE_LIMITED")
    assert error.headers["Retry-After"] == "45"
    assert error.headers["RateLimit-Remaining"] == "0"
    assert error.headers["RateLimit-Reset"] == "45"
    assert error.extensions["limit_scope"] == "ip"
    assert error.extensions["route_class"] == "auth"


def test_admit_address_when_window_ends_then_allowed_again() -> None:
    limits = kit(rate_limit_ip_auth="1/minute")
    _admit(limits)
    with pytest.raises(ProblemError):
        _admit(limits)

    limits.wall.advance(60)

    _admit(limits)


def test_admit_address_when_other_address_or_class_then_counted_apart() -> None:
    limits = kit(rate_limit_ip_auth="1/minute")
    _admit(limits)

    _admit(limits, ip="198.51.100.1")
    _admit(limits, route_class=RouteClass.READ)


def test_admit_address_when_probe_then_never_counted() -> None:
    limits = kit(rate_limit_ip_default="1/minute", rate_limit_ip_read="1/minute")
    for _ in range(5):
        state = _admit(limits, route_class=RouteClass.OPERATIONS)
        assert state.get(VERDICTS) is None
    assert limits.counters.counts == {}


def test_admit_address_when_anonymous_cancels_over_budget_then_429() -> None:
    limits = kit(rate_limit_ip_order_cancel="2/minute")
    _admit(limits, route_class=RouteClass.ORDER_CANCEL)
    _admit(limits, route_class=RouteClass.ORDER_CANCEL)

    with pytest.raises(ProblemError) as refused:
        _admit(limits, route_class=RouteClass.ORDER_CANCEL)

    assert (refused.value.status, refused.value.reason_code) == (429, "RATE_LIMITED")
    assert refused.value.extensions["route_class"] == "order_cancel"
    assert refused.value.extensions["limit_scope"] == "ip"


def test_charge_unauthenticated_when_refused_cancels_over_budget_then_429_owner_still_free() -> (
    None
):
    limits = kit(rate_limit_ip_order_cancel="2/minute")
    for _ in range(2):
        limits.limits.charge_unauthenticated(request("DELETE", "/v1/orders/o-1"))

    with pytest.raises(ProblemError) as refused:
        limits.limits.charge_unauthenticated(request("DELETE", "/v1/orders/o-1"))
    for _ in range(5):
        limits.limits.admit_caller(
            request("DELETE", "/v1/orders/o-1"), user_id="u1", api_key_id="k1"
        )

    assert (refused.value.status, refused.value.extensions["route_class"]) == (429, "order_cancel")


def test_charge_unauthenticated_when_counted_on_arrival_or_other_class_then_not_again() -> None:
    limits = kit(rate_limit_ip_order_cancel="1/minute", rate_limit_ip_read="1/minute")
    anonymous = request("DELETE", "/v1/orders/o-1")
    limits.limits.admit_address(anonymous.scope["state"], "203.0.113.7", RouteClass.ORDER_CANCEL)

    limits.limits.charge_unauthenticated(anonymous)
    limits.limits.charge_unauthenticated(request("GET", "/v1/me"))

    assert sum(limits.counters.counts.values()) == 1


def test_admit_address_when_disabled_then_nothing_counted() -> None:
    limits = kit(rate_limit_enabled=False, rate_limit_ip_auth="1/minute")
    for _ in range(3):
        _admit(limits)
    assert limits.counters.counts == {}


def test_admit_address_when_store_fails_then_503_unavailable() -> None:
    limits = kit()
    limits.counters.failing = True

    with pytest.raises(ProblemError) as refused:
        _admit(limits)

    assert (refused.value.status, refused.value.reason_code) == (503, "RATE_LIMIT_UNAVAILABLE")
    assert refused.value.headers["Retry-After"] == "1"


def test_admit_caller_when_user_over_limit_then_429_for_the_user() -> None:
    limits = kit(rate_limit_user_read="2/minute")
    for _ in range(2):
        limits.limits.admit_caller(request(), user_id="u1", api_key_id=None)

    with pytest.raises(ProblemError) as refused:
        limits.limits.admit_caller(request(), user_id="u1", api_key_id=None)
    limits.limits.admit_caller(request(), user_id="u2", api_key_id=None)

    assert refused.value.status == 429
    assert refused.value.extensions["limit_scope"] == "user"
    assert refused.value.headers["RateLimit-Limit"] == "2"


def test_admit_caller_when_api_key_over_limit_then_429_for_the_key() -> None:
    limits = kit(rate_limit_api_key_order_entry="1/minute")
    limits.limits.admit_caller(request("POST", "/v1/orders"), user_id="u1", api_key_id="k1")

    with pytest.raises(ProblemError) as refused:
        limits.limits.admit_caller(request("POST", "/v1/orders"), user_id="u1", api_key_id="k1")
    limits.limits.admit_caller(request("POST", "/v1/orders"), user_id="u1", api_key_id="k2")

    assert refused.value.extensions["limit_scope"] == "api_key"
    assert refused.value.extensions["route_class"] == "order_entry"


def test_admit_caller_when_cancelling_orders_then_never_refused() -> None:
    limits = kit(rate_limit_user_default="1/minute", rate_limit_api_key_default="1/minute")
    for _ in range(5):
        limits.limits.admit_caller(
            request("DELETE", "/v1/orders/o-1"), user_id="u1", api_key_id="k1"
        )
        limits.limits.admit_caller(request("DELETE", "/v1/orders"), user_id="u1", api_key_id=None)
    assert limits.counters.counts == {}


def test_headers_when_several_limits_then_the_tightest_is_shown() -> None:
    limits = kit(rate_limit_ip_read="100/minute", rate_limit_user_read="5/minute")
    req = request()
    limits.limits.admit_address(req.scope["state"], "203.0.113.7", RouteClass.READ)
    limits.limits.admit_caller(req, user_id="u1", api_key_id=None)

    headers = limits.limits.headers(req.scope["state"])

    assert (headers["RateLimit-Limit"], headers["RateLimit-Remaining"]) == ("5", "4")


def test_refusals_when_repeated_in_a_window_then_one_throttled_event() -> None:
    limits = kit(rate_limit_ip_auth="1/minute")
    _admit(limits)
    for _ in range(4):
        with pytest.raises(ProblemError):
            _admit(limits)

    [event] = limits.client_events()

    assert event.event_type == "ratelimit.throttled"
    assert event.client.subject == "ip:203.0.113.7"
    assert event.data["limit"] == 1
    assert event.data["retry_after_seconds"] == 60
    assert event.request_id == "req"


def test_refusals_when_window_over_then_released_with_refusal_count() -> None:
    limits = kit(rate_limit_ip_auth="1/minute")
    _admit(limits)
    for _ in range(4):
        with pytest.raises(ProblemError):
            _admit(limits)
    limits.wall.advance(59)
    limits.limits.close_ended_episodes()
    assert limits.event_types() == ["ratelimit.throttled"]

    limits.wall.advance(1)
    limits.limits.close_ended_episodes()

    released = limits.client_events()[-1]
    assert released.event_type == "ratelimit.released"
    assert released.data["refusals"] == 4
    assert limits.limits.episodes.open_count == 0


def test_refusals_when_throttled_again_next_window_then_new_episode() -> None:
    limits = kit(rate_limit_ip_auth="1/minute")
    for _ in range(2):
        _admit_until_refused(limits)
        limits.wall.advance(60)

    assert limits.event_types() == [
        "ratelimit.throttled",
        "ratelimit.released",
        "ratelimit.throttled",
    ]


def _admit_until_refused(limits_kit) -> None:
    _admit(limits_kit)
    with pytest.raises(ProblemError):
        _admit(limits_kit)


@pytest.mark.parametrize(
    ("ip", "counted_as"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:1:2:3", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
        (None, "unknown"),
        ("testclient", "testclient"),
    ],
)
def test_address_key_when_ipv6_then_counted_per_64(ip: str | None, counted_as: str) -> None:
    assert address_key(ip) == counted_as


def test_admit_address_when_ipv6_rotated_within_a_64_then_one_limit() -> None:
    limits = kit(rate_limit_ip_auth="2/minute")
    _admit(limits, ip="2001:db8:1:2::1")
    _admit(limits, ip="2001:db8:1:2::2")

    with pytest.raises(ProblemError):
        _admit(limits, ip="2001:db8:1:2:9::3")


def test_admit_caller_when_called_twice_for_one_request_then_counted_once() -> None:
    limits = kit(rate_limit_user_read="1/minute")
    req = request()

    limits.limits.admit_caller(req, user_id="u1", api_key_id=None)
    limits.limits.admit_caller(req, user_id="u1", api_key_id=None)

    assert list(limits.counters.counts.values()) == [1]


def test_request_when_store_batches_then_each_count_and_the_judgement_is_one_round_trip() -> None:
    counters = BatchedClockedCounters(WallClock())
    limits = kit(
        counters, rate_limit_ip_order_entry="3/minute", rate_limit_user_order_entry="2/minute"
    )
    req = request("POST", "/v1/orders")
    state = req.scope["state"]

    limits.limits.admit_address(state, "203.0.113.7", RouteClass.ORDER_ENTRY)
    limits.limits.admit_caller(req, user_id="u1", api_key_id="k1")
    headers = limits.limits.headers(state)
    limits.limits.observe(state, "203.0.113.7", rejected=False)

    assert [[call[0] for call in batch] for batch in counters.batches] == [
        ["get", "incr", "expiry"],  # the address: its level, its count, its window's end
        ["get", "incr", "expiry", "incr", "expiry"],  # the user's, then the key's (no level)
        ["incr", "get", "incr", "get"],  # answered and rejected, for the address and the user
    ]
    assert (headers["RateLimit-Limit"], headers["RateLimit-Remaining"]) == ("2", "1")


def test_admit_caller_when_counters_can_be_awaited_then_counted_on_the_loop_as_by_a_thread() -> (
    None
):
    counters = AwaitedClockedCounters(WallClock())
    limits = kit(counters, rate_limit_api_key_order_entry="2/minute").limits

    async def place(times: int) -> list[ProblemError | None]:
        outcomes: list[ProblemError | None] = []
        for _ in range(times):
            try:
                await limits.admit_caller_async(
                    request("POST", "/v1/orders"), user_id="u1", api_key_id="k1"
                )
            except ProblemError as refused:
                outcomes.append(refused)
            else:
                outcomes.append(None)
        return outcomes

    first, second, third = asyncio.run(place(3))

    assert (first, second) == (None, None)
    assert third is not None
    assert (third.status, third.extensions["limit_scope"]) == (429, "api_key")
    assert set(counters.awaited_on) == {threading.get_ident()}  # no worker thread waited
    assert [call[0] for call in counters.batches[0]] == ["get", "incr", "expiry", "incr", "expiry"]


def test_admit_caller_async_when_counted_already_for_the_request_then_not_again() -> None:
    counters = AwaitedClockedCounters(WallClock())
    limits = kit(counters).limits
    req = request()

    limits.admit_caller(req, user_id="u1", api_key_id=None)
    asyncio.run(limits.admit_caller_async(req, user_id="u1", api_key_id=None))

    assert list(counters.counts.values()) == [1]
    assert counters.awaited_on == []
