"""The feed hub: each user's events to that user's subscriptions only, in ``seq`` order,
from any thread; bounded backlogs, per-user caps, revocation and shutdown."""

from __future__ import annotations

import asyncio
import json
import math
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tradeguard.trading.feed.hub import FeedEndReason, FeedHub, FeedRefusedError, Subscription

ALICE = "user-alice"
BOB = "user-bob"


def run(scenario: Callable[[FeedHub], Awaitable[Any]], **options: int) -> Any:
    hub = FeedHub(max_pending=options.get("max_pending", 8), max_per_user=options.get("cap", 3))
    return asyncio.run(scenario(hub))


def order(number: int) -> dict[str, Any]:
    return {"type": "order", "order": {"id": f"o-{number}", "quantity": number}}


async def drained(subscription: Subscription) -> list[dict[str, Any]]:
    """The events the subscription holds now (the loop has run the deliveries)."""
    await asyncio.sleep(0)
    events = []
    while subscription.pending:
        text = await subscription.next_event()
        assert text is not None
        events.append(json.loads(text))
    return events


def test_publish_when_nobody_watches_then_nothing_happens_and_no_seq_is_kept() -> None:
    async def scenario(hub: FeedHub) -> list[dict[str, Any]]:
        hub.publish(ALICE, order(1))
        with hub.subscribe(ALICE) as subscription:
            assert subscription.start_seq == 0
            hub.publish(ALICE, order(2))
            return await drained(subscription)

    assert run(scenario) == [{"type": "order", "order": {"id": "o-2", "quantity": 2}, "seq": 1}]


def test_publish_when_two_users_watch_then_each_sees_only_their_own_events() -> None:
    async def scenario(hub: FeedHub) -> tuple[list[str], list[str]]:
        with hub.subscribe(ALICE) as alice, hub.subscribe(BOB) as bob:
            hub.publish(ALICE, order(1))
            hub.publish(BOB, order(2))
            hub.publish(ALICE, order(3))
            return (
                [event["order"]["id"] for event in await drained(alice)],
                [event["order"]["id"] for event in await drained(bob)],
            )

    assert run(scenario) == (["o-1", "o-3"], ["o-2"])


def test_seq_when_a_user_has_two_subscriptions_then_both_see_the_same_numbers() -> None:
    async def scenario(hub: FeedHub) -> tuple[list[int], list[int], int]:
        with hub.subscribe(ALICE) as first:
            hub.publish(ALICE, order(1))
            with hub.subscribe(ALICE) as second:
                hub.publish(ALICE, {**order(2), "seq": 999})
                return (
                    [event["seq"] for event in await drained(first)],
                    [event["seq"] for event in await drained(second)],
                    second.start_seq,
                )

    assert run(scenario) == ([1, 2], [2], 1)


def test_publish_when_called_from_worker_threads_then_events_arrive_in_seq_order() -> None:
    async def scenario(hub: FeedHub) -> list[dict[str, Any]]:
        with hub.subscribe(ALICE) as subscription:
            workers = [
                threading.Thread(target=lambda n=n: [hub.publish(ALICE, order(n)) for _ in "ab"])
                for n in range(4)
            ]
            for worker in workers:
                worker.start()
            for worker in workers:
                await asyncio.to_thread(worker.join)
            return await drained(subscription)

    events = run(scenario, max_pending=100)
    assert [event["seq"] for event in events] == list(range(1, 9))
    assert sorted(event["order"]["id"] for event in events) == sorted(
        f"o-{n}" for n in range(4) for _ in "ab"
    )


def test_subscription_when_it_falls_behind_then_it_is_ended_and_forgotten() -> None:
    async def scenario(hub: FeedHub) -> tuple[FeedEndReason, int, str | None, int]:
        with hub.subscribe(ALICE) as slow, hub.subscribe(ALICE) as keeping_up:
            for number in range(3):
                hub.publish(ALICE, order(number))
                assert len(await drained(keeping_up)) == 1
            reason = await asyncio.wait_for(slow.ended(), timeout=5)
            return reason, slow.pending, await slow.next_event(), hub.watching(ALICE)

    assert run(scenario, max_pending=2) == (FeedEndReason.SLOW_CONSUMER, 0, None, 1)


