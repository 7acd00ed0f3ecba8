"""The NATS JetStream relay and partition consumers against the server on 127.0.0.1:4222."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy import select

from support import require_service
from tradeguard.cases.models import AlertRow
from tradeguard.cases.store import AlertStore
from tradeguard.watch.bus import BusLayout, PartitionConsumer, Relay, ensure_stream
from tradeguard.watch.models import WatchCursorRow
from tradeguard.watch.partitions import Partition
from tradeguard.watch.runner import CursorRunner
from unit.audit.audit_kit import AuditKit
from unit.watch.test_cursor_runner import BurstWatcher, alerts, place

NATS_URL = os.environ.get("TRADEGUARD_TEST_NATS_URL", "nats://127.0.0.1:4222")
T = TypeVar("T")


def on_bus(work: Callable[[JetStreamContext, BusLayout], Awaitable[T]]) -> T:
    """Run ``work`` with a JetStream context and a stream of its own, deleted afterwards."""
    tag = uuid.uuid4().hex[:10]
    layout = BusLayout(stream=f"TGTEST_{tag}", prefix=f"tgtest.{tag}", partitions=2)

    async def session() -> T:
        try:
            connection = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0)
        except Exception as exc:  # noqa: BLE001 - any failure to reach the server
            require_service(f"NATS not reachable at {NATS_URL}: {exc}")
        js = connection.jetstream()
        await ensure_stream(js, layout)
        try:
            return await work(js, layout)
        finally:
            await js.delete_stream(layout.stream)
            await connection.close()

    return asyncio.run(session())


def consumers(kit: AuditKit, store: AlertStore, layout: BusLayout) -> list[PartitionConsumer]:
    return [
        PartitionConsumer(
            CursorRunner(kit.sessions, store, BurstWatcher, kit.clock, partition=Partition(n, 2)),
            kit.sessions,
            layout,
            ack_wait_seconds=1.0,
            batch=4,
        )
        for n in range(2)
    ]


async def drain(js: JetStreamContext, partition_consumers: list[PartitionConsumer]) -> int:
    total = 0
    for consumer in partition_consumers:
        while (progress := await consumer.run_once(js, wait_seconds=0.5)) is not None:
            total += progress.events
    return total


def test_relay_when_it_republishes_after_a_crash_then_stream_drops_duplicates(
    kit: AuditKit,
) -> None:
    place(kit, ["a", "b", "c"])

    async def work(js: JetStreamContext, layout: BusLayout) -> int:
        relay = Relay(kit.sessions, layout, kit.clock)
        assert await relay.run_once(js) == 6
        with kit.sessions.begin() as db:  # the cursor's move was lost: publish all again
            db.get_one(WatchCursorRow, "nats-relay").seq = 0
        assert await relay.run_once(js) == 6
        info = await js.stream_info(layout.stream)
        return info.state.messages

    assert on_bus(work) == 6


def test_consumers_when_one_crashes_midway_then_restart_misses_and_doubles_nothing(
    kit: AuditKit, store: AlertStore
) -> None:
    accounts = ["a", "a", "b", "a", "b", "b", "a", "c", "c", "d"]
    place(kit, accounts, "AAA")
    place(kit, ["e", "e", "e", "f"], "BBB")
    failures = iter([True])

    def crash_once(_db: object, _row: AlertRow, event: str) -> None:
        if event == "alert.updated" and next(failures, False):
            raise ConnectionError("database went away")

    async def work(js: JetStreamContext, layout: BusLayout) -> int:
        await Relay(kit.sessions, layout, kit.clock).run_once(js)
        store.listen(crash_once)
        with pytest.raises(ConnectionError):
            await drain(js, consumers(kit, store, layout))
        restarted = consumers(kit, store, layout)  # fresh processes, same durable consumers
        for consumer in restarted:
            await js.consumer_info(layout.stream, consumer.durable)
        return await drain_with_redelivery(js, restarted)

    on_bus(work)
    assert alerts(kit) == {'["a"]': 4, '["b"]': 3, '["e"]': 3}
    with kit.sessions() as db:
        assert len(db.scalars(select(AlertRow)).all()) == 3


async def drain_with_redelivery(js: JetStreamContext, restarted: list[PartitionConsumer]) -> int:
    """Drain; unacknowledged messages come back after the consumer's ack wait."""
    total = await drain(js, restarted)
    await asyncio.sleep(1.2)
    return total + await drain(js, restarted)
