"""`tradeguard watch`: the NATS relay, partition consumers and the cursors' lag.

With ``TRADEGUARD_EVENT_BUS_URL=nats://...`` one ``watch relay`` process publishes the
audit trail and ``watch run --partition N/M`` processes consume it (set
``TRADEGUARD_WATCH_EMBEDDED=false`` on the servers then). Automatic trading-state
actions need the trading desk, so they run in the server (embedded mode) only.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import nats
import typer
from sqlalchemy import select

from tradeguard.audit.head import head_sequence
from tradeguard.cases.store import AlertStore
from tradeguard.cli.runtime import CommandRuntime, command_runtime
from tradeguard.core.errors import ConfigurationError
from tradeguard.services import Services
from tradeguard.surveillance.wiring import surveillance_factory
from tradeguard.watch.bus import BusLayout, PartitionConsumer, Relay, ensure_stream
from tradeguard.watch.models import WatchCursorRow
from tradeguard.watch.partitions import Partition
from tradeguard.watch.runner import CursorRunner
from tradeguard.web.metrics import HttpMetrics

app = typer.Typer(help="Watchers: relay the audit trail to NATS, consume partitions, show lag.")
IDLE_SECONDS = 0.2


@app.command("status")
def status() -> None:
    """Every cursor, where it stands and how far behind the trail it is."""
    with command_runtime() as runtime, runtime.sessions() as db:
        head = head_sequence(db)
        for row in db.scalars(select(WatchCursorRow).order_by(WatchCursorRow.name)):
            typer.echo(f"{row.name}\tat {row.seq}\tlag {head - row.seq}")


@app.command("relay")
def relay(
    once: Annotated[bool, typer.Option(help="Publish what is there, then stop")] = False,
) -> None:
    """Publish the audit trail to the event bus, in order, from the relay's cursor."""
    with command_runtime() as runtime:
        asyncio.run(_relay(runtime, once=once))


@app.command("run")
def run(
    partition: Annotated[str, typer.Option(help="N/M: this process's partition")] = "1/1",
    once: Annotated[bool, typer.Option(help="Drain what is there, then stop")] = False,
) -> None:
    """Consume one partition of the trail with the surveillance watcher."""
    chosen = Partition.parse(partition)
    with command_runtime() as runtime:
        asyncio.run(_consume(runtime, chosen, once=once))


def _layout(runtime: CommandRuntime) -> tuple[str, BusLayout]:
    settings = runtime.settings
    if settings.event_bus_url is None:
        raise ConfigurationError("set TRADEGUARD_EVENT_BUS_URL=nats://host:port first")
    layout = BusLayout(settings.event_bus_stream, "tradeguard.audit", settings.event_bus_partitions)
    return settings.event_bus_url, layout


async def _relay(runtime: CommandRuntime, *, once: bool) -> None:
    url, layout = _layout(runtime)
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        await ensure_stream(js, layout)
        publisher = Relay(runtime.sessions, layout, runtime.clock)
        while True:
            published = await publisher.run_once(js)
            if once and not published:
                return
            if not published:
                await asyncio.sleep(IDLE_SECONDS)
    finally:
        await connection.close()


async def _consume(runtime: CommandRuntime, partition: Partition, *, once: bool) -> None:
    url, layout = _layout(runtime)
    if partition.count != layout.partitions:
        raise ConfigurationError(
            f"the bus has {layout.partitions} partitions, not {partition.count}"
        )
    services = Services(
        runtime.settings,
        runtime.clock,
        runtime.engine,
        runtime.sessions,
        runtime.crypto,
        runtime.audit,
        HttpMetrics(),
    )
    store = AlertStore(runtime.audit, runtime.clock)
    factory = surveillance_factory(services)
    runner = CursorRunner(runtime.sessions, store, factory, runtime.clock, partition=partition)
    connection = await nats.connect(url)
    try:
        js = connection.jetstream()
        await ensure_stream(js, layout)
        consumer = PartitionConsumer(runner, runtime.sessions, layout)
        while await consumer.run_once(js) is not None or not once:
            pass
    finally:
        await connection.close()