def test_subscribe_when_the_user_is_at_the_cap_then_refused_until_one_ends() -> None:
    async def scenario(hub: FeedHub) -> int:
        with hub.subscribe(ALICE), hub.subscribe(ALICE):
            with pytest.raises(FeedRefusedError) as refused:
                hub.subscribe(ALICE).__enter__()
            assert refused.value.reason is FeedEndReason.TOO_MANY_CONNECTIONS
            with hub.subscribe(BOB):
                assert hub.watching(BOB) == 1
        with hub.subscribe(ALICE):
            return hub.watching(ALICE)

    assert run(scenario, cap=2) == 1


def test_close_user_when_called_from_another_thread_then_only_that_user_is_ended() -> None:
    async def scenario(hub: FeedHub) -> tuple[FeedEndReason, FeedEndReason | None, int]:
        with hub.subscribe(ALICE) as alice, hub.subscribe(BOB) as bob:
            await asyncio.to_thread(hub.close_user, ALICE)
            reason = await asyncio.wait_for(alice.ended(), timeout=5)
            hub.publish(ALICE, order(1))
            return reason, bob.end_reason, hub.watching(ALICE)

    assert run(scenario) == (FeedEndReason.SESSION_REVOKED, None, 0)


def test_close_when_the_application_stops_then_all_end_and_new_ones_are_refused() -> None:
    async def scenario(hub: FeedHub) -> list[FeedEndReason]:
        with hub.subscribe(ALICE) as alice, hub.subscribe(BOB) as bob:
            hub.close()
            reasons = [await asyncio.wait_for(s.ended(), timeout=5) for s in (alice, bob)]
            hub.publish(ALICE, order(1))
            with pytest.raises(FeedRefusedError) as refused:
                hub.subscribe(ALICE).__enter__()
            assert refused.value.reason is FeedEndReason.SHUTTING_DOWN
            return reasons

    assert run(scenario) == [FeedEndReason.SHUTTING_DOWN, FeedEndReason.SHUTTING_DOWN]


def test_publish_when_an_event_is_not_json_then_skipped_but_its_seq_is_used_up() -> None:
    async def scenario(hub: FeedHub) -> list[int]:
        with hub.subscribe(ALICE) as subscription:
            hub.publish(ALICE, order(1))
            hub.publish(ALICE, {"type": "order", "order": {"price": math.nan}})
            hub.publish(ALICE, {"type": "order", "order": {"tags": {"a", "b"}}})
            hub.publish(ALICE, order(4))
            return [event["seq"] for event in await drained(subscription)]

    assert run(scenario) == [1, 4]


def test_seq_when_the_last_subscription_ends_then_the_user_starts_again() -> None:
    async def scenario(hub: FeedHub) -> tuple[int, int]:
        with hub.subscribe(ALICE) as first:
            hub.publish(ALICE, order(1))
            await drained(first)
        with hub.subscribe(ALICE) as again:
            return hub.watching(ALICE), again.start_seq

    assert run(scenario) == (1, 0)


def test_publish_when_a_subscriptions_loop_is_gone_then_it_is_dropped_without_error() -> None:
    hub = FeedHub(max_pending=4, max_per_user=2)
    never_left = hub.subscribe(ALICE)

    async def subscribe_and_leave() -> None:
        never_left.__enter__()  # its loop ends with the subscription open

    asyncio.run(subscribe_and_leave())
    assert hub.watching(ALICE) == 1
    hub.publish(ALICE, order(1))
    hub.close_user(BOB)
    hub.close()
    assert hub.watching(ALICE) == 0


def test_next_event_when_waiting_then_wakes_for_a_published_event() -> None:
    async def scenario(hub: FeedHub) -> dict[str, Any]:
        with hub.subscribe(ALICE) as subscription:
            waiting = asyncio.create_task(subscription.next_event())
            await asyncio.sleep(0)
            await asyncio.to_thread(hub.publish, ALICE, order(7))
            text = await asyncio.wait_for(waiting, timeout=5)
            assert text is not None
            parsed: dict[str, Any] = json.loads(text)
            return parsed

    assert run(scenario) == {"type": "order", "order": {"id": "o-7", "quantity": 7}, "seq": 1}


def test_hub_when_built_with_no_room_then_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        FeedHub(max_pending=0, max_per_user=1)
